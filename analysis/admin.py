from django.contrib import admin

from .models import CandidateResult, Dataset, Export, Run


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "owner",
        "status",
        "row_count",
        "column_count",
        "size_bytes",
        "created_at",
    )
    list_filter = ("status",)
    search_fields = ("name", "owner__username")
    readonly_fields = ("profile",)


class CandidateInline(admin.TabularInline):
    model = CandidateResult
    extra = 0
    fields = ("label", "status", "rank", "fit_seconds", "error")
    readonly_fields = fields


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    list_display = ("id", "dataset", "owner", "target", "status", "recommended", "created_at")
    list_filter = ("status",)
    search_fields = ("target", "dataset__name", "owner__username")
    inlines = [CandidateInline]


@admin.register(Export)
class ExportAdmin(admin.ModelAdmin):
    list_display = ("candidate", "owner", "created_at")
