"""The cached unit directory behind the unit pickers (issue 17, ADR 0703): one query a minute per process,
a change in this process seen at once, another process's change within the minute, and a unit closed in the
meantime still refused by the service whatever the picker offered."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client

from brygga.accounts.permissions import Role
from brygga.cases import services
from brygga.cases.models import CaseEvent
from brygga.core.errors import DomainError
from brygga.organisations import directory
from brygga.organisations.models import Unit
from tests.factories import CONTACT_POINT, WARD, actor, make_person, unit

pytestmark = pytest.mark.django_db


def _case_page(nurse_client: Client, case_id: int) -> str:
    response = nurse_client.get(f"/arenden/{case_id}/")
    assert response.status_code == 200
    return response.content.decode()


def _admitted(nurse):  # type: ignore[no-untyped-def]
    at = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC)
    with time_machine.travel(at, tick=False):
        return services.admit(
            nurse,
            make_person("1480"),
            admitted_at=at,
            care_type="somatic",
            expected_discharge_date=dt.date(2026, 11, 9),
        )


def test_directory_is_read_once_within_its_minute(django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    first = directory.active_units()
    assert first, "the reference data has active units"
    with django_assert_num_queries(0):
        assert directory.active_units() is first
    # The pickers' lists keep the database's order by name and only active units of the kinds asked for.
    receiving = directory.units_of_kinds({Unit.Kind.MUNICIPAL_CONTACT})
    names = [u.name for u in receiving]
    assert names == list(
        Unit.objects.filter(is_active=True, kind=Unit.Kind.MUNICIPAL_CONTACT)
        .order_by("name", "pk")
        .values_list("name", flat=True)
    )


def test_a_unit_saved_in_this_process_shows_at_once() -> None:
    directory.active_units()
    contact = unit(CONTACT_POINT)
    contact.name = "Kontaktpunkt Omdöpt"
    contact.save()
    assert "Kontaktpunkt Omdöpt" in {u.name for u in directory.active_units()}
    contact.is_active = False
    contact.save()
    assert contact.pk not in {u.pk for u in directory.active_units()}


def test_a_change_by_another_process_shows_within_the_minute(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    clock = [1000.0]
    monkeypatch.setattr(directory.time, "monotonic", lambda: clock[0])
    directory.active_units()
    contact = unit(CONTACT_POINT)
    # An update that sends no signal stands for a save in another process.
    Unit.objects.filter(pk=contact.pk).update(name="Kontaktpunkt Annan Process")
    clock[0] += 59
    assert "Kontaktpunkt Annan Process" not in {u.name for u in directory.active_units()}
    clock[0] += 2
    assert "Kontaktpunkt Annan Process" in {u.name for u in directory.active_units()}


def test_no_cache_when_switched_off(settings, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    settings.DIRECTORY_CACHE_SECONDS = 0
    directory.active_units()
    with django_assert_num_queries(1):
        directory.active_units()


def test_unit_closed_after_the_picker_was_built_is_refused_R_INS_7() -> None:
    nurse = actor(Role.WARD_NURSE, WARD)
    case = _admitted(nurse)
    client = Client()
    client.force_login(nurse.user)
    contact = unit(CONTACT_POINT)
    assert f'<option value="{contact.hsa_id}">' in _case_page(client, case.pk)
    # Closed by another process: this process's picker still offers it for up to a minute ...
    Unit.objects.filter(pk=contact.pk).update(is_active=False)
    assert f'<option value="{contact.hsa_id}">' in _case_page(client, case.pk)
    # ... but sending the notice to it is refused by the service and writes nothing.
    before = list(CaseEvent.objects.filter(case=case).values_list("kind", flat=True))
    response = client.post(
        f"/arenden/{case.pk}/notice/", {"recipients_pick": [contact.picker_label]}, follow=True
    )
    assert response.status_code == 400, response.status_code
    assert f"Enheten {contact.hsa_id} finns inte eller är inte aktiv." in response.content.decode()
    assert list(CaseEvent.objects.filter(case=case).values_list("kind", flat=True)) == before
    with pytest.raises(DomainError) as err:
        services.send_admission_notice(nurse, case, recipients=[contact.hsa_id])
    assert err.value.problems[0].rule == "OKAND-ENHET"


def test_the_case_page_reads_municipality_and_hospital_from_the_directory_and_sees_a_saved_change(
    client: Client,
) -> None:
    """The case's municipality and hospital come from the per-process directory (no statement of their own
    after the first page), each page gets its own copy, and a rename saved in this process shows at once."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from brygga.organisations.models import Municipality, Site

    nurse = actor(Role.WARD_NURSE, WARD)
    case = _admitted(nurse)
    client.force_login(nurse.user)
    _case_page(client, case.pk)
    with CaptureQueriesContext(connection) as ran:
        page = _case_page(client, case.pk)
    tables = " ".join(q["sql"] for q in ran.captured_queries)
    assert 'FROM "organisations_municipality"' not in tables
    assert 'FROM "organisations_site"' not in tables
    assert case.municipality.name in page and case.site.name in page

    first = services.open_case(nurse, case.pk)
    second = services.open_case(nurse, case.pk)
    assert first.municipality is not second.municipality  # a copy each: one page's change is not another's
    municipality = Municipality.objects.get(pk=case.municipality_id)
    municipality.name = "Omdöpt kommun"
    municipality.save()
    site = Site.objects.get(pk=case.site_id)
    site.name = "Omdöpt sjukhus"
    site.save()
    page = _case_page(client, case.pk)
    assert "Omdöpt kommun" in page and "Omdöpt sjukhus" in page
