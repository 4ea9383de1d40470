"""The admin: every model with useful columns, filters, search and read-only computed
fields, and the actions staff need — cancel, retry, read again, rebuild an export — each
calling the same service the pages call. Deleting anything here goes through the
delete services, so its stored files go with its rows (never a bare queryset delete).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import Count, Q, Sum
from django.urls import path, reverse
from django.utils.html import format_html

from . import file_store, services
from .admin_uploads import open_uploads, uploads_page
from .audit import AuditEntry
from .batch_predictions import BatchPrediction
from .deployments import Deployment, DeploymentChange
from .failures import FailureTrace
from .limits import amount
from .models import CandidateResult, Dataset, Export, Run
from .storage import run_prefix
from .tokens import ApiToken
from .user_limits import UserLimits

User = get_user_model()


def _stored_bytes(prefix: str) -> int:
    storage = file_store.storage()
    return sum(storage.size(name) for name in file_store.walk(prefix))


def _file_bytes(field) -> str:
    try:
        return amount(field.size) if field else "—"
    except OSError:
        return "missing"


def _seconds(start, end) -> str:
    if not start or not end:
        return "—"
    return f"{(end - start).total_seconds():,.0f} s"


def _each(modeladmin, request, queryset, service, done: str) -> None:
    """Call `service` on each selected object; a refusal is shown, not raised."""
    count = 0
    for obj in queryset:
        try:
            if service(obj) is not False:
                count += 1
        except services.ServiceError as exc:
            modeladmin.message_user(request, f"{obj}: {exc}", messages.WARNING)
    modeladmin.message_user(request, f"{done}: {count}.")


class DeleteWithFilesMixin:
    """Deleting one object or a selection calls `delete_service` for each."""

    delete_service = None

    def delete_model(self, request, obj) -> None:
        type(self).delete_service(obj)

    def delete_queryset(self, request, queryset) -> None:
        for obj in queryset:
            type(self).delete_service(obj)

    def get_deleted_objects(self, objs, request):
        """Candidates and deployment history cannot be deleted on their own, but go
        with their run: they do not stop the run's deletion."""
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        with_parent = {m._meta.verbose_name for m in (CandidateResult, DeploymentChange)}
        return deleted, counts, perms_needed - with_parent, protected


