"""The unit inbox (ADR 0103, 0105): discharge cases, SIPs and care requests in one list, ordered (overdue and
escalated, due soon, new and unacknowledged, the rest) and paged in the database so nothing urgent is lost
behind newer rows; filters, kind and search work with paging; protected names are never searchable; only the
persons on the page are access-logged; the number of queries does not grow with the page; and the
participant rows' ``next_due_at``/``case_status``/``last_event_at`` stay in step with every state change."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.db.models import Model
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from brygga.access.models import AccessLogEntry, Involvement
from brygga.access.services import involve
from brygga.accounts.permissions import Role
from brygga.cases import selectors, services
from brygga.cases.models import Case, Participant
from brygga.consent.services import record_consent
from brygga.inbox import selectors as inbox_selectors
from brygga.sip import services as sip_services
from brygga.sip.models import SipParticipant
from brygga.sip.selectors import InboxItem
from tests.factories import CONTACT_POINT, PRIMARY_CARE, WARD, actor, make_person, unit

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC)
HOME = "Göteborg hemsjukvård"
FAR = dt.date(2026, 12, 31)
PLANNING_ANSWERS = {
    "lives_alone": "ja",
    "home_care_before": "nej",
    "home_health_before": "nej",
    "aids_needed": "nej",
    "cognitive_impairment": "nej",
    "relatives_informed": "ja",
}


def client_for(a) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(a.user)
    return client


def admit(nurse, at, *, assessed=False, expected=FAR, person=None) -> Case:  # type: ignore[no-untyped-def]
    with time_machine.travel(at, tick=False):
        return services.admit(
            nurse,
            person or make_person("1480"),
            admitted_at=at,
            care_type="somatic",
            expected_discharge_date=expected,
            need_assessed_at=at if assessed else None,
        )


def overdue_behind_a_page(nurse) -> Case:  # type: ignore[no-untyped-def]
    """One case whose admission notice (R-INS-2) is overdue, then 55 newer cases with nothing due."""
    overdue = admit(nurse, T0, assessed=True)
    for n in range(55):
        admit(nurse, T0 + dt.timedelta(hours=1, minutes=n))
    return overdue


def assert_in_step(case: Case) -> None:
    case.refresh_from_db()
    rows = list(Participant.objects.filter(case=case))
    assert rows
    for p in rows:
        assert p.next_due_at == selectors.next_due_at(case, p.role), p.role
        assert p.case_status == case.status and p.last_event_at == case.last_event_at


# --- ordering and paging ------------------------------------------------------------------------------------


def test_r_ins_2_overdue_case_older_than_a_page_of_newer_ones_is_first_on_page_one(nurse) -> None:
    """The old inbox cut at the newest rows before sorting; the overdue case must still come first."""
    overdue = overdue_behind_a_page(nurse)
    with time_machine.travel(T0 + dt.timedelta(hours=30), tick=False):
        page = inbox_selectors.inbox_page(nurse)
        assert page.paginator.count == 56 and page.paginator.num_pages == 2
        assert page.object_list[0].case.pk == overdue.pk
        assert page.object_list[0].tier == 0 and page.object_list[0].priority == 0
        second = inbox_selectors.inbox_page(nurse, page=2)
    assert len(page.object_list) == 50 and len(second.object_list) == 6
    shown = [r.case.pk for r in page.object_list] + [r.case.pk for r in second.object_list]
    assert len(set(shown)) == 56  # every case exactly once across the pages
    # Within a tier, the most recent activity first.
    rest = [r.case.last_event_at for r in page.object_list[1:]]
    assert rest == sorted(rest, reverse=True)


def test_database_tier_agrees_with_the_deadlines_shown(nurse, vc) -> None:
    """Escalated (unacknowledged too long), due soon and new rows get the tier the row shows."""
    due_soon = admit(nurse, T0, expected=dt.date(2026, 11, 2))  # R-UTS-1 at 23:59:59 the same day
    with time_machine.travel(T0 + dt.timedelta(hours=1), tick=False):
        services.send_admission_notice(nurse, due_soon)
    with time_machine.travel(T0 + dt.timedelta(hours=14), tick=False):
        rows = inbox_selectors.inbox(nurse)
        assert [(r.tier, r.priority) for r in rows] == [(1, 1)]
    # The vårdcentral has not acknowledged the notice: escalated after 24 hours (ADR 0103).
    with time_machine.travel(T0 + dt.timedelta(hours=26), tick=False):
        rows = inbox_selectors.inbox(vc)
        assert rows[0].escalated and rows[0].tier == 0 and rows[0].priority == 0


def test_new_is_for_receiving_units_not_the_sending_ward(nurse) -> None:
    """ADR 0103: a receiving unit's row is new until it acknowledges; the ward that made the case is not."""
    contact = actor(Role.MUNICIPAL_CONTACT, CONTACT_POINT)
    case = admit(nurse, T0)
    with time_machine.travel(T0 + dt.timedelta(hours=1), tick=False):
        services.send_admission_notice(nurse, case)
        ward_row = inbox_selectors.inbox(nurse)[0]
        contact_row = inbox_selectors.inbox(contact)[0]
        assert (ward_row.new, ward_row.tier, ward_row.priority) == (False, 3, 3)
        assert (contact_row.new, contact_row.tier, contact_row.priority) == (True, 2, 2)
        services.acknowledge(contact, case)
        contact_row = inbox_selectors.inbox(contact)[0]
    assert (contact_row.new, contact_row.tier) == (False, 3)


