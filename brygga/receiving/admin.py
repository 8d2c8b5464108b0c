"""Administration of the receiving side. A local administrator (Perm.UNIT_ADMIN) edits the contact details of
the units of their own principal; the GITS coordinator (Perm.REGISTRY_ADMIN) those of every unit. Failed
notifications are listed for both, with the error, so nothing is lost silently."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from brygga.accounts.admin import RoleGatedAdmin, actor_principal, allowed, principal_units
from brygga.accounts.permissions import Perm
from brygga.receiving.models import Notification, UnitContact


def _own_units_only(request: HttpRequest) -> bool:
    return not request.user.is_superuser and not allowed(request, Perm.REGISTRY_ADMIN)


@admin.register(UnitContact)
class UnitContactAdmin(RoleGatedAdmin):
    view_perms = (Perm.REGISTRY_ADMIN,)
    change_perm = Perm.UNIT_ADMIN
    list_display = ["unit", "phone", "mailbox", "opening_hours"]
    search_fields = ["unit__name", "unit__hsa_id"]
    autocomplete_fields = ["unit"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[UnitContact]:
        qs = super().get_queryset(request).select_related("unit")
        if _own_units_only(request):
            principal = actor_principal(request)
            return qs.filter(unit__in=principal_units(principal)) if principal else qs.none()
        return qs

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "unit" and _own_units_only(request):
            principal = actor_principal(request)
            kwargs["queryset"] = (
                principal_units(principal) if principal else db_field.related_model.objects.none()
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Notification)
class NotificationAdmin(RoleGatedAdmin):
    view_perms = (Perm.UNIT_ADMIN, Perm.REGISTRY_ADMIN)
    change_perm = None
    can_add = False
    list_display = ["created_at", "unit", "channel", "status", "attempts", "next_attempt_at", "last_error"]
    list_filter = ["status", "channel"]
    readonly_fields = [f.name for f in Notification._meta.fields]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Notification]:
        qs = super().get_queryset(request).select_related("unit")
        if _own_units_only(request):
            principal = actor_principal(request)
            return qs.filter(unit__in=principal_units(principal)) if principal else qs.none()
        return qs