class ReadOnlyMixin:
    """Viewed only: rows written by the system (candidates, the audit log)."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# Users, their limits and tokens


class UserLimitsInline(admin.StackedInline):
    model = UserLimits
    can_delete = True
    extra = 0
    max_num = 1
    verbose_name_plural = "limits (blank: the settings' default)"


@admin.register(UserLimits)
class UserLimitsAdmin(admin.ModelAdmin):
    list_display = ("user", "max_upload_bytes", "storage_quota_bytes", "max_concurrent_runs",
                    "max_time_budget")  # fmt: skip
    search_fields = ("user__username", "user__email")
    autocomplete_fields = ("user",)


admin.site.unregister(User)


@admin.register(User)
class PromiseUserAdmin(DeleteWithFilesMixin, UserAdmin):
    delete_service = staticmethod(lambda user: services.user_delete(user=user))
    inlines = [UserLimitsInline]
    list_display = ("username", "email", "is_staff", "is_active", "datasets", "storage",
                    "active_runs", "open_uploads", "last_login", "date_joined")  # fmt: skip

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_datasets=Count("dataset", distinct=True),
                n_active=Count("run", filter=Q(run__status__in=Run.ACTIVE), distinct=True),
            )
        )

    @admin.display(ordering="n_datasets")
    def datasets(self, user) -> int:
        return user.n_datasets

    @admin.display(ordering="n_active", description="runs going")
    def active_runs(self, user) -> int:
        return user.n_active

    def get_urls(self):
        page = self.admin_site.admin_view(lambda r: uploads_page(r, self.admin_site))
        return [path("uploads/", page, name="auth_user_uploads"), *super().get_urls()]

    @admin.display(description="unfinished uploads")
    def open_uploads(self, user) -> str:
        count = len(open_uploads(user.pk))
        if not count:
            return "0"
        return format_html('<a href="{}">{}</a>', reverse("admin:auth_user_uploads"), count)

    @admin.display(description="stored")
    def storage(self, user) -> str:
        used = Dataset.objects.filter(owner=user).aggregate(n=Sum("size_bytes"))["n"] or 0
        return amount(used)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "shown", "created_at", "last_used_at")
    list_filter = ("created_at", "last_used_at")
    search_fields = ("name", "owner__username", "shown")
    readonly_fields = ("owner", "key_hash", "shown", "created_at", "last_used_at")

    def has_add_permission(self, request) -> bool:
        return False  # a token's key is shown once, to its owner, on their page


# Datasets, runs, candidates, exports


@admin.register(Dataset)
class DatasetAdmin(DeleteWithFilesMixin, admin.ModelAdmin):
    delete_service = staticmethod(lambda dataset: services.dataset_delete(dataset=dataset))
    list_display = ("name", "owner", "status", "size", "row_count", "column_count", "runs",
                    "created_at")  # fmt: skip
    list_filter = ("status", "created_at")
    search_fields = ("name", "owner__username", "sha256")
    date_hierarchy = "created_at"
    readonly_fields = ("size", "file", "sha256", "status", "error", "row_count", "column_count",
                       "profile", "read_options", "created_at", "updated_at")  # fmt: skip
    fields = ("owner", "name", *readonly_fields)
    actions = ["read_again"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("owner").annotate(n_runs=Count("runs"))

    @admin.display(ordering="size_bytes")
    def size(self, dataset) -> str:
        return amount(dataset.size_bytes)

    @admin.display(ordering="n_runs")
    def runs(self, dataset) -> int:
        return dataset.n_runs

    @admin.action(description="Read the selected datasets' files again")
    def read_again(self, request, queryset):
        _each(
            self,
            request,
            queryset,
            lambda d: services.dataset_reprofile(dataset=d, options=d.read_options),
            "Datasets being read again",
        )


class CandidateInline(admin.TabularInline):
    model = CandidateResult
    extra = 0
    fields = ("label", "status", "rank", "cv_mean", "fit_seconds", "error")
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Run)
class RunAdmin(DeleteWithFilesMixin, admin.ModelAdmin):
    delete_service = staticmethod(lambda run: services.run_delete(run=run))
    list_display = ("id", "dataset", "owner", "target", "task", "status", "best_score",
                    "duration", "time_budget", "created_at")  # fmt: skip
    list_filter = ("status", "task", "sample_strategy", "created_at")
    search_fields = ("=id", "target", "dataset__name", "owner__username")
    date_hierarchy = "created_at"
    readonly_fields = ("owner", "dataset", "status", "error", "duration", "best_score",
                       "folder_size", "metric", "recommended", "plan", "insights",
                       "second_round", "sample_rows", "total_rows", "worker_task_id",
                       "created_at", "started_at", "finished_at",
                       "finish_requested_at")  # fmt: skip
    inlines = [CandidateInline]
    actions = ["cancel", "retry"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("owner", "dataset")

    @admin.display(description="best score")
    def best_score(self, run) -> str:
        best = run.candidates.filter(rank=1).only("metrics").first()
        score = best.metrics.get(run.metric) if best else None
        return "—" if score is None else f"{run.metric} {score:.4g}"

    @admin.display(description="duration")
    def duration(self, run) -> str:
        return _seconds(run.started_at, run.finished_at)

    @admin.display(description="files")
    def folder_size(self, run) -> str:
        return amount(_stored_bytes(run_prefix(run.pk)))

    @admin.action(description="Cancel the selected runs")
    def cancel(self, request, queryset):
        _each(self, request, queryset, lambda r: services.run_cancel(run=r), "Runs cancelled")

    @admin.action(description="Retry the selected runs (failed or cancelled)")
    def retry(self, request, queryset):
        _each(self, request, queryset, lambda r: services.run_retry(run=r), "Runs started again")


@admin.register(CandidateResult)
class CandidateResultAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Read-only: a candidate goes with its run (delete the run)."""

    list_display = ("label", "run", "status", "rank", "score", "cv_mean", "fit_seconds",
                    "model_size", "confirm_status", "attempts")  # fmt: skip
    list_filter = ("status", "name", "confirm_status", "second_round")
    search_fields = ("label", "run__dataset__name", "run__owner__username", "=run__id")
    readonly_fields = ("score", "model_size")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("run")

    @admin.display(description="score")
    def score(self, candidate) -> str:
        value = candidate.metrics.get(candidate.run.metric)
        return "—" if value is None else f"{value:.4g}"

    @admin.display(ordering="model_bytes", description="model")
    def model_size(self, candidate) -> str:
        return "—" if candidate.model_bytes is None else amount(candidate.model_bytes)


