"""Local administration and operations: the admin (R-ACC-1 grant/change/remove/review, scoped to the
administrator's principal, no person data), API tokens from the command line, and the access-log seal and
verify commands and task (R-LOG-2 tamper evidence)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.contrib import admin
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, models
from django.test import Client
from django.urls import reverse

from brygga.access.models import AccessLogEntry, AccessLogSeal, Involvement
from brygga.access.services import involve, open_person
from brygga.access.tasks import seal_access_log_task
from brygga.accounts.middleware import SESSION_KEY
from brygga.accounts.models import ApiToken, Membership, User
from brygga.accounts.permissions import Role
from brygga.organisations.models import Unit
from brygga.people.models import Person
from tests.factories import CONTACT_POINT, WARD, actor, make_person, unit

pytestmark = pytest.mark.django_db

BORAS_CONTACT = "Borås kontaktpunkt"
GBG_HOME_HEALTH = "Göteborg hemsjukvård"


def admin_client(role: Role, unit_name: str, username: str) -> tuple[Client, User]:
    a = actor(role, unit_name, username=username)
    user = a.user
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(user)
    session = client.session
    session[SESSION_KEY] = a.membership.pk  # type: ignore[union-attr]
    session.save()
    return client, user


# --- the admin ----------------------------------------------------------------------------------------------


def test_no_person_data_is_registered_in_the_admin() -> None:
    """Person data stays behind the need-to-know path: no Person, involvement or log model, and no model
    that points at a person, is editable in the admin."""
    for model in admin.site._registry:
        assert model._meta.app_label not in {"people", "access"}, model
        for field in model._meta.get_fields():
            if isinstance(field, models.ForeignKey | models.OneToOneField | models.ManyToManyField):
                assert field.related_model is not Person, f"{model.__name__}.{field.name}"
    assert Person not in admin.site._registry and AccessLogEntry not in admin.site._registry


def test_local_admin_sees_only_memberships_of_the_own_principal() -> None:
    """R-ACC-1: a local administrator of Göteborg manages Göteborg's grants, not Borås's."""
    client, _user = admin_client(Role.LOCAL_ADMIN, CONTACT_POINT, "gbg-admin")
    ours = actor(Role.HOME_CARE_NURSE, GBG_HOME_HEALTH, username="gbg-nurse").membership
    theirs = actor(Role.MUNICIPAL_CONTACT, BORAS_CONTACT, username="boras-contact").membership
    page = client.get(reverse("admin:accounts_membership_changelist"))
    assert page.status_code == 200
    listed = set(page.context["cl"].queryset.values_list("pk", flat=True))
    assert ours.pk in listed and theirs.pk not in listed  # type: ignore[union-attr]
    other = client.get(reverse("admin:accounts_membership_change", args=[theirs.pk]))  # type: ignore[union-attr]
    assert other.status_code == 302  # the admin redirects away from objects outside the queryset
    users = client.get(reverse("admin:accounts_user_changelist")).context["cl"].queryset
    assert users.filter(username="gbg-nurse").exists() and not users.filter(username="boras-contact").exists()


def test_local_admin_grants_a_membership_and_is_recorded_as_granter() -> None:
    """R-ACC-1: granting — the grant names who granted it."""
    client, admin_user = admin_client(Role.LOCAL_ADMIN, CONTACT_POINT, "gbg-admin")
    newcomer = User.objects.create_user("nykomling", password="ett-langt-testlosenord")
    response = client.post(
        reverse("admin:accounts_membership_add"),
        {
            "user": newcomer.pk,
            "unit": unit(GBG_HOME_HEALTH).pk,
            "role": Role.HOME_CARE_NURSE.value,
            "commission_hsa_id": "",
            "valid_from": "2026-01-01",
            "valid_until": "",
            "reviewed_at_0": "",
            "reviewed_at_1": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    grant = Membership.objects.get(user=newcomer)
    assert grant.role == Role.HOME_CARE_NURSE and grant.granted_by == admin_user


@pytest.mark.parametrize("role", [Role.LOCAL_ADMIN, Role.GITS_COORDINATOR, Role.SYSTEM])
def test_local_admin_cannot_grant_widening_roles(role: Role) -> None:
    """R-ACC-1: an administrator cannot hand out administration, GITS or system roles; nothing is saved."""
    client, _user = admin_client(Role.LOCAL_ADMIN, CONTACT_POINT, "gbg-admin")
    newcomer = User.objects.create_user("nykomling", password="ett-langt-testlosenord")
    response = client.post(
        reverse("admin:accounts_membership_add"),
        {
            "user": newcomer.pk,
            "unit": unit(GBG_HOME_HEALTH).pk,
            "role": role.value,
            "valid_from": "2026-01-01",
        },
    )
    assert response.status_code == 200  # the form is shown again with the error
    assert not Membership.objects.filter(user=newcomer).exists()


def test_local_admin_cannot_grant_in_another_principals_unit() -> None:
    client, _user = admin_client(Role.LOCAL_ADMIN, CONTACT_POINT, "gbg-admin")
    newcomer = User.objects.create_user("nykomling", password="ett-langt-testlosenord")
    response = client.post(
        reverse("admin:accounts_membership_add"),
        {
            "user": newcomer.pk,
            "unit": unit(BORAS_CONTACT).pk,
            "role": Role.MUNICIPAL_CONTACT.value,
            "valid_from": "2026-01-01",
        },
    )
    assert response.status_code == 200
    assert not Membership.objects.filter(user=newcomer).exists()


def test_review_and_end_actions_record_the_review_date_and_remove_access() -> None:
    """R-ACC-1: regular review (the date is kept on the grant) and removal (valid_until today)."""
    client, _user = admin_client(Role.LOCAL_ADMIN, CONTACT_POINT, "gbg-admin")
    grant = actor(Role.HOME_CARE_NURSE, GBG_HOME_HEALTH, username="gbg-nurse").membership
    assert grant is not None
    url = reverse("admin:accounts_membership_changelist")
    moment = dt.datetime(2026, 11, 23, 9, tzinfo=dt.UTC)
    with time_machine.travel(moment, tick=False):
        client.post(url, {"action": "mark_reviewed", "_selected_action": [grant.pk]})
        grant.refresh_from_db()
        assert grant.reviewed_at == moment and grant.valid_until is None
        client.post(url, {"action": "end_today", "_selected_action": [grant.pk]})
        grant.refresh_from_db()
        assert grant.valid_until == dt.date(2026, 11, 23)
    with time_machine.travel(moment + dt.timedelta(days=1), tick=False):
        assert not grant.is_valid_on(dt.date(2026, 11, 24))


def test_staff_without_an_admin_role_sees_nothing_and_changes_nothing() -> None:
    """Fail closed: is_staff alone opens no page; the role of the active unit decides."""
    client, _user = admin_client(Role.WARD_NURSE, WARD, "nurse-staff")
    assert client.get(reverse("admin:accounts_membership_changelist")).status_code == 403
    assert client.get(reverse("admin:organisations_unit_changelist")).status_code == 403
    target = actor(Role.HOME_CARE_NURSE, GBG_HOME_HEALTH, username="gbg-nurse").membership
    client.post(
        reverse("admin:accounts_membership_changelist"),
        {"action": "end_today", "_selected_action": [target.pk]},  # type: ignore[union-attr]
    )
    target.refresh_from_db()  # type: ignore[union-attr]
    assert target.valid_until is None  # type: ignore[union-attr]


def test_local_admin_may_look_at_but_not_change_the_registry() -> None:
    client, _user = admin_client(Role.LOCAL_ADMIN, CONTACT_POINT, "gbg-admin")
    ward = unit(WARD)
    assert client.get(reverse("admin:organisations_unit_changelist")).status_code == 200
    client.post(
        reverse("admin:organisations_unit_change", args=[ward.pk]),
        {"name": "Omdöpt", "hsa_id": ward.hsa_id, "kind": ward.kind},
    )
    ward.refresh_from_db()
    assert ward.name == WARD


def test_gits_coordinator_can_deactivate_a_unit_but_population_figures_are_read_only() -> None:
    client, _user = admin_client(Role.GITS_COORDINATOR, "GITS kansli", "gits-admin")
    ward = unit(WARD)
    response = client.post(
        reverse("admin:organisations_unit_change", args=[ward.pk]),
        {
            "name": ward.name,
            "hsa_id": ward.hsa_id,
            "kind": ward.kind,
            "organisation": ward.organisation_id,
            "municipality": ward.municipality_id,
            "site": ward.site_id or "",
            "is_active": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    ward.refresh_from_db()
    assert ward.is_active is False
    figures = client.get(reverse("admin:organisations_populationfigure_changelist"))
    assert figures.status_code == 200 and not figures.context["has_add_permission"]


def test_local_admin_cannot_make_anyone_superuser() -> None:
    client, _user = admin_client(Role.LOCAL_ADMIN, CONTACT_POINT, "gbg-admin")
    nurse = actor(Role.HOME_CARE_NURSE, GBG_HOME_HEALTH, username="gbg-nurse").user
    client.post(
        reverse("admin:accounts_user_change", args=[nurse.pk]),
        {
            "username": nurse.username,
            "first_name": "X",
            "last_name": "Y",
            "is_active": "on",
            "is_superuser": "on",
            "is_staff": "on",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    nurse.refresh_from_db()
    assert not nurse.is_superuser and not nurse.is_staff


# --- API tokens ---------------------------------------------------------------------------------------------


def test_create_api_token_makes_a_service_account_whose_token_reads_an_involved_person() -> None:
    ward = unit(WARD)
    out = io.StringIO()
    call_command("create_api_token", "ehr-su", ward.hsa_id, "--name", "Journalsystem SU", stdout=out)
    raw = out.getvalue().strip().splitlines()[-1]
    assert raw.startswith("bry_")
    user = User.objects.get(username="ehr-su")
    assert user.is_service_account and not user.has_usable_password()
    membership = Membership.objects.get(user=user)
    assert membership.role == Role.SYSTEM and membership.unit == ward
    token = ApiToken.objects.get(membership=membership)
    assert raw not in (token.token_hash, token.prefix)  # only the hash is stored
    person = make_person()
    involve(person, ward, Involvement.Kind.INPATIENT_CASE, "case:1")
    response = Client().get(f"/api/v1/persons/{person.pk}", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200
    entry = AccessLogEntry.objects.get(person=person)
    assert entry.channel == "api" and entry.user == user
    # A second token reuses the account and membership.
    call_command("create_api_token", "ehr-su", ward.hsa_id, "--name", "Reserv", stdout=io.StringIO())
    assert Membership.objects.filter(user=user).count() == 1 and ApiToken.objects.count() == 2


def test_create_api_token_refuses_personal_accounts_and_unknown_units_and_changes_nothing() -> None:
    User.objects.create_user("person-konto", password="ett-langt-testlosenord")
    with pytest.raises(CommandError, match="personligt konto"):
        call_command("create_api_token", "person-konto", unit(WARD).hsa_id, "--name", "x")
    with pytest.raises(CommandError, match="unit_hsa_id"):
        call_command("create_api_token", "nytt-system", "SE0000000000-XXXX", "--name", "x")
    assert not User.objects.filter(username="nytt-system").exists()
    assert ApiToken.objects.count() == 0 and not Membership.objects.filter(role=Role.SYSTEM).exists()


def test_create_api_token_refuses_an_account_with_another_role_in_the_unit() -> None:
    a = actor(Role.WARD_NURSE, WARD, username="robot")
    User.objects.filter(pk=a.user.pk).update(is_service_account=True)
    with pytest.raises(CommandError, match="inte system"):
        call_command("create_api_token", "robot", unit(WARD).hsa_id, "--name", "x")
    assert ApiToken.objects.count() == 0


# --- sealing and verifying the access log ---------------------------------------------------------------


def _logged_reads(count: int, start: dt.datetime) -> Person:
    nurse = actor(Role.WARD_NURSE, WARD)
    person = make_person()
    involve(person, unit(WARD), Involvement.Kind.INPATIENT_CASE, "case:1")
    for minute in range(count):
        with time_machine.travel(start + dt.timedelta(minutes=minute), tick=False):
            open_person(nurse, person.pk)
    return person


def test_seal_command_and_task_seal_new_entries_once() -> None:
    """R-LOG-2: the scheduled seal chains new entries; run again with nothing new it writes nothing."""
    start = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)
    _logged_reads(2, start)
    with time_machine.travel(start + dt.timedelta(hours=1), tick=False):
        out = io.StringIO()
        call_command("seal_access_log", stdout=out)
        assert "2 poster" in out.getvalue()
        call_command("seal_access_log", stdout=(out := io.StringIO()))
        assert "Inga nya" in out.getvalue()
        call_command("seal_access_log", verbosity=0, stdout=(out := io.StringIO()))
        assert out.getvalue() == ""  # quiet for cron
        assert AccessLogSeal.objects.count() == 1
        _logged_reads(1, start + dt.timedelta(minutes=10))
        result = seal_access_log_task.enqueue()  # the immediate backend runs it here
        assert result.return_value is not None
        assert result.return_value["sequence"] == 2 and result.return_value["entry_count"] == 1
    assert AccessLogSeal.objects.count() == 2


def test_verify_command_passes_on_an_intact_log_and_fails_on_a_changed_entry() -> None:
    """R-LOG-2: verify_access_log exits non-zero and names the changed entry."""
    start = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)
    _logged_reads(3, start)
    with time_machine.travel(start + dt.timedelta(hours=1), tick=False):
        call_command("seal_access_log", stdout=io.StringIO())
    out = io.StringIO()
    call_command("verify_access_log", stdout=out)
    assert "intakt: 3 poster, 1 förseglingar" in out.getvalue()
    victim = AccessLogEntry.objects.order_by("id")[1]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # flush pending FK checks before ALTER TABLE
            cursor.execute("ALTER TABLE access_accesslogentry DISABLE TRIGGER USER")
            cursor.execute(f"UPDATE access_accesslogentry SET what = 'x' WHERE id = {victim.pk}")  # noqa: S608
            cursor.execute("ALTER TABLE access_accesslogentry ENABLE TRIGGER USER")
        else:
            cursor.execute("DROP TRIGGER access_log_no_update")
            cursor.execute(f"UPDATE access_accesslogentry SET what = 'x' WHERE id = {victim.pk}")  # noqa: S608
    err = io.StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("verify_access_log", stdout=io.StringIO(), stderr=err)
    assert failure.value.returncode == 1
    assert f"Loggpost {victim.pk} har ändrats" in err.getvalue()


def test_units_exist_for_admin_tests() -> None:
    """Guard for the fixtures above: the units these tests grant in belong to different principals."""
    gbg, boras = unit(GBG_HOME_HEALTH), unit(BORAS_CONTACT)
    assert gbg.principal != boras.principal
    assert Unit.objects.get(name=CONTACT_POINT).principal == gbg.principal


def test_token_use_is_recorded_at_most_once_a_minute() -> None:
    """last_used_at has one-minute resolution, so concurrent requests of one integration do not queue on the
    token's row lock (each request is one transaction)."""
    ward = unit(WARD)
    start = dt.datetime(2026, 11, 23, 9, tzinfo=dt.UTC)
    # The token's membership is valid from the day it is created: create it on the test's own day, not
    # the real today, so the test passes on any date.
    out = io.StringIO()
    with time_machine.travel(start - dt.timedelta(days=1), tick=False):
        call_command("create_api_token", "ehr-su", ward.hsa_id, "--name", "Journalsystem SU", stdout=out)
    raw = out.getvalue().strip().splitlines()[-1]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    with time_machine.travel(start, tick=False):
        assert client.get("/api/v1/units").status_code == 200
    with time_machine.travel(start + dt.timedelta(seconds=30), tick=False):
        client.get("/api/v1/units")
    assert ApiToken.objects.get().last_used_at == start
    with time_machine.travel(start + dt.timedelta(minutes=2), tick=False):
        client.get("/api/v1/units")
    assert ApiToken.objects.get().last_used_at == start + dt.timedelta(minutes=2)