def test_filters_and_kind_work_with_paging(nurse) -> None:
    cases = [admit(nurse, T0 + dt.timedelta(minutes=n), assessed=n % 2 == 0) for n in range(12)]
    with time_machine.travel(T0 + dt.timedelta(hours=1), tick=False):
        services.send_admission_notice(nurse, cases[0])
        services.send_discharge_info(nurse, cases[0], summary_given=True)
        services.discharge(nurse, cases[0])
    with time_machine.travel(T0 + dt.timedelta(hours=30), tick=False):
        urgent = inbox_selectors.inbox_page(nurse, status="urgent", per_page=4)
        assert urgent.paginator.count == 5 and urgent.paginator.num_pages == 2  # the 5 open overdue notices
        last = inbox_selectors.inbox_page(nurse, status="urgent", per_page=4, page=2)
        assert all(r.priority == 0 for r in list(urgent.object_list) + list(last.object_list))
        assert inbox_selectors.inbox_page(nurse, status="open").paginator.count == 11
        discharged = inbox_selectors.inbox_page(nurse, status="discharged")
        assert [r.case.pk for r in discharged.object_list] == [cases[0].pk]
        assert inbox_selectors.inbox_page(nurse, status="all", kind="sip").paginator.count == 0
        assert inbox_selectors.inbox_page(nurse, status="all", kind="case").paginator.count == 12
        # The page links keep the filter.
        html = client_for(nurse).get(reverse("cases:inbox"), {"status": "all", "page": "2"}).content.decode()
    assert "Sida 1 av 1" not in html  # 12 rows: one page only, no navigation
    assert (
        inbox_selectors.inbox_page(nurse, status="no-such-filter").paginator.count == 11
    )  # falls back to open


def test_page_navigation_is_accessible_and_keeps_filters(nurse) -> None:
    overdue_behind_a_page(nurse)
    with time_machine.travel(T0 + dt.timedelta(hours=30), tick=False):
        html = client_for(nurse).get(reverse("cases:inbox"), {"status": "all", "page": "2"}).content.decode()
    assert 'aria-label="Sidor i inkorgen"' in html and 'aria-current="page"' in html
    assert "Sida 2 av 2" in html and "status=all&amp;page=1" in html and 'rel="prev"' in html


# --- SIPs and care requests ---------------------------------------------------------------------------------


def _consent(vc, person):  # type: ignore[no-untyped-def]
    return record_consent(
        vc,
        person,
        given_by="person",
        form="verbal",
        purpose="SIP och vårdbegäran",
        parties=[unit(HOME)],
        categories=["sip", "health", "medications", "efforts"],
        exclusions_note="Inget",
    )


