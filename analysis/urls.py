from django.urls import path

from . import dataset_pages, deployment_pages, prediction_pages, run_pages, serving_views, views

urlpatterns = [
    path("", dataset_pages.home, name="home"),
    path("datasets/upload/", dataset_pages.dataset_upload, name="dataset_upload"),
    path("datasets/<int:pk>/", dataset_pages.dataset_detail, name="dataset_detail"),
    path("datasets/<int:pk>/delete/", dataset_pages.dataset_delete, name="dataset_delete"),
    path("datasets/<int:pk>/reread/", dataset_pages.dataset_reprofile, name="dataset_reprofile"),
    path("datasets/<int:pk>/rename/", dataset_pages.dataset_rename, name="dataset_rename"),
    path("runs/<int:pk>/", views.run_detail, name="run_detail"),
    path("runs/<int:pk>/compare/", views.run_compare, name="run_compare"),
    path("runs/<int:pk>/compare-runs/", views.run_compare_runs, name="run_compare_runs"),
    path(
        "runs/<int:pk>/deployments/",
        deployment_pages.deployment_create,
        name="deployment_create",
    ),
    path("deployments/<int:pk>/", deployment_pages.deployment_page, name="deployment_page"),
    path(
        "deployments/<int:pk>/delete/",
        deployment_pages.deployment_delete,
        name="deployment_delete",
    ),
    path("serving/", serving_views.serving_page, name="serving_page"),
    path("serving/clear/", serving_views.serving_clear, name="serving_clear"),
    path("examples/<slug:slug>/", dataset_pages.example_create, name="example_create"),
    path("runs/<int:pk>/cancel/", views.run_cancel, name="run_cancel"),
    path("runs/<int:pk>/finish/", views.run_finish, name="run_finish"),
    path("runs/<int:pk>/retry/", views.run_retry, name="run_retry"),
    path("runs/<int:pk>/delete/", run_pages.run_delete, name="run_delete"),
    path("candidates/<int:pk>/code/", views.candidate_export_preview, name="candidate_code"),
    path("candidates/<int:pk>/export/", views.candidate_export, name="candidate_export"),
    path("candidates/<int:pk>/predict/", views.candidate_predict, name="candidate_predict"),
    path(
        "candidates/<int:pk>/predict/file/",
        prediction_pages.prediction_file_upload,
        name="prediction_file_upload",
    ),
    path(
        "prediction-files/<int:pk>/",
        prediction_pages.prediction_file_page,
        name="prediction_file_page",
    ),
    path(
        "prediction-files/<int:pk>/download/",
        prediction_pages.prediction_file_download,
        name="prediction_file_download",
    ),
    path("candidates/<int:pk>/confirm/", views.candidate_confirm, name="candidate_confirm"),
    path(
        "candidates/<int:pk>/confirmation/",
        views.candidate_confirmation,
        name="candidate_confirmation",
    ),
]
