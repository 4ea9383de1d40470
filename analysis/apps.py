from django.apps import AppConfig


class AnalysisConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "analysis"
    verbose_name = "Model discovery"

    def ready(self) -> None:
        from celery.signals import worker_ready

        from . import leftovers, read_limits

        # Every read of an upload in this process is bounded by the settings' limits.
        read_limits.install()
        # A worker starting clears the partial files crashed work left behind.
        worker_ready.connect(leftovers.clear_stale_partials, weak=False)
