from django.contrib import admin

from remover.models import DailyUsage, Job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    """Read-only view of jobs for operators; deleting here also deletes the files."""

    list_display = (
        "id", "original_name", "status", "stage", "progress", "user", "client_ip", "created_at", "expires_at",
    )
    list_filter = ("status", "created_at")
    search_fields = ("id", "batch", "user__username", "client_ip")
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in Job._meta.fields]

    def has_add_permission(self, request):
        return False  # jobs come from uploads

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(DailyUsage)
class DailyUsageAdmin(admin.ModelAdmin):
    list_display = ("scope", "key", "day", "count")
    list_filter = ("scope", "day")
    readonly_fields = ("scope", "key", "day", "count")

    def has_add_permission(self, request):
        return False


from remover.devapi import admin as devapi_admin  # noqa: E402,F401  (registers the API's models)
