"""Payment responsibility settled from REAL cases: every stay is built through the cases services (admission,
notice, discharge-ready set and withdrawn, discharge) under frozen time, then settled through the adapter
(brygga.payment.adapter, brygga.cases.facts) with exact, hand-computed days and kronor. Also: the bulk adapter
equals the single-case one, the query count is bounded, the scheduled settlement is idempotent, and a dispute
on a closed settlement is refused with a reason."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import replace
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from brygga.access.models import AccessLogEntry
from brygga.accounts.permissions import Role
from brygga.cases import services as cases
from brygga.cases.facts import iter_stay_facts_fields, stay_facts_fields
from brygga.cases.models import Case, CaseEvent
from brygga.core.errors import DomainError
from brygga.organisations.models import Municipality
from brygga.payment import adapter, services
from brygga.payment.models import Dispute, SettlementLine, SettlementRun
from tests.factories import CONTACT_POINT, actor, make_person

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Europe/Stockholm")
TODAY = dt.date(2026, 11, 23)
GITS = "GITS kansli"
K = CaseEvent.Kind


def at(day: str, hour: int = 10) -> dt.datetime:
    """A local Swedish time on an ISO date."""
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), tzinfo=TZ)


@pytest.fixture
def region():  # type: ignore[no-untyped-def]
    return actor(Role.GITS_COORDINATOR, GITS, username="gits-test")


def gothenburg() -> Municipality:
    return Municipality.objects.get(scb_code="1480")


def stay(  # type: ignore[no-untyped-def]
    nurse,
    physician,
    *,
    ready: list[tuple[str, str | None]] | str,
    discharged: str | None,
    admitted: str | None = None,
    notice: bool = True,
    code: str = "1480",
) -> Case:
    """A stay through the cases services. ``ready``: discharge-ready assessments (set, withdrawn or None), or
    one ISO date (set at 10:00). Admitted two days before the first assessment, notice one hour later,
    discharged at 14:00 on ``discharged``."""
    periods = [(ready, None)] if isinstance(ready, str) else ready
    admitted_at = at(admitted) if admitted else at(periods[0][0], 8) - dt.timedelta(days=2)
    with time_machine.travel(admitted_at, tick=False):
        case = cases.admit(
            nurse,
            make_person(code),
            admitted_at=admitted_at,
            care_type="somatic",
            expected_discharge_date=admitted_at.date() + dt.timedelta(days=5),
        )
    if notice:
        with time_machine.travel(admitted_at + dt.timedelta(hours=1), tick=False):
            cases.send_admission_notice(nurse, case)
    for set_on, withdrawn_on in periods:
        with time_machine.travel(at(set_on), tick=False):
            cases.set_discharge_ready(physician, case)
        if withdrawn_on:
            with time_machine.travel(at(withdrawn_on), tick=False):
                cases.withdraw_discharge_ready(physician, case, "Feber")
    if discharged:
        with time_machine.travel(at(discharged, 14), tick=False):
            cases.send_discharge_info(nurse, case, summary_given=True)
            cases.discharge(nurse, case)
    case.refresh_from_db()
    return case


def settle(region, year: int, month: int, municipality: Municipality | None = None) -> SettlementRun:  # type: ignore[no-untyped-def]
    return services.run_settlement(region, municipality or gothenburg(), year, month, today=TODAY)


def lines_by_case(run: SettlementRun) -> dict[str, SettlementLine]:
    return {line.case_reference: line for line in run.lines.all()}


# --- the national default (R-BET-1, R-BET-2) ---------------------------------------------------------------


def test_r_bet_1_national_model_from_real_cases_with_a_month_boundary(nurse, physician, region) -> None:  # type: ignore[no-untyped-def]
    """Before the VG agreement (2018-09-25) the law's default applies: responsible from 3 calendar days after
    the discharge-ready notice, to the day before discharge, each day in the month it falls in.

    A: notice 5 March, discharged 12 March → 8, 9, 10, 11 March = 4 days.
    B: notice 28 March, discharged 6 April → 31 March (1 day) in March, 1–5 April (5 days) in April.
    C: no admission notice → excluded (R-BET-2), reported as a data problem, no money.
    The 2018 amount is not known (R-BET-4): the test records 7 000 kr as a stated test value."""
    services.record_amount(region, 2018, "7000", "Testbelopp (inte Socialstyrelsens)")
    a = stay(nurse, physician, ready="2018-03-05", discharged="2018-03-12")
    b = stay(nurse, physician, ready="2018-03-28", discharged="2018-04-06")
    c = stay(nurse, physician, ready="2018-03-10", discharged="2018-03-20", notice=False)

    march = settle(region, 2018, 3)
    lines = lines_by_case(march)
    assert march.source == SettlementRun.Source.CASES
    assert lines[str(a.pk)].payable_days == 4 and lines[str(a.pk)].amount == Decimal("28000.00")
    assert lines[str(a.pk)].rule_label == "national-default v1"
    assert lines[str(b.pk)].payable_days == 1 and lines[str(b.pk)].amount == Decimal("7000.00")
    assert lines[str(c.pk)].kind == "excluded" and lines[str(c.pk)].exclusion_rule == "R-BET-2"
    assert "Inskrivningsmeddelande saknas" in lines[str(c.pk)].exclusion_reason
    assert [(p["case_reference"], p["field"]) for p in march.problems] == [
        (str(c.pk), "admission_notice_sent_at")
    ]
    assert march.totals() == {"payable_days": Decimal("5.00"), "amount": Decimal("35000.00")}

    april = settle(region, 2018, 4)
    assert {ref: line.payable_days for ref, line in lines_by_case(april).items()} == {str(b.pk): 5}
    assert april.totals()["amount"] == Decimal("35000.00")


# --- the VG average model (R-VG-BET-1..5) ------------------------------------------------------------------


def test_r_vg_bet_1_average_model_with_the_7_day_rule_and_a_withdrawn_discharge_ready(
    nurse, physician, region
) -> None:  # type: ignore[no-untyped-def]
    """March 2022, Göteborg, 9 300 kr per day (HSLF-FS), day 0 = notice day.

    members: 1→3 March (2 days), 7→12 (5), 18→22 after a withdrawal on 16 March (4, from the latest notice,
    R-UK-2), 20→27 (7: exactly seven stays in the average); long: 14→24 (10 > 7: 10 − 3 = 7 days,
    65 100 kr, R-VG-BET-5); withdrawn and not set again → excluded (R-UK-2); no admission notice → excluded
    (R-VG-BET-2). Average: 4 stays, 18 days, 18 − 3.0 × 4 = 6 days, 55 800 kr. Total 13 days, 120 900 kr."""
    short = stay(nurse, physician, ready="2022-03-01", discharged="2022-03-03")
    five = stay(nurse, physician, ready="2022-03-07", discharged="2022-03-12")
    reset = stay(
        nurse, physician, ready=[("2022-03-15", "2022-03-16"), ("2022-03-18", None)], discharged="2022-03-22"
    )
    seven = stay(nurse, physician, ready="2022-03-20", discharged="2022-03-27")
    long = stay(nurse, physician, ready="2022-03-14", discharged="2022-03-24")
    withdrawn = stay(nurse, physician, ready=[("2022-03-20", "2022-03-21")], discharged="2022-03-25")
    unnoticed = stay(nurse, physician, ready="2022-03-10", discharged="2022-03-15", notice=False)

    run = settle(region, 2022, 3)
    lines = lines_by_case(run)
    members = {str(c.pk): d for c, d in ((short, 2), (five, 5), (reset, 4), (seven, 7))}
    for ref, days in members.items():
        assert lines[ref].kind == "average_member" and lines[ref].days == days and lines[ref].amount is None
    assert "återtogs" in lines[str(reset.pk)].explanation
    assert lines[str(long.pk)].kind == "long_stay" and lines[str(long.pk)].days == 10
    assert lines[str(long.pk)].payable_days == 7 and lines[str(long.pk)].amount == Decimal("65100.00")
    assert lines[str(withdrawn.pk)].exclusion_rule == "R-UK-2"
    assert lines[str(unnoticed.pk)].exclusion_rule == "R-VG-BET-2"
    excess = lines[""]
    assert excess.kind == "average_excess" and excess.days == 18
    assert excess.payable_days == 6 and excess.amount == Decimal("55800.00")
    assert all(line.rule_label == "vg-average v1" for line in run.lines.all())
    assert run.totals() == {"payable_days": Decimal("13.00"), "amount": Decimal("120900.00")}
    assert [p["case_reference"] for p in run.problems] == [str(unnoticed.pk)]


def test_r_vg_bet_1_a_stay_over_a_month_boundary_belongs_to_its_discharge_month(
    nurse, physician, region
) -> None:  # type: ignore[no-untyped-def]
    """Notice 26 February 2022, discharged 2 March: 4 days, counted in March only (R-VG-BET-1, day 0)."""
    case = stay(nurse, physician, ready="2022-02-26", discharged="2022-03-02")
    assert not lines_by_case(settle(region, 2022, 2))
    march = lines_by_case(settle(region, 2022, 3))
    assert march[str(case.pk)].days == 4 and march[""].payable_days == 1  # 4 − 3.0 × 1
    assert march[""].amount == Decimal("9300.00")


# --- corrections and cancellations (ADR 0101) --------------------------------------------------------------


def test_a_corrected_discharge_time_and_a_cancelled_admission_notice_are_applied(
    nurse, physician, region
) -> None:  # type: ignore[no-untyped-def]
    """The discharge of 12 March is corrected to 14 March (7 days, not 5); a cancelled admission notice
    counts as no notice (R-VG-BET-2); a cancelled discharge notice (the discharge did not happen) takes the
    stay out of the month."""
    corrected = stay(nurse, physician, ready="2022-03-07", discharged="2022-03-12")
    discharged = CaseEvent.objects.get(case=corrected, kind=K.DISCHARGED)
    with time_machine.travel(at("2022-03-15"), tick=False):
        cases.correct_notice(nurse, corrected, discharged.pk, at("2022-03-14", 14), "Fel datum")

    voided = stay(nurse, physician, ready="2022-03-08", discharged=None)
    notice = CaseEvent.objects.get(case=voided, kind=K.ADMISSION_NOTICE_SENT)
    with time_machine.travel(at("2022-03-09"), tick=False):
        cases.cancel_notice(nurse, voided, notice.pk, "wrong_person")
    with time_machine.travel(at("2022-03-11", 14), tick=False):
        cases.send_discharge_info(nurse, voided, summary_given=True)
        cases.discharge(nurse, voided)

    undone = stay(nurse, physician, ready="2022-03-05", discharged="2022-03-09")
    discharge_notice = CaseEvent.objects.get(case=undone, kind=K.DISCHARGE_NOTICE_SENT)
    with time_machine.travel(at("2022-03-09", 16), tick=False):
        cases.cancel_notice(nurse, undone, discharge_notice.pk, "discharge_did_not_happen")

    lines = lines_by_case(settle(region, 2022, 3))
    assert lines[str(corrected.pk)].days == 7 and lines[str(corrected.pk)].discharge_date == dt.date(
        2022, 3, 14
    )
    assert lines[str(voided.pk)].exclusion_rule == "R-VG-BET-2"
    assert str(undone.pk) not in lines  # still in hospital: not a March stay
    assert lines[""].payable_days == 4  # 7 − 3.0 × 1


# --- open data problems, reproduction, disputes ------------------------------------------------------------


def test_r_bet_4_missing_amount_from_real_cases_is_reported_and_blocks_closing(
    nurse, physician, region
) -> None:  # type: ignore[no-untyped-def]
    """2023 has no known amount: days are counted, no money, a blocking problem, closing refused."""
    case = stay(nurse, physician, ready="2023-05-02", discharged="2023-05-12")
    run = settle(region, 2023, 5)
    line = lines_by_case(run)[str(case.pk)]
    assert line.payable_days == 7 and line.amount is None and run.totals()["amount"] is None
    assert [p["rule"] for p in run.problems if p["blocking"]] == ["R-BET-4"]
    with pytest.raises(DomainError) as refused:
        services.close_settlement(region, run.pk)
    assert refused.value.problems[0].rule == "BETALNING-DATAPROBLEM"
    run.refresh_from_db()
    assert run.status == SettlementRun.Status.OPEN


def test_rerunning_from_cases_gives_the_same_stored_run_and_it_reproduces(nurse, physician, region) -> None:  # type: ignore[no-untyped-def]
    stay(nurse, physician, ready="2022-03-07", discharged="2022-03-12")
    first = settle(region, 2022, 3)
    again = settle(region, 2022, 3)
    assert again.pk == first.pk and SettlementRun.objects.filter(year=2022, month=3).count() == 1
    assert services.reproduce(first) == []
    late = stay(nurse, physician, ready="2022-03-20", discharged="2022-03-30")  # a stay recorded afterwards
    third = settle(region, 2022, 3)
    first.refresh_from_db()
    assert third.sequence == 2 and first.status == SettlementRun.Status.SUPERSEDED
    assert str(late.pk) in lines_by_case(third)


def test_a_dispute_on_a_closed_settlement_is_refused_with_a_reason(nurse, physician, region) -> None:  # type: ignore[no-untyped-def]
    stay(nurse, physician, ready="2022-03-14", discharged="2022-03-24")
    run = settle(region, 2022, 3)
    services.close_settlement(region, run.pk)
    line = run.lines.get(kind="long_stay")
    contact = actor(Role.MUNICIPAL_CONTACT, CONTACT_POINT)
    with pytest.raises(DomainError) as refused:
        services.raise_dispute(contact, run.pk, line.pk, "Fel antal dagar")
    assert refused.value.problems[0].rule == "BETALNING-STANGD" and refused.value.status == 409
    assert "stängd" in refused.value.problems[0].message
    assert not Dispute.objects.exists()


# --- the adapter ---------------------------------------------------------------------------------------------


def test_bulk_adapter_gives_the_same_facts_as_the_single_case_one(nurse, physician) -> None:  # type: ignore[no-untyped-def]
    made = [
        stay(nurse, physician, ready="2022-03-01", discharged="2022-03-03"),
        stay(
            nurse,
            physician,
            ready=[("2022-03-04", "2022-03-05"), ("2022-03-06", None)],
            discharged="2022-03-09",
        ),
        stay(nurse, physician, ready="2022-03-10", discharged=None, notice=False),
        stay(nurse, physician, ready="2022-03-11", discharged="2022-03-16", code="1490"),
    ]
    notice = CaseEvent.objects.get(case=made[3], kind=K.ADMISSION_NOTICE_SENT)
    with time_machine.travel(at("2022-03-17"), tick=False):
        cases.correct_notice(nurse, made[3], notice.pk, at("2022-03-08", 7), "Fel tid")
    queryset = Case.objects.filter(pk__in=[c.pk for c in made]).order_by("id")
    single = [stay_facts_fields(c) for c in queryset]
    assert list(iter_stay_facts_fields(queryset, chunk_size=3)) == single
    assert single[1]["discharge_ready"][0]["withdrawn_at"] is not None  # type: ignore[index]
    assert single[3]["admitted_at"] == at("2022-03-08", 7)  # type: ignore[index]


def test_the_adapter_uses_a_bounded_number_of_queries_for_any_number_of_cases(nurse, physician) -> None:  # type: ignore[no-untyped-def]
    """One query for the cases and two prefetches per chunk, never one per case."""
    rules = [r.params() for r in services.current_rules()]

    def queries(chunk_size: int) -> tuple[int, int]:
        with CaptureQueriesContext(connection) as captured:
            facts = list(adapter.case_facts(2022, 3, rules, chunk_size=chunk_size))
        return len(captured.captured_queries), len(facts)

    for day in (1, 2, 3):
        stay(nurse, physician, ready=f"2022-03-0{day}", discharged=f"2022-03-1{day}")
    few = queries(2000)
    for day in (4, 5, 6, 7, 8):
        stay(nurse, physician, ready=f"2022-03-0{day}", discharged=f"2022-03-1{day}")
    many = queries(2000)
    assert few == (3, 3) and many == (3, 8)
    assert queries(4) == (1 + 2 * 2, 8)


def test_the_month_selection_takes_open_stays_and_the_window_and_leaves_out_what_cannot_count(
    nurse, physician
) -> None:  # type: ignore[no-untyped-def]
    before = stay(nurse, physician, ready="2022-02-10", discharged="2022-02-20")
    still_in = stay(nurse, physician, ready="2022-02-25", discharged=None)
    later = stay(nurse, physician, ready="2022-04-05", discharged="2022-04-09")
    cancelled = stay(nurse, physician, ready="2022-03-05", discharged=None)
    with time_machine.travel(at("2022-03-06"), tick=False):
        cases.cancel_case(nurse, cancelled, "wrong_person")
    rules = [r.params() for r in services.current_rules()]
    refs = {f.case_reference for f in adapter.case_facts(2022, 3, rules)}
    assert refs == {str(still_in.pk)}
    three_months = [replace(r, window_months=3) if r.code == "vg-average" else r for r in rules]
    assert {f.case_reference for f in adapter.case_facts(2022, 3, three_months)} == {
        str(before.pk),
        str(still_in.pk),
    }
    assert str(later.pk) not in refs


# --- the scheduled monthly settlement ------------------------------------------------------------------------


def test_settle_last_month_twice_creates_one_run_per_municipality(nurse, physician, region) -> None:  # type: ignore[no-untyped-def]
    """Idempotent: the second run creates nothing for the same municipality, month and rule versions."""
    case = stay(nurse, physician, ready="2022-03-14", discharged="2022-03-24")
    first = services.settle_last_month(region, today=dt.date(2022, 4, 2))
    assert (first.year, first.month) == (2022, 3)
    assert len(first.created) == Municipality.objects.count() == 49 and not first.already_settled
    second = services.settle_last_month(region, today=dt.date(2022, 4, 3))
    assert not second.created and len(second.already_settled) == 49
    assert SettlementRun.objects.count() == 49
    run = SettlementRun.objects.get(municipality=gothenburg(), year=2022, month=3)
    assert lines_by_case(run)[str(case.pk)].amount == Decimal("65100.00")
    assert run.source == SettlementRun.Source.CASES and run.created_by == region.user


def test_settle_last_month_command_and_enqueued_task_are_idempotent(nurse, physician, region) -> None:  # type: ignore[no-untyped-def]
    stay(nurse, physician, ready="2022-03-14", discharged="2022-03-24")
    with time_machine.travel(at("2022-04-01", 3), tick=False):
        call_command("settle_last_month", "--user", region.user.username, verbosity=0)
        call_command("settle_last_month", "--user", region.user.username, "--enqueue", verbosity=0)
    assert SettlementRun.objects.filter(year=2022, month=3).count() == 49
    assert SettlementRun.objects.exclude(year=2022, month=3).count() == 0


def test_settle_last_month_leaves_a_closed_month_alone_and_refuses_a_user_without_payment_manage(
    nurse, physician, region
) -> None:  # type: ignore[no-untyped-def]
    stay(nurse, physician, ready="2022-03-14", discharged="2022-03-24")
    run = settle(region, 2022, 3)
    services.close_settlement(region, run.pk)
    result = services.settle_last_month(region, today=dt.date(2022, 4, 2))
    assert len(result.created) == 48 and "Göteborg" in result.already_settled
    assert SettlementRun.objects.filter(municipality=gothenburg()).count() == 1
    with pytest.raises(CommandError, match="payment.manage"):
        call_command("settle_last_month", "--user", nurse.user.username)
    assert SettlementRun.objects.count() == 49


def test_a_month_for_all_municipalities_is_stored_whole_or_not_at_all(nurse, physician, region) -> None:  # type: ignore[no-untyped-def]
    """run_month settles the 49 municipalities in one transaction: when the last of them (by id) is closed
    for the month, the refusal (BETALNING-STANGD) leaves no run of the 48 settled before it."""
    stay(nurse, physician, ready="2022-03-14", discharged="2022-03-24")
    last = Municipality.objects.order_by("-pk").first()
    assert last is not None and last != gothenburg()
    closed = services.run_settlement(region, last, 2022, 3, facts=[], today=TODAY)
    services.close_settlement(region, closed.pk)
    lines_before = SettlementLine.objects.count()
    with pytest.raises(DomainError) as refused:
        services.run_month(region, 2022, 3, today=TODAY)
    assert refused.value.problems[0].rule == "BETALNING-STANGD" and refused.value.status == 409
    assert list(SettlementRun.objects.values_list("pk", flat=True)) == [closed.pk]
    assert SettlementLine.objects.count() == lines_before


def test_settle_payment_command_settles_from_the_cases_by_default(nurse, physician, region) -> None:  # type: ignore[no-untyped-def]
    case = stay(nurse, physician, ready="2022-03-14", discharged="2022-03-24")
    out = io.StringIO()
    call_command(
        "settle_payment", "--year", "2022", "--month", "3", "--user", region.user.username,
        "--municipality", "1480", stdout=out,
    )  # fmt: skip
    assert "65100.00 kr" in out.getvalue() and "Ärendena i brygga" in out.getvalue()
    run = SettlementRun.objects.get()
    assert run.source == "cases" and str(case.pk) in lines_by_case(run)


def test_the_api_settles_a_month_from_the_cases_when_no_facts_are_given(
    nurse, physician, region, client
) -> None:  # type: ignore[no-untyped-def]
    """R-VG-BET-5: notice 14 March, discharged 24 March → 10 days, 7 payable → 65 100 kr (9 300 kr a day)."""
    case = stay(nurse, physician, ready="2022-03-14", discharged="2022-03-24")
    client.force_login(region.user)
    body = {"year": 2022, "month": 3, "municipality_code": "1480"}
    response = client.post("/api/v1/payment/settlements", body, content_type="application/json")
    assert response.status_code == 201, response.content
    [run] = response.json()
    assert run["source"] == "cases" and run["amount"] == "65100.00"
    detail = client.get(f"/api/v1/payment/settlements/{run['id']}").json()
    assert str(case.pk) in [line["case_reference"] for line in detail["lines"]]
    again = client.post("/api/v1/payment/settlements", body, content_type="application/json").json()
    assert [r["id"] for r in again] == [run["id"]] and SettlementRun.objects.count() == 1


# --- one case's payment page ---------------------------------------------------------------------------------


def test_the_case_payment_page_shows_the_rule_in_force_and_the_cases_settlement_lines(  # type: ignore[no-untyped-def]
    nurse, physician, region, client
) -> None:
    """R-VG-BET-5: notice 14 March, discharged 24 March → 10 days, more than 7: individual, 7 payable days.
    Göteborg's contact point takes part in the case and sees its page (logged); the page links from the case
    page and from the invoice basis."""
    case = stay(nurse, physician, ready="2022-03-14", discharged="2022-03-24")
    run = settle(region, 2022, 3)
    contact = actor(Role.MUNICIPAL_CONTACT, CONTACT_POINT, username="kp-case")
    client.force_login(contact.user)
    url = reverse("payment:case", args=[case.pk])
    logged = AccessLogEntry.objects.filter(person=case.person, what__endswith="/betalningsansvar").count()
    page = client.get(url).content.decode()
    assert "vg-average v1" in page and "10 dagar: mer än 7 dagar" in page
    assert "2022-03" in page and "65\xa0100,00" in page and case.person.family_name not in page
    assert (
        AccessLogEntry.objects.filter(person=case.person, what__endswith="/betalningsansvar").count()
        == logged + 1
    )
    assert url in client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert url in client.get(reverse("payment:settlement_detail", args=[run.pk])).content.decode()
    client.force_login(region.user)  # the region settles but takes no part in the case: no link to open
    basis = client.get(reverse("payment:settlement_detail", args=[run.pk])).content.decode()
    assert f">{case.pk}<" in basis and url not in basis


def test_a_stay_still_in_hospital_is_counted_to_today_on_its_payment_page(nurse, physician, client) -> None:  # type: ignore[no-untyped-def]
    case = stay(nurse, physician, ready="2026-11-18", discharged=None)
    client.force_login(actor(Role.MUNICIPAL_CONTACT, CONTACT_POINT, username="kp-open").user)
    with time_machine.travel(at("2026-11-23"), tick=False):
        page = client.get(reverse("payment:case", args=[case.pk])).content.decode()
    assert "Ännu inte utskriven" in page and "5 dagar från meddelandet" in page
    assert "Vistelsen finns inte i någon avräkning" in page


def test_the_case_payment_page_is_need_to_know_and_needs_payment_view(nurse, physician, client) -> None:  # type: ignore[no-untyped-def]
    case = stay(nurse, physician, ready="2022-03-14", discharged="2022-03-24")
    url = reverse("payment:case", args=[case.pk])
    client.force_login(nurse.user)  # takes part in the case, but may not see payment
    assert client.get(url).status_code == 403
    assert url not in client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    before = AccessLogEntry.objects.count()
    other = actor(Role.MUNICIPAL_CONTACT, "Borås kontaktpunkt", username="kp-boras")
    client.force_login(other.user)
    assert client.get(url).status_code == 404  # not theirs: "not found", and nothing read
    assert client.get(reverse("payment:case", args=[999999])).status_code == 404
    assert AccessLogEntry.objects.exclude(action=AccessLogEntry.Action.DENIED).count() == before
    # Each refused attempt is in the log for the reviewer (issue 13 item 8, ADR 0801).
    assert AccessLogEntry.objects.filter(action=AccessLogEntry.Action.DENIED).count() == 2


# --- the settlement page -------------------------------------------------------------------------------------


def test_the_settlement_page_settles_a_month_from_the_cases(nurse, physician, region, client) -> None:  # type: ignore[no-untyped-def]
    case = stay(nurse, physician, ready="2022-03-14", discharged="2022-03-24")
    client.force_login(region.user)
    with time_machine.travel(at("2022-04-04"), tick=False):
        form = client.get(reverse("payment:settlement_list")).content.decode()
        assert 'name="year"' in form and 'value="2022"' in form  # the previous month is offered
        response = client.post(reverse("payment:run_month"), {"year": "2022", "month": "3"})
        assert response.status_code == 302
        assert SettlementRun.objects.filter(year=2022, month=3).count() == 49
        run = SettlementRun.objects.get(municipality=gothenburg(), year=2022, month=3)
        page = client.get(reverse("payment:settlement_detail", args=[run.pk])).content.decode()
    assert f'<th scope="row">{case.pk}</th>' in page and "Ärendena i brygga" in page
    assert run.totals()["amount"] == Decimal("65100.00")


def test_the_settlement_page_refuses_a_month_that_has_not_ended_and_changes_nothing(region, client) -> None:  # type: ignore[no-untyped-def]
    client.force_login(region.user)
    with time_machine.travel(at("2022-04-04"), tick=False):
        response = client.post(reverse("payment:run_month"), {"year": "2022", "month": "4"})
    page = response.content.decode()
    assert response.status_code == 400 and "En månad kan avräknas först när den är slut" in page
    assert "R-VG-BET-1" in page and "BETALNING-MANAD" not in page  # the rule, not the internal code
    assert not SettlementRun.objects.exists()


def test_a_municipality_cannot_start_a_settlement(client) -> None:  # type: ignore[no-untyped-def]
    client.force_login(actor(Role.MUNICIPAL_CONTACT, CONTACT_POINT).user)
    response = client.post(reverse("payment:run_month"), {"year": "2022", "month": "3"})
    assert response.status_code == 403 and not SettlementRun.objects.exists()


# --- the demo --------------------------------------------------------------------------------------------------


def test_the_demo_settles_from_the_discharge_cases_when_there_are_enough(nurse, physician) -> None:  # type: ignore[no-untyped-def]
    """Five stays discharged in March 2022: the demo settles March from them and invents nothing."""
    from brygga.demo.payment import load_payment_demo

    actor(Role.GITS_COORDINATOR, GITS, username="gits")
    for day in (1, 2, 3, 4, 5):
        stay(nurse, physician, ready=f"2022-03-0{day}", discharged=f"2022-03-1{day}")
    with time_machine.travel(at("2022-04-04"), tick=False):
        assert load_payment_demo() == 1
    run = SettlementRun.objects.get()
    assert (run.municipality.scb_code, run.year, run.month, run.source) == ("1480", 2022, 3, "cases")
    assert run.lines.exclude(case_reference="").count() == 5 and run.totals()["amount"] == 5 * 7 * Decimal(
        9300
    )