def test_local_admin_creates_an_account_and_grants_it_in_one_go() -> None:
    """R-ACC-1: an individual account, then its grant through the membership inline."""
    client, admin_user = admin_client(Role.LOCAL_ADMIN, CONTACT_POINT, "gbg-admin")
    response = client.post(
        reverse("admin:accounts_user_add"),
        {
            "username": "ny-handlaggare",
            "usable_password": "true",
            "password1": "ett-langt-testlosenord-42",
            "password2": "ett-langt-testlosenord-42",
        },
    )
    assert response.status_code == 302, _form_errors(response)
    user = User.objects.get(username="ny-handlaggare")
    assert not user.is_staff and not user.is_superuser
    change_url = reverse("admin:accounts_user_change", args=[user.pk])
    assert client.get(change_url).status_code == 200  # visible although it has no membership yet
    response = client.post(
        change_url,
        {
            "username": "ny-handlaggare",
            "first_name": "Nina",
            "last_name": "Ny",
            "email": "",
            "title": "Biståndshandläggare",
            "hsa_id": "",
            "is_active": "on",
            "memberships-TOTAL_FORMS": "1",
            "memberships-INITIAL_FORMS": "0",
            "memberships-MIN_NUM_FORMS": "0",
            "memberships-MAX_NUM_FORMS": "1000",
            "memberships-0-unit": unit("Göteborg biståndsenhet").pk,
            "memberships-0-role": Role.CARE_MANAGER.value,
            "memberships-0-commission_hsa_id": "",
            "memberships-0-valid_from": "2026-01-01",
            "memberships-0-valid_until": "",
            "memberships-0-reviewed_at_0": "",
            "memberships-0-reviewed_at_1": "",
        },
    )
    assert response.status_code == 302, _form_errors(response)
    grant = Membership.objects.get(user=user)
    assert grant.role == Role.CARE_MANAGER and grant.unit.name == "Göteborg biståndsenhet"


