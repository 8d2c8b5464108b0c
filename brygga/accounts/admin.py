"""Local administration of users, memberships and API tokens in the Django admin (R-ACC-1: individual
accounts; routines for granting, changing, removing and regularly reviewing access rights).

Who may do what here is decided by brygga's own permissions of the *active unit* (Perm.UNIT_ADMIN,
Perm.API_TOKEN_MANAGE, Perm.REGISTRY_ADMIN in brygga.accounts.permissions), never by Django's per-model
permissions: entering the admin needs ``is_staff``, and everything inside is checked against the role. A
local administrator sees and manages only the memberships in units of their own principal (huvudman).
Superusers (operations staff) see everything. No person data is registered in the admin."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from brygga.accounts.context import Actor
from brygga.accounts.models import ApiToken, Membership, User
from brygga.accounts.permissions import ROLE_CHOICES, Perm, Role
from brygga.organisations.models import Organisation, Unit

# Roles a local administrator may not hand out: they would let an administrator widen their own reach.
# GITS and operations (superusers) grant these; service accounts come from `manage.py create_api_token`.
NOT_GRANTABLE_LOCALLY = frozenset({Role.LOCAL_ADMIN, Role.GITS_COORDINATOR, Role.SYSTEM})


def _actor(request: HttpRequest) -> Actor | None:
    return getattr(request, "actor", None)


def allowed(request: HttpRequest, perm: Perm | None) -> bool:
    """Superusers always; otherwise the role of the active unit must hold the permission (fail closed)."""
    user = request.user
    if not user.is_active or not user.is_staff:
        return False
    if user.is_superuser:
        return True
    actor = _actor(request)
    return perm is not None and actor is not None and actor.can(perm)


def actor_principal(request: HttpRequest) -> Organisation | None:
    actor = _actor(request)
    return actor.unit.principal if actor is not None and actor.unit is not None else None


def principal_units(principal: Organisation) -> QuerySet[Unit]:
    return Unit.objects.filter(Q(organisation=principal) | Q(organisation__principal=principal))


class RoleGatedAdmin(admin.ModelAdmin):
    """Base for every brygga admin page: viewing needs ``view_perms`` (any of), changing ``change_perm``;
    deleting is off unless ``can_delete``."""

    view_perms: tuple[Perm, ...] = ()
    change_perm: Perm | None = None
    can_add = True
    can_delete = False

    def _may_view(self, request: HttpRequest) -> bool:
        return any(allowed(request, p) for p in (*self.view_perms, self.change_perm) if p is not None)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._may_view(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_view(request)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self.can_add and allowed(request, self.change_perm)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return allowed(request, self.change_perm)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.can_delete and allowed(request, self.change_perm)


# --- memberships ------------------------------------------------------------------------------------------


class MembershipForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ["user", "unit", "role", "commission_hsa_id", "valid_from", "valid_until", "reviewed_at"]
        labels = {"user": _("användare"), "unit": _("enhet"), "reviewed_at": _("senast granskad")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.request: HttpRequest | None = kwargs.pop("request", None)
        super().__init__(*args, **kwargs)
        if self.request is not None and not self.request.user.is_superuser and "role" in self.fields:
            role_field = self.fields["role"]
            assert isinstance(role_field, forms.ChoiceField)
            role_field.choices = [
                (value, label) for value, label in ROLE_CHOICES if value not in NOT_GRANTABLE_LOCALLY
            ]

    def clean_role(self) -> str:
        role = self.cleaned_data["role"]
        is_superuser = self.request is not None and self.request.user.is_superuser
        if role in NOT_GRANTABLE_LOCALLY and not is_superuser:
            raise forms.ValidationError(
                _("Rollen kan inte delas ut av en lokal administratör (R-ACC-1)."), code="R-ACC-1"
            )
        return role

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("valid_from"), data.get("valid_until")
        if start and end and end < start:
            self.add_error("valid_until", _("Slutdatumet kan inte vara före startdatumet (R-ACC-1)."))
        return data


class ScopedMembershipMixin:
    """Limits memberships (and the units they may point at) to the local administrator's principal."""

    def scope_memberships(self, request: HttpRequest, qs: QuerySet[Membership]) -> QuerySet[Membership]:
        if request.user.is_superuser:
            return qs
        principal = actor_principal(request)
        if principal is None:
            return qs.none()
        return qs.filter(unit__in=principal_units(principal))

    def scope_units(self, request: HttpRequest) -> QuerySet[Unit]:
        if request.user.is_superuser:
            return Unit.objects.all()
        principal = actor_principal(request)
        return principal_units(principal) if principal is not None else Unit.objects.none()