def _care_request(vc, person):  # type: ignore[no-untyped-def]
    return sip_services.send_care_request(
        vc,
        person,
        to_unit=unit(HOME),
        reason="Behöver hjälp med sårvård i hemmet.",
        health_summary="Venöst bensår, i övrigt stabil.",
        requested_efforts=["wound_care"],
        medication_responsibility="person",
        start_on=dt.date(2026, 11, 5),
        contact_name="Fia Fastvård",
        contact_phone="031-123 45 67",
    )


def item_of(row: inbox_selectors.InboxRow) -> InboxItem:
    """The SIP or care-request item of an inbox row (a discharge case's row has none)."""
    assert row.item is not None
    return row.item


def test_sip_and_care_request_items_for_the_right_unit_only(vc) -> None:
    home = actor(Role.HOME_CARE_NURSE, HOME)
    other = actor(Role.HOME_CARE_NURSE, "Borås hemsjukvård")
    person = make_person("1480", given_name="Sigrid", family_name="Sipsson")
    involve(person, unit(PRIMARY_CARE), Involvement.Kind.OTHER, "test:listning", at=T0 - dt.timedelta(days=1))
    with time_machine.travel(T0, tick=False):
        _consent(vc, person)
        sip = sip_services.start_sip(vc, person, need_description="Behöver hemsjukvård")
        request = _care_request(vc, person)
        home_rows = inbox_selectors.inbox(home)
        vc_rows = inbox_selectors.inbox(vc)
    assert [(r.kind, item_of(r).pk, item_of(r).state) for r in home_rows] == [
        ("care_request", request.pk, "new")
    ]
    # the initiator; HOME not summoned yet
    assert [(r.kind, item_of(r).pk) for r in vc_rows] == [("sip", sip.pk)]
    assert home_rows[0].kind_label == "Vårdbegäran" and vc_rows[0].kind_label == "SIP"
    assert inbox_selectors.inbox(other) == []
    # The answer clock (24 h): overdue after a day, before newer items.
    with time_machine.travel(T0 + dt.timedelta(hours=25), tick=False):
        admit(actor(Role.WARD_NURSE, WARD), T0 + dt.timedelta(hours=25), person=make_person("1480"))
        row = inbox_selectors.inbox(home)[0]
        assert row.kind == "care_request" and row.tier == 0 and item_of(row).state == "overdue"
        html = client_for(home).get(reverse("cases:inbox")).content.decode()
    assert "Vårdbegäran" in html and "Sigrid Sipsson" in html
    assert reverse("sip:care_request", args=[request.pk]) in html
    # /sip/ "Att göra" reads the same source and points to the inbox.
    with time_machine.travel(T0 + dt.timedelta(hours=25), tick=False):
        sip_page = client_for(home).get(reverse("sip:index")).content.decode()
    assert reverse("sip:care_request", args=[request.pk]) in sip_page
    assert f"{reverse('cases:inbox')}?kind=care_request" in sip_page
    # Kind filter and the unacknowledged filter: opening the request is its acknowledgement.
    with time_machine.travel(T0 + dt.timedelta(hours=1), tick=False):
        assert (
            inbox_selectors.inbox_page(home, kind="care_request", status="unacknowledged").paginator.count
            == 1
        )
        sip_services.open_care_request(home, request.pk)
        assert (
            inbox_selectors.inbox_page(home, kind="care_request", status="unacknowledged").paginator.count
            == 0
        )
        assert inbox_selectors.inbox_page(home, status="discharged").paginator.count == 0  # cases only


def _summoned_sip_with_follow_up(vc, due_on: dt.date, responsible: str):  # type: ignore[no-untyped-def]
    """A person listed at the vårdcentral, with consent, whose SIP (home care nurse taking part) is summoned at
    T0 with a follow-up due on ``due_on`` for the unit named ``responsible``."""
    person = make_person("1480")
    involve(person, unit(PRIMARY_CARE), Involvement.Kind.OTHER, "test:listning", at=T0 - dt.timedelta(days=1))
    with time_machine.travel(T0, tick=False):
        _consent(vc, person)
        sip = sip_services.start_sip(vc, person, need_description="Behöver hemsjukvård")
        sip_services.add_participant(vc, sip, kind="unit", unit=unit(HOME))
        sip_services.summon(vc, sip, meeting_at=T0 + dt.timedelta(days=1))
        sip_services.add_follow_up(
            vc, sip, due_on=due_on, description="Sårläkning", responsible_unit=unit(responsible)
        )
    return sip, person


