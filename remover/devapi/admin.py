"""Admin for API keys: operators change a key's tier, credits and rate limit, or revoke it.
The secret is never shown (only its hash is stored)."""

from django.contrib import admin

from .models import ApiKey, ApiKeyUsage, WebhookDelivery


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "user", "tier", "daily_credits", "rate_per_minute", "created_at",
                    "last_used_at", "revoked_at")
    list_filter = ("tier", "revoked_at")
    search_fields = ("name", "prefix", "user__username")
    fields = ("user", "name", "prefix", "tier", "daily_credits", "rate_per_minute", "created_at", "last_used_at",
              "revoked_at")
    readonly_fields = ("user", "prefix", "created_at", "last_used_at")

    def has_add_permission(self, request):
        return False  # keys are made by their owners, so that only they ever see the secret


@admin.register(ApiKeyUsage)
class ApiKeyUsageAdmin(admin.ModelAdmin):
    list_display = ("key", "day", "credits")
    list_filter = ("day",)
    readonly_fields = ("key", "day", "credits")

    def has_add_permission(self, request):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("api_job", "url", "state", "attempts", "next_attempt_at", "delivered_at", "last_error")
    list_filter = ("state",)
    readonly_fields = [field.name for field in WebhookDelivery._meta.fields]

    def has_add_permission(self, request):
        return False