@admin.action(description=_("Markera valda behörigheter som granskade i dag (R-ACC-1)"))
def mark_reviewed(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Membership]) -> None:
    count = queryset.update(reviewed_at=timezone.now())
    message = ngettext(
        "%d behörighet markerad som granskad.", "%d behörigheter markerade som granskade.", count
    )
    modeladmin.message_user(request, message % count, messages.SUCCESS)


@admin.action(description=_("Avsluta valda behörigheter i dag"))
def end_today(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Membership]) -> None:
    today = timezone.localdate()
    count = queryset.filter(Q(valid_until__isnull=True) | Q(valid_until__gt=today)).update(valid_until=today)
    message = ngettext("%d behörighet avslutad.", "%d behörigheter avslutade.", count)
    modeladmin.message_user(request, message % count, messages.SUCCESS)


class ReviewedFilter(admin.DateFieldListFilter):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.title = _("senast granskad")  # the model field has no verbose name


@admin.register(Membership)
class MembershipAdmin(ScopedMembershipMixin, RoleGatedAdmin):
    change_perm = Perm.UNIT_ADMIN
    can_delete = True  # removing an access right is part of the routine (R-ACC-1)
    form = MembershipForm
    list_display = ["user_name", "unit_name", "role", "valid_from", "valid_until", "reviewed", "granted_by"]
    list_filter = ["role", "unit__kind", ("reviewed_at", ReviewedFilter)]
    search_fields = ["user__username", "user__first_name", "user__last_name", "unit__name", "unit__hsa_id"]
    autocomplete_fields = ["user"]
    readonly_fields = ["granted_by"]
    actions = [mark_reviewed, end_today]
    list_select_related = ["user", "unit", "granted_by"]

    @admin.display(description=_("användare"), ordering="user__username")
    def user_name(self, obj: Membership) -> str:
        return obj.user.username

    @admin.display(description=_("enhet"), ordering="unit__name")
    def unit_name(self, obj: Membership) -> str:
        return obj.unit.name

    @admin.display(description=_("senast granskad"), ordering="reviewed_at")
    def reviewed(self, obj: Membership) -> Any:
        return obj.reviewed_at

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form_class = super().get_form(request, obj, change=change, **kwargs)

        class RequestForm(form_class):  # type: ignore[valid-type,misc]  # built at run time by the admin
            def __init__(self, *args: Any, **kw: Any) -> None:
                kw["request"] = request
                super().__init__(*args, **kw)

        return RequestForm

    def get_queryset(self, request: HttpRequest) -> QuerySet[Membership]:
        return self.scope_memberships(request, super().get_queryset(request))

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "unit":
            kwargs["queryset"] = self.scope_units(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Membership, form: Any, change: bool) -> None:
        if not change or {"role", "unit", "user"} & set(form.changed_data):
            obj.granted_by = request.user  # type: ignore[assignment]  # is_staff checked: a real User
        super().save_model(request, obj, form, change)


