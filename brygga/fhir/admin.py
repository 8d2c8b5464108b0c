"""The subscriber's administrator sees the unit's FHIR subscriptions and their delivery log (every
notification: number, focus, status, attempts, the last error) in the admin, gated like the API tokens
(Perm.API_TOKEN_MANAGE, scoped to the administrator's principal). Read-only: subscriptions are created and
ended by the integrating system through FHIR. No personal data: a focus is a resource id."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from brygga.accounts.admin import RoleGatedAdmin, actor_principal, allowed, principal_units
from brygga.accounts.permissions import Perm
from brygga.fhir.models import Notification, Subscription

INLINE_FIELDS = (
    "event_number",
    "focus",
    "status",
    "attempts",
    "last_status",
    "last_error",
    "created_at",
    "delivered_at",
)
SUBSCRIPTION_FIELDS = (
    "unit",
    "topic",
    "endpoint",
    "content",
    "status",
    "reason",
    "events_since_start",
    "created_at",
)
LOG_COLUMNS = (
    "subscription",
    "event_number",
    "focus",
    "status",
    "attempts",
    "last_error",
    "created_at",
    "delivered_at",
)


class ScopedToPrincipal:
    unit_path = "unit"

    def scoped(self, request: HttpRequest, qs: QuerySet[Any]) -> QuerySet[Any]:
        if request.user.is_superuser:
            return qs
        principal = actor_principal(request)
        if principal is None:
            return qs.none()
        return qs.filter(**{f"{self.unit_path}__in": principal_units(principal)})


class NotificationInline(admin.TabularInline[Notification, Subscription]):
    model = Notification
    extra = 0
    can_delete = False
    ordering = ["-pk"]
    fields = readonly_fields = INLINE_FIELDS
    max_num = 0
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Django's own per-model permissions are not used (accounts.admin): brygga's role decides.
        return allowed(request, Perm.API_TOKEN_MANAGE)


@admin.register(Subscription)
class SubscriptionAdmin(ScopedToPrincipal, RoleGatedAdmin):
    view_perms = (Perm.API_TOKEN_MANAGE,)
    can_add = False
    list_display = ["pk", "unit", "topic", "endpoint", "status", "events_since_start", "created_at"]
    list_filter = ["status", "topic"]
    fields = readonly_fields = SUBSCRIPTION_FIELDS
    inlines = [NotificationInline]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Subscription]:
        return self.scoped(request, super().get_queryset(request).select_related("unit"))


@admin.register(Notification)
class NotificationAdmin(ScopedToPrincipal, RoleGatedAdmin):
    unit_path = "subscription__unit"
    view_perms = (Perm.API_TOKEN_MANAGE,)
    can_add = False
    list_display = LOG_COLUMNS
    list_filter = ["status", "subscription__topic"]
    fields = readonly_fields = (*LOG_COLUMNS, "next_attempt_at", "last_attempt_at", "last_status")
    ordering = ["-created_at"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Notification]:
        return self.scoped(request, super().get_queryset(request).select_related("subscription__unit"))
