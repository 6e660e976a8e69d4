"""Admin: risk limits are editable; everything else is the engine's record, view only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from ledger import models


class ReadOnlyAdmin(admin.ModelAdmin):
    """The engine alone writes these tables; the admin may look but not touch."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(models.Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ("account", "order_id", "symbol", "side", "qty", "price", "state", "updated_at")
    list_filter = ("account", "state", "symbol")
    search_fields = ("order_id", "symbol", "strategy")


@admin.register(models.Fill)
class FillAdmin(ReadOnlyAdmin):
    list_display = ("ts", "account", "order_id", "symbol", "side", "qty", "price", "match_number")
    list_filter = ("account", "symbol")
    date_hierarchy = "ts"


@admin.register(models.PositionSnapshot)
class PositionSnapshotAdmin(ReadOnlyAdmin):
    list_display = ("ts", "account")
    list_filter = ("account",)


@admin.register(models.EquityPoint)
class EquityPointAdmin(ReadOnlyAdmin):
    list_display = ("ts", "account", "equity", "realised", "unrealised")
    list_filter = ("account",)
    date_hierarchy = "ts"


@admin.register(models.AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("ts", "who", "action", "result")
    list_filter = ("action", "who")
    search_fields = ("who", "action", "result")


@admin.register(models.GatewayState)
class GatewayStateAdmin(ReadOnlyAdmin):
    list_display = ("account", "session", "next_sequence", "updated_at")


@admin.register(models.RiskLimitSet)
class RiskLimitSetAdmin(admin.ModelAdmin):
    list_display = ("account", "max_order_shares", "daily_loss_limit", "updated_at", "updated_by")
    readonly_fields = ("updated_at", "updated_by")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # Record who changed the limits; the audit trail of the change itself is the caller's.
        obj.updated_by = request.user.get_username()
        super().save_model(request, obj, form, change)


@admin.register(models.StrategySet)
class StrategySetAdmin(admin.ModelAdmin):
    list_display = ("account", "strategies", "updated_at", "updated_by")
    readonly_fields = ("updated_at", "updated_by")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # Validated by the model's clean(); the engine reads it at its next start.
        obj.updated_by = request.user.get_username()
        super().save_model(request, obj, form, change)
        models.AuditEvent.objects.create(
            who=obj.updated_by, action="update_strategies",
            detail={"account": obj.account, "strategies": obj.strategies, "params": obj.params},
            result="saved; applies at the engine's next start",
        )  # fmt: skip
