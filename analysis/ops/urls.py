from django.urls import path

from . import views

urlpatterns = [
    path("", views.dashboard, name="ops_dashboard"),
    path("panels/<slug:name>/", views.ops_panel, name="ops_panel"),
    path("runs/<int:pk>/requeue/", views.stuck_run_requeue, name="ops_run_requeue"),
    path("runs/<int:pk>/fail/", views.stuck_run_fail, name="ops_run_fail"),
]