def _form_errors(response) -> str:  # type: ignore[no-untyped-def]
    """The admin's form and inline errors, for a readable failure."""
    context = response.context
    errors = [str(context["adminform"].form.errors)] if context and "adminform" in context else []
    for formset in (context.get("inline_admin_formsets") or []) if context else []:
        errors.append(str(formset.formset.errors) + str(formset.formset.non_form_errors()))
    return "\n".join(errors)


def test_local_admin_cannot_take_over_accounts_with_grants_elsewhere_or_staff_accounts() -> None:
    """R-ACC-1: granting someone a role in Göteborg must not hand Göteborg's administrator their account in
    Borås (password, second factor); staff accounts are operations' business."""
    client, _user = admin_client(Role.LOCAL_ADMIN, CONTACT_POINT, "gbg-admin")
    shared = actor(Role.MUNICIPAL_CONTACT, BORAS_CONTACT, username="delad").user
    Membership.objects.create(user=shared, unit=unit(GBG_HOME_HEALTH), role=Role.HOME_CARE_NURSE.value)
    shared.totp_secret, shared.totp_confirmed_at = "JBSWY3DPEHPK3PXP", dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    shared.save()
    password_before = shared.password
    page = client.get(reverse("admin:accounts_user_change", args=[shared.pk]))
    assert page.status_code == 200 and not page.context["has_change_permission"]  # read-only
    client.post(
        reverse("admin:auth_user_password_change", args=[shared.pk]),
        {"password1": "ett-nytt-langt-losenord", "password2": "ett-nytt-langt-losenord"},
    )
    client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "reset_totp", "_selected_action": [shared.pk]},
    )
    shared.refresh_from_db()
    assert shared.password == password_before and shared.has_totp
    # A Göteborg-only account is the administrator's to manage.
    local = actor(Role.HOME_CARE_NURSE, GBG_HOME_HEALTH, username="gbg-nurse").user
    local.totp_secret, local.totp_confirmed_at = "JBSWY3DPEHPK3PXP", dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    local.save()
    client.post(
        reverse("admin:accounts_user_changelist"), {"action": "reset_totp", "_selected_action": [local.pk]}
    )
    local.refresh_from_db()
    assert not local.has_totp