class MembershipInline(ScopedMembershipMixin, admin.TabularInline):
    model = Membership
    fk_name = "user"
    form = MembershipForm
    extra = 0
    fields = ["unit", "role", "commission_hsa_id", "valid_from", "valid_until", "reviewed_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Membership]:
        return self.scope_memberships(request, super().get_queryset(request))

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)
        formset.form = type(
            "RequestMembershipForm",
            (formset.form,),
            {"__init__": lambda self, *a, **kw: MembershipForm.__init__(self, *a, request=request, **kw)},
        )
        return formset

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "unit":
            kwargs["queryset"] = self.scope_units(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return allowed(request, Perm.UNIT_ADMIN)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return allowed(request, Perm.UNIT_ADMIN)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return allowed(request, Perm.UNIT_ADMIN)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return allowed(request, Perm.UNIT_ADMIN)


# --- users ------------------------------------------------------------------------------------------------


def changeable_users(request: HttpRequest, queryset: QuerySet[User]) -> QuerySet[User]:
    """The accounts a local administrator may change: not staff or superusers, and with no grant outside the
    administrator's principal — otherwise granting someone a role here would hand over their account
    elsewhere (password, second factor). Superusers may change every account."""
    if request.user.is_superuser:
        return queryset
    principal = actor_principal(request)
    if principal is None:
        return queryset.none()
    outside = Membership.objects.exclude(unit__in=principal_units(principal)).values("user_id")
    return queryset.filter(is_staff=False, is_superuser=False).exclude(pk__in=outside)


@admin.action(description=_("Lås upp valda konton"))
def unlock(modeladmin: Any, request: HttpRequest, queryset: QuerySet[User]) -> None:
    count = changeable_users(request, queryset).update(failed_login_count=0, locked_until=None)
    modeladmin.message_user(request, _("%d konton upplåsta.") % count, messages.SUCCESS)


@admin.action(description=_("Nollställ andra faktorn (användaren aktiverar en ny vid nästa inloggning)"))
def reset_totp(modeladmin: Any, request: HttpRequest, queryset: QuerySet[User]) -> None:
    count = changeable_users(request, queryset).update(totp_secret="", totp_confirmed_at=None)
    modeladmin.message_user(request, _("Andra faktorn nollställd för %d konton.") % count, messages.SUCCESS)


@admin.register(User)
class UserAdmin(RoleGatedAdmin, DjangoUserAdmin):
    """Individual accounts. A local administrator sees the users with a membership in their principal's
    units, and users with no membership yet (just created, about to be granted one)."""

    change_perm = Perm.UNIT_ADMIN
    inlines = [MembershipInline]
    list_display = ["username", "first_name", "last_name", "hsa_id", "is_active", "has_totp", "locked_until"]
    list_filter = ["is_active", "is_service_account", "is_staff"]
    search_fields = ["username", "first_name", "last_name", "email", "hsa_id"]
    actions = [unlock, reset_totp]
    readonly_fields = ["last_login", "date_joined", "totp_confirmed_at", "failed_login_count", "locked_until"]

    base_fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Person"), {"fields": ("first_name", "last_name", "email", "title", "hsa_id")}),
        (_("Säkerhet"), {"fields": ("is_active", "totp_confirmed_at", "failed_login_count", "locked_until")}),
        (_("Datum"), {"fields": ("last_login", "date_joined")}),
    )
    superuser_fieldsets = ((_("Drift"), {"fields": ("is_staff", "is_superuser", "is_service_account")}),)

    @admin.display(boolean=True, description=_("andra faktor"))
    def has_totp(self, obj: User) -> bool:
        return obj.has_totp

    def get_inline_instances(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        # The add form asks for user name and password only; grants follow on the change page.
        return [] if obj is None else super().get_inline_instances(request, obj)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return self.add_fieldsets
        if request.user.is_superuser:
            return self.base_fieldsets + self.superuser_fieldsets
        # Administrators cannot make anyone (themselves included) staff or superuser.
        return self.base_fieldsets

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        principal = actor_principal(request)
        if principal is None:
            return qs.none()
        in_scope = Membership.objects.filter(unit__in=principal_units(principal)).values("user_id")
        scoped = qs.filter(Q(pk__in=in_scope) | Q(memberships__isnull=True)).exclude(is_superuser=True)
        return scoped.distinct()

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if not super().has_change_permission(request, obj):
            return False
        if obj is None:
            return True
        return changeable_users(request, User.objects.filter(pk=obj.pk)).exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Accounts are deactivated, not deleted: the access log and reviews refer to them.
        return False


# --- API tokens -------------------------------------------------------------------------------------------


@admin.action(description=_("Återkalla valda API-nycklar"))
def revoke(modeladmin: Any, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
    count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
    modeladmin.message_user(request, _("%d API-nycklar återkallade.") % count, messages.SUCCESS)


@admin.register(ApiToken)
class ApiTokenAdmin(ScopedMembershipMixin, RoleGatedAdmin):
    """Tokens are created with `manage.py create_api_token` (shown once); here they are listed and revoked."""

    change_perm = Perm.API_TOKEN_MANAGE
    can_add = False
    list_display = ["name", "prefix", "membership", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix", "membership__user__username", "membership__unit__name"]
    fields = ["name", "prefix", "membership", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "membership", "created_at", "last_used_at", "revoked_at"]
    actions = [revoke]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApiToken]:
        qs = super().get_queryset(request).select_related("membership__user", "membership__unit")
        if request.user.is_superuser:
            return qs
        principal = actor_principal(request)
        if principal is None:
            return qs.none()
        return qs.filter(membership__unit__in=principal_units(principal))


# The organisation registry's admin is built on RoleGatedAdmin, so it lives in this app and registers itself
# when imported here (the organisations app sits below accounts, ADR 0009).
from brygga.accounts import registry_admin  # noqa: E402, F401
