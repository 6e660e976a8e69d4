"""API keys in the admin: the secret is shown once, as a message, when a key is added."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from api.keys import assign_secret
from api.models import ApiKey


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "created", "last_used", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix", "user__username")
    readonly_fields = ("prefix", "created", "last_used", "revoked_at")
    actions = ["revoke"]

    def get_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> list[str]:
        if obj is None:
            return ["name", "user"]
        return ["name", "user", "prefix", "created", "last_used", "revoked_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: ApiKey | None = None):
        # An issued key belongs to its owner for good: moving it would hand over a secret.
        return self.readonly_fields + (("user",) if obj is not None else ())

    def save_model(self, request: HttpRequest, obj: ApiKey, form, change: bool) -> None:
        secret = assign_secret(obj) if not change else None
        super().save_model(request, obj, form, change)
        if secret is not None:
            self.message_user(
                request,
                f"API key {obj.name!r} created: {secret} — copy it now, it is not stored and "
                "will never be shown again.",
                messages.WARNING,
            )

    @admin.action(description="Revoke the selected API keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"{count} API key(s) revoked.", messages.SUCCESS)