def test_r_vg_sip_1_overdue_follow_up_is_first_and_sip_is_acknowledged_through_its_service(vc) -> None:
    home = actor(Role.HOME_CARE_NURSE, HOME)
    nurse = actor(Role.WARD_NURSE, WARD)
    sip, _person = _summoned_sip_with_follow_up(vc, dt.date(2026, 11, 10), HOME)
    for n in range(3):
        admit(nurse, T0 + dt.timedelta(days=9, minutes=n), person=make_person("1480"))
    # HOME was summoned: a new SIP item to acknowledge.
    with time_machine.travel(T0 + dt.timedelta(hours=2), tick=False):
        row = inbox_selectors.inbox(home)[0]
        assert row.kind == "sip" and row.tier == 2 and row.needs_ack
        html = client_for(home).get(reverse("cases:inbox")).content.decode()
        assert reverse("sip:action", args=[sip.pk, "acknowledge"]) in html
        response = client_for(home).post(reverse("sip:action", args=[sip.pk, "acknowledge"]))
        assert response.status_code == 302
        assert SipParticipant.objects.get(sip=sip, unit=unit(HOME)).acknowledged_at is not None
        assert inbox_selectors.inbox_page(home, status="unacknowledged").paginator.count == 0
    # The follow-up date has passed: overdue, first.
    with time_machine.travel(dt.datetime(2026, 11, 11, 9, 0, tzinfo=dt.UTC), tick=False):
        row = inbox_selectors.inbox(home)[0]
        item = item_of(row)
        assert (row.kind, row.tier, item.state, item.rule) == ("sip", 0, "overdue", "R-VG-SIP-1")
        summary = next(s for s in inbox_selectors.inbox_summaries(home) if s["unit"] == unit(HOME))
        assert summary["overdue"] >= 1 and summary["open"] >= 1


def _paginated(a, status="open", q="", kind="", page=None, per_page=50):  # type: ignore[no-untyped-def]
    """The page as Django's Paginator picks it from the ORM source: what the one-statement page must equal."""
    from django.core.paginator import Paginator

    source = inbox_selectors.inbox_source(a, status, q, kind, timezone.now())
    result = Paginator(source, per_page).get_page(page)
    return (
        result.number,
        result.paginator.count,
        [(e["ib_kind"], e["ib_row"], e["ib_tier"]) for e in result.object_list],
    )


