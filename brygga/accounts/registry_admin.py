"""The organisation registry in the Django admin — read-mostly.

The reference data command (`load_reference_data`) and the SCB import (`import_scb_population`) are the
normal way in; the admin lets a GITS coordinator (Perm.REGISTRY_ADMIN) correct a unit's name or HSA-id, add a
unit, or deactivate one. Local administrators (Perm.UNIT_ADMIN) may look. Nothing is deleted here: units,
municipalities and organisations are referred to by cases and the access log (on_delete=PROTECT), so a unit
is deactivated instead. Population figures are read-only: they come from SCB's file with its source."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from brygga.accounts.admin import RoleGatedAdmin
from brygga.accounts.permissions import Perm
from brygga.organisations.models import (
    Municipality,
    Organisation,
    PopulationFigure,
    Site,
    Subregion,
    Unit,
)


class RegistryAdmin(RoleGatedAdmin):
    view_perms = (Perm.UNIT_ADMIN,)
    change_perm = Perm.REGISTRY_ADMIN


@admin.register(Organisation)
class OrganisationAdmin(RegistryAdmin):
    list_display = ["name", "short_name", "kind", "org_number", "principal"]
    list_filter = ["kind"]
    search_fields = ["name", "short_name", "org_number"]


@admin.register(Subregion)
class SubregionAdmin(RegistryAdmin):
    can_add = False  # the six delregioner are fixed by the collaboration agreement
    list_display = ["name", "slug"]
    search_fields = ["name"]


class PopulationInline(admin.TabularInline):
    model = PopulationFigure
    extra = 0
    fields = ["year", "population", "reference_date", "source"]
    readonly_fields = ["year", "population", "reference_date", "source"]
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Municipality)
class MunicipalityAdmin(RegistryAdmin):
    can_add = False  # the 49 municipalities come from the reference data
    list_display = ["name", "scb_code", "subregion", "association"]
    list_filter = ["subregion", "association"]
    search_fields = ["name", "scb_code"]
    readonly_fields = ["scb_code", "organisation"]
    inlines = [PopulationInline]


@admin.register(PopulationFigure)
class PopulationFigureAdmin(RegistryAdmin):
    """Read-only: `manage.py import_scb_population <file> --year YYYY` is the way figures change."""

    can_add = False
    list_display = ["municipality", "year", "population", "reference_date", "source"]
    list_filter = ["year", "municipality__subregion"]
    search_fields = ["municipality__name", "municipality__scb_code"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Site)
class SiteAdmin(RegistryAdmin):
    list_display = ["name", "organisation", "municipality"]
    list_filter = ["organisation"]
    search_fields = ["name"]


@admin.register(Unit)
class UnitAdmin(RegistryAdmin):
    list_display = ["name", "hsa_id", "kind", "organisation", "municipality", "is_active"]
    list_filter = ["kind", "is_active", "municipality__subregion", "organisation"]
    search_fields = ["name", "hsa_id", "municipality__name"]
    list_select_related = ["organisation", "municipality"]
    autocomplete_fields = ["organisation", "municipality", "site"]
