from django.apps import AppConfig


class AnalysisConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "analysis"
    verbose_name = "Model discovery"

    def ready(self) -> None:
        from celery.signals import worker_ready
        from django.contrib.auth import signals as auth

        from . import audit, leftovers, read_limits

        # Every read of an upload in this process is bounded by the settings' limits.
        read_limits.install()
        # A worker starting clears the partial files crashed work left behind.
        worker_ready.connect(leftovers.clear_stale_partials, weak=False)
        # Signing in, out, and failing to (the form, the admin, the API's basic auth).
        auth.user_logged_in.connect(audit.on_signed_in, dispatch_uid="audit_sign_in")
        auth.user_logged_out.connect(audit.on_signed_out, dispatch_uid="audit_sign_out")
        auth.user_login_failed.connect(audit.on_sign_in_failed, dispatch_uid="audit_failed")