def test_one_statement_page_and_counts_equal_the_paginator_and_the_separate_summary_counts(vc) -> None:
    """Issue 17: the inbox's page, its total and the active unit's SIP and care-request counts come from one
    statement. The same page number, total and rows as Django's paginator over the ORM source for every
    filter, kind and page number (past the end, zero, negative, not a number); and the same summary counts
    as the separate statement other units and views still use."""
    home = actor(Role.HOME_CARE_NURSE, HOME)
    nurse = actor(Role.WARD_NURSE, WARD)
    _sip, person = _summoned_sip_with_follow_up(vc, dt.date(2026, 11, 3), PRIMARY_CARE)
    with time_machine.travel(T0, tick=False):
        _care_request(vc, person)
    for n in range(7):
        case = admit(nurse, T0 + dt.timedelta(minutes=n), assessed=n % 2 == 0, person=make_person("1480"))
        with time_machine.travel(T0 + dt.timedelta(minutes=30 + n), tick=False):
            services.send_admission_notice(nurse, case)
    # Two whose admission notice is never sent: due at T0 + 24 h (R-INS-2), so due soon, then overdue.
    admit(nurse, T0, assessed=True)
    admit(nurse, T0 + dt.timedelta(minutes=10), assessed=True)
    # ADR 0704: the list's statement is compiled once per unit and view and reused at every later time; the
    # clock's values (overdue, due soon, the involvement's grace) are computed at each run. Before the notices
    # are due, when they are overdue and the follow-up too, and much later: the same as the ORM built anew.
    tiers_seen = set()
    for later in (dt.timedelta(hours=1), dt.timedelta(hours=20), dt.timedelta(days=2), dt.timedelta(days=40)):
        with time_machine.travel(T0 + later, tick=False):
            for a in (vc, nurse, home):
                for status in ("open", "urgent", "unacknowledged", "all", "closed"):
                    for kind in ("", "case", "sip", "care_request"):
                        pages = (
                            (None, "1", "2", "3", "99", "0", "-1", "x") if later.days == 2 else (None, "2")
                        )
                        for page in pages:
                            got, _now = inbox_selectors.inbox_entries_page(
                                a, status, "", kind, page, per_page=3
                            )
                            entries = [(e["ib_kind"], e["ib_row"], e["ib_tier"]) for e in got.object_list]
                            tiers_seen.add((later, tuple(e["ib_tier"] for e in got.object_list)))
                            assert (got.number, got.paginator.count, entries) == _paginated(
                                a, status, "", kind, page, per_page=3
                            ), (later, a.role, status, kind, page)
    assert len({tiers for _later, tiers in tiers_seen}) > 3  # the tiers did change with the clock
    with time_machine.travel(T0 + dt.timedelta(days=2), tick=False):
        counted = inbox_selectors.inbox_entries_page(vc)[0].other_counts  # type: ignore[attr-defined]
        assert counted["open"] >= 1 and counted["overdue"] >= 1  # the overdue follow-up
        assert counted == inbox_selectors._sip_and_care_request_counts(unit(PRIMARY_CARE), timezone.now())
        assert inbox_selectors.inbox_summaries(vc, counted) == inbox_selectors.inbox_summaries(vc)
        # The rows read only ROW_FIELDS: no column of a row is fetched afterwards, one row at a time.
        with mock.patch.object(Model, "refresh_from_db", side_effect=AssertionError("a deferred field")):
            for a in (vc, nurse, home):
                for status in ("open", "all"):
                    response = client_for(a).get(reverse("cases:inbox"), {"status": status})
                    assert response.status_code == 200
                    assert response.content.count(b"<tr ") >= 1
        # Another view (a filter or a search) counts other rows: it offers no summary counts.
        assert not hasattr(inbox_selectors.inbox_entries_page(vc, status="urgent")[0], "other_counts")
        assert not hasattr(inbox_selectors.inbox_entries_page(vc, q="Test")[0], "other_counts")


# --- search and protected identity --------------------------------------------------------------------------


def test_search_by_personnummer_and_name_with_paging(nurse) -> None:
    overdue_behind_a_page(nurse)
    named = make_person("1480", given_name="Gunvor", family_name="Sökbar")
    case = admit(nurse, T0 + dt.timedelta(hours=3), person=named)
    with time_machine.travel(T0 + dt.timedelta(hours=30), tick=False):
        by_name = inbox_selectors.inbox_page(nurse, q="sökbar")
        assert [r.case.pk for r in by_name.object_list] == [case.pk]
        digits = named.identifier
        dashed = f"{digits[:8]}-{digits[8:]}"
        assert [r.case.pk for r in inbox_selectors.inbox_page(nurse, q=dashed).object_list] == [case.pk]
        everyone = inbox_selectors.inbox_page(nurse, q="Testsson", per_page=20)
        assert everyone.paginator.count == 56 and everyone.paginator.num_pages == 3


def test_protected_persons_name_is_never_searchable(nurse) -> None:
    hidden = make_person("1480", protected=True, given_name="Hemliga", family_name="Skyddsson")
    case = admit(nurse, T0, person=hidden)
    with time_machine.travel(T0 + dt.timedelta(hours=1), tick=False):
        assert inbox_selectors.inbox_page(nurse, q="Skyddsson").paginator.count == 0
        assert inbox_selectors.inbox_page(nurse, q="Hemliga").paginator.count == 0
        rows = inbox_selectors.inbox_page(nurse, q=hidden.identifier).object_list
        html = client_for(nurse).get(reverse("cases:inbox")).content.decode()
    assert [r.case.pk for r in rows] == [case.pk] and rows[0].name == "Skyddad identitet"
    assert "Skyddsson" not in html and "Skyddad identitet" in html


