from django.urls import path

from . import api

urlpatterns = [
    path("datasets/", api.datasets, name="api_datasets"),
    path("uploads/", api.upload_begin, name="api_upload_begin"),
    path("uploads/<str:upload_id>/", api.upload_detail, name="api_upload_detail"),
    path("uploads/<str:upload_id>/finish/", api.upload_finish, name="api_upload_finish"),
    path("datasets/<int:pk>/", api.dataset_detail, name="api_dataset_detail"),
    path("datasets/<int:pk>/runs/", api.run_start, name="api_run_start"),
    path("runs/<int:pk>/", api.run_detail, name="api_run_detail"),
    path("runs/<int:pk>/finish/", api.run_finish, name="api_run_finish"),
    path("candidates/<int:pk>/predict/", api.predict, name="api_predict"),
    path("candidates/<int:pk>/export/", api.export_zip, name="api_export_zip"),
    path("candidates/<int:pk>/export/files/", api.export_files, name="api_export_files"),
    path("candidates/<int:pk>/confirm/", api.candidate_confirm, name="api_candidate_confirm"),
]
