from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from .api import candidates, chunks, datasets, deployments, prediction_files, runs, serving

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api_schema"), name="api_docs"),
    path("datasets/", datasets.DatasetList.as_view(), name="api_datasets"),
    path("uploads/", chunks.upload_begin, name="api_upload_begin"),
    path("uploads/<str:upload_id>/", chunks.upload_detail, name="api_upload_detail"),
    path("uploads/<str:upload_id>/finish/", chunks.upload_finish, name="api_upload_finish"),
    path("datasets/<int:pk>/", datasets.dataset_detail, name="api_dataset_detail"),
    path("datasets/<int:pk>/reread/", datasets.dataset_reread, name="api_dataset_reread"),
    path("datasets/<int:pk>/runs/", runs.run_start, name="api_run_start"),
    path("deployments/", deployments.DeploymentList.as_view(), name="api_deployments"),
    path("deployments/<int:pk>/", deployments.deployment_detail, name="api_deployment_detail"),
    path(
        "deployments/<int:pk>/predict/",
        deployments.deployment_predict,
        name="api_deployment_predict",
    ),
    path(
        "deployments/<int:pk>/metrics/",
        deployments.deployment_metrics_view,
        name="api_deployment_metrics",
    ),
    path("serving/metrics/", serving.metrics, name="api_serving_metrics"),
    path("serving/clear/", serving.clear, name="api_serving_clear"),
    path("examples/", datasets.examples, name="api_examples"),
    path("examples/<slug:slug>/", datasets.example_create, name="api_example_create"),
    path("runs/", runs.RunList.as_view(), name="api_runs"),
    path("runs/<int:pk>/", runs.run_detail, name="api_run_detail"),
    path("runs/<int:pk>/finish/", runs.run_finish, name="api_run_finish"),
    path("runs/<int:pk>/cancel/", runs.run_cancel, name="api_run_cancel"),
    path("runs/<int:pk>/retry/", runs.run_retry, name="api_run_retry"),
    path("runs/<int:pk>/leaderboard/", runs.run_leaderboard, name="api_run_leaderboard"),
    path("runs/<int:pk>/insights/", runs.run_insights, name="api_run_insights"),
    path("runs/<int:pk>/charts/", runs.run_charts, name="api_run_charts"),
    path("runs/<int:pk>/compare/", runs.run_compare, name="api_run_compare"),
    path("runs/<int:pk>/compare-runs/", runs.run_compare_runs, name="api_run_compare_runs"),
    path("candidates/<int:pk>/", candidates.candidate_detail, name="api_candidate_detail"),
    path("candidates/<int:pk>/charts/", candidates.candidate_charts, name="api_candidate_charts"),
    path("candidates/<int:pk>/predict/", candidates.predict, name="api_predict"),
    path(
        "candidates/<int:pk>/predict/file/", prediction_files.predict_file, name="api_predict_file"
    ),
    path(
        "prediction-files/<int:pk>/", prediction_files.prediction_file, name="api_prediction_file"
    ),
    path(
        "prediction-files/<int:pk>/result/",
        prediction_files.prediction_file_result,
        name="api_prediction_file_result",
    ),
    path("candidates/<int:pk>/export/", candidates.export_zip, name="api_export_zip"),
    path("candidates/<int:pk>/export/files/", candidates.export_files, name="api_export_files"),
    path(
        "candidates/<int:pk>/confirm/", candidates.candidate_confirm, name="api_candidate_confirm"
    ),
]