# --- access log and queries ---------------------------------------------------------------------------------


def test_only_the_persons_on_the_page_are_access_logged(nurse) -> None:
    overdue = overdue_behind_a_page(nurse)
    what = f"inkorg:{unit(WARD).pk}"
    before = AccessLogEntry.objects.filter(what=what).count()
    with time_machine.travel(T0 + dt.timedelta(hours=30), tick=False):
        client_for(nurse).get(reverse("cases:inbox"))
    entries = AccessLogEntry.objects.filter(what=what, user=nurse.user, action="read")
    assert entries.count() - before == 50
    assert entries.filter(person=overdue.person).exists()
    newest_not_shown = (
        Case.objects.exclude(pk=overdue.pk).order_by("last_event_at", "pk").values_list("person", flat=True)
    )[:5]
    assert not entries.filter(person__in=list(newest_not_shown)).exists()


def _count_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("cases:inbox"), {"status": "all"})
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_page_runs_a_bounded_number_of_queries(nurse, vc) -> None:
    """The same number of queries for 3 rows and for a full page of 50 (no N+1)."""
    home = actor(Role.HOME_CARE_NURSE, HOME)
    person = make_person("1480")
    involve(person, unit(PRIMARY_CARE), Involvement.Kind.OTHER, "test:listning", at=T0 - dt.timedelta(days=1))
    with time_machine.travel(T0, tick=False):
        _consent(vc, person)
        _care_request(vc, person)
    for n in range(3):
        admit(nurse, T0 + dt.timedelta(minutes=n))
    with time_machine.travel(T0 + dt.timedelta(hours=2), tick=False):
        few = _count_queries(client_for(nurse))
        few_home = _count_queries(client_for(home))
    for n in range(55):
        admit(nurse, T0 + dt.timedelta(hours=1, minutes=n))
    with time_machine.travel(T0 + dt.timedelta(hours=2), tick=False):
        many = _count_queries(client_for(nurse))
    assert many == few and many <= 20
    assert few_home <= 20


# --- next_due_at in step ------------------------------------------------------------------------------------


def test_next_due_at_stays_in_step_with_every_state_change(nurse, vc) -> None:
    physician = actor(Role.PHYSICIAN, WARD)
    contact = actor(Role.MUNICIPAL_CONTACT, CONTACT_POINT)
    case = admit(nurse, T0, assessed=True, expected=dt.date(2026, 11, 9))
    assert_in_step(case)
    ward = Participant.objects.get(case=case, role="ward")
    assert ward.next_due_at == T0 + dt.timedelta(hours=24)  # R-INS-2
    with time_machine.travel(T0 + dt.timedelta(hours=2), tick=False):
        services.send_admission_notice(nurse, case)
    assert_in_step(case)
    eod = timezone.make_aware(dt.datetime.combine(dt.date(2026, 11, 9), dt.time(23, 59, 59)))
    assert Participant.objects.get(case=case, role="ward").next_due_at == eod  # R-UTS-1
    assert Participant.objects.get(case=case, role="primary_care").next_due_at == eod  # R-FVK-1
    assert Participant.objects.get(case=case, role="municipality").next_due_at is None
    with time_machine.travel(T0 + dt.timedelta(hours=3), tick=False):
        services.change_expected_date(nurse, case, dt.date(2026, 11, 7), "medical_condition")
    assert_in_step(case)
    assert Participant.objects.get(case=case, role="ward").next_due_at == timezone.make_aware(
        dt.datetime.combine(dt.date(2026, 11, 7), dt.time(23, 59, 59))
    )
    with time_machine.travel(T0 + dt.timedelta(hours=4), tick=False):
        services.save_planning_basis(
            nurse,
            case,
            answers=PLANNING_ANSWERS,
            needs={"social_services": "ja", "municipal_health": "nej", "primary_care": "ja"},
        )
    assert_in_step(case)
    ready = T0 + dt.timedelta(days=1)
    with time_machine.travel(ready, tick=False):
        services.set_discharge_ready(physician, case)
    assert_in_step(case)
    assert Participant.objects.get(case=case, role="primary_care").next_due_at == ready + dt.timedelta(days=3)
    with time_machine.travel(ready + dt.timedelta(hours=1), tick=False):
        services.withdraw_discharge_ready(physician, case, "medical_condition")
    assert_in_step(case)
    with time_machine.travel(ready + dt.timedelta(hours=2), tick=False):
        services.set_discharge_ready(physician, case)
        services.acknowledge(contact, case)
    assert_in_step(case)
    with time_machine.travel(ready + dt.timedelta(hours=3), tick=False):
        services.send_sip_summons(vc, case)
        services.appoint_coordinator(vc, case, "Frida Fast", "031-1")
    assert_in_step(case)
    assert Participant.objects.get(case=case, role="primary_care").next_due_at is None
    with time_machine.travel(ready + dt.timedelta(hours=4), tick=False):
        services.start_leave(nurse, case)
    assert_in_step(case)
    assert Participant.objects.get(case=case, role="ward").case_status == Case.Status.ON_LEAVE
    with time_machine.travel(ready + dt.timedelta(hours=5), tick=False):
        services.end_leave(nurse, case)
        services.send_discharge_info(nurse, case, summary_given=True)
    assert_in_step(case)
    assert Participant.objects.get(case=case, role="ward").next_due_at is None
    with time_machine.travel(ready + dt.timedelta(hours=6), tick=False):
        services.discharge(nurse, case)
    assert_in_step(case)
    assert set(Participant.objects.filter(case=case).values_list("case_status", flat=True)) == {"discharged"}