@admin.register(Export)
class ExportAdmin(DeleteWithFilesMixin, admin.ModelAdmin):
    delete_service = staticmethod(lambda export: services.export_delete(export=export))
    list_display = ("id", "candidate", "owner", "size", "created_at")
    list_filter = ("created_at",)
    search_fields = ("owner__username", "candidate__label", "file")
    readonly_fields = ("owner", "candidate", "file", "size", "contents_sha256", "created_at")
    actions = ["rebuild"]

    def has_add_permission(self, request) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("owner", "candidate")

    @admin.display(description="size")
    def size(self, export) -> str:
        return _file_bytes(export.file)

    @admin.action(description="Rebuild the selected exports")
    def rebuild(self, request, queryset):
        _each(
            self, request, queryset, lambda e: services.export_rebuild(export=e), "Exports rebuilt"
        )


# What later issues added: bulk predictions and deployments


@admin.register(BatchPrediction)
class BatchPredictionAdmin(DeleteWithFilesMixin, admin.ModelAdmin):
    delete_service = staticmethod(lambda batch: services.batch_delete(batch=batch))
    list_display = ("id", "name", "owner", "candidate", "status", "rows_done", "rows_total",
                    "input_size", "result_size", "duration", "created_at")  # fmt: skip
    list_filter = ("status", "created_at")
    search_fields = ("name", "owner__username", "candidate__label")
    readonly_fields = ("owner", "candidate", "name", "input_file", "result_file", "status",
                       "rows_total", "rows_done", "error", "input_size", "result_size",
                       "duration", "created_at", "finished_at")  # fmt: skip
    fields = readonly_fields

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="input")
    def input_size(self, batch) -> str:
        return _file_bytes(batch.input_file)

    @admin.display(description="result")
    def result_size(self, batch) -> str:
        return _file_bytes(batch.result_file)

    @admin.display(description="duration")
    def duration(self, batch) -> str:
        return _seconds(batch.created_at, batch.finished_at)


class DeploymentChangeInline(admin.TabularInline):
    model = DeploymentChange
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Deployment)
class DeploymentAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "champion", "challenger", "mode", "updated_at")
    list_filter = ("mode", "created_at")
    search_fields = ("name", "owner__username")
    readonly_fields = ("created_at", "updated_at")
    inlines = [DeploymentChangeInline]


# Tracebacks of our own failures (the operations dashboard shows the latest), read-only.


@admin.register(FailureTrace)
class FailureTraceAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("created_at", "kind", "dataset", "run", "candidate", "last_line")
    list_filter = ("kind", "created_at")
    search_fields = ("traceback", "candidate", "=dataset__id", "=run__id")
    date_hierarchy = "created_at"

    @admin.display(description="What failed")
    def last_line(self, trace: FailureTrace) -> str:
        return trace.traceback.strip().rsplit("\n", 1)[-1][:120]


# The audit log: read-only, kept for PROMISE_AUDIT_RETENTION_DAYS (manage.py prune_audit).


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("created_at", "username", "action", "object_type", "object_id",
                    "object_repr", "ip_address", "detail")  # fmt: skip
    list_filter = ("action", "object_type", "created_at")
    search_fields = ("username", "ip_address", "object_repr", "=object_id")
    date_hierarchy = "created_at"