def test_refresh_inbox_recomputes_rows_written_around_the_services(nurse) -> None:
    case = admit(nurse, T0, assessed=True)
    Participant.objects.filter(case=case).update(case_status="", last_event_at=None, next_due_at=None)
    call_command("refresh_inbox", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert_in_step(case)
    call_command("refresh_inbox", stdout=open("/dev/null", "w"))  # noqa: SIM115  (idempotent)
    assert_in_step(case)


def test_api_inbox_list_pages_with_headers(nurse) -> None:
    """GET /api/v1/cases/ lists the inbox's discharge cases, paged, with the overdue case first."""
    overdue = overdue_behind_a_page(nurse)
    client = client_for(nurse)
    with time_machine.travel(T0 + dt.timedelta(hours=30), tick=False):
        query: dict[str, str | int] = {"status": "all", "page_size": 20}
        first = client.get("/api/v1/cases/", query)
        third = client.get("/api/v1/cases/", {**query, "page": 3})
    assert first.status_code == 200 and third.status_code == 200
    assert first.json()[0]["id"] == overdue.pk and len(first.json()) == 20 and len(third.json()) == 16
    assert first["X-Total-Count"] == "56" and first["X-Page-Count"] == "3"
    assert 'rel="next"' in first["Link"] and "page=2" in first["Link"] and "status=all" in first["Link"]
    assert 'rel="prev"' in third["Link"] and 'rel="next"' not in third["Link"]


def test_inbox_rows_escape_what_they_show(nurse) -> None:  # type: ignore[no-untyped-def]
    """The rows are built in Python (brygga.inbox.presenters, ADR 0702): a name with markup characters is
    escaped as the template escaped it (the rows' markup as a whole is pinned by tests/test_page_content.py)."""
    person = make_person("1480", given_name="Åsa <b>", family_name="O'Brien & Co")
    # the planned date relative to now, like the admission (never a fixed date mixed with "today")
    case = admit(
        nurse,
        timezone.now() - dt.timedelta(hours=1),
        person=person,
        expected=timezone.localdate() + dt.timedelta(days=10),
    )
    body = client_for(nurse).get(reverse("cases:inbox")).content.decode()
    listing = body[body.index('id="inbox-list"') :]
    rows = listing[listing.index("<tbody>") : listing.index("</tbody>")]
    assert "O&#x27;Brien &amp; Co" in rows and "Åsa &lt;b&gt;" in rows
    assert "<b>" not in rows and "O'Brien" not in rows
    assert f'href="{reverse("cases:inbox")}{case.pk}/"' in rows
