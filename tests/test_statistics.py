"""Process statistics: every metric computed from hand-made cases with exact expected numbers (R-INS-2/3,
R-LAW-2, R-INS-5, R-SIP-K-1, R-VG-PROC-2), the month boundary in local time, idempotency of the refresh,
and the suppression of small counts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from brygga.accounts.permissions import Role
from brygga.cases import services
from brygga.cases.models import Case
from brygga.statistics import refresh as stats_refresh
from brygga.statistics.models import DateMoveReason, Level, MonthlyProcessStat, RefreshRun
from tests.factories import CONTACT_POINT, PRIMARY_CARE, WARD, actor, make_person, unit

pytestmark = pytest.mark.django_db

STO = ZoneInfo("Europe/Stockholm")
OCT = dt.date(2026, 10, 1)
NOV = dt.date(2026, 11, 1)
REFRESHED_AT = dt.datetime(2026, 11, 1, 10, 0, tzinfo=STO)


def at(month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=STO)


PLANNING: dict[str, Any] = {  # keyword arguments of services.save_planning_basis
    "answers": {
        "lives_alone": "ja",
        "home_care_before": "nej",
        "home_health_before": "nej",
        "aids_needed": "ja",
        "cognitive_impairment": "nej",
        "relatives_informed": "ja",
    },
    "needs": {"social_services": "ja", "municipal_health": "nej", "primary_care": "ja"},
    "nursing_status": {"pain": "Ingen smärta"},
}


@pytest.fixture
def people():  # type: ignore[no-untyped-def]
    return {
        "nurse": actor(Role.WARD_NURSE, WARD),
        "physician": actor(Role.PHYSICIAN, WARD),
        "vc": actor(Role.CARE_COORDINATOR, PRIMARY_CARE),
        "contact": actor(Role.MUNICIPAL_CONTACT, CONTACT_POINT),
    }


def _admit(nurse, when, municipality="1480", expected=None, assessed=None) -> Case:  # type: ignore[no-untyped-def]
    with time_machine.travel(when, tick=False):
        return services.admit(
            nurse,
            make_person(municipality),
            admitted_at=when,
            care_type="somatic",
            expected_discharge_date=expected or (when + dt.timedelta(days=5)).date(),
            need_assessed_at=assessed,
        )


def _discharge(nurse, case, when) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(when, tick=False):
        services.send_discharge_info(nurse, case, summary_given=True)
        services.discharge(nurse, case, discharged_at=when)


def _close(nurse, case, when) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(when, tick=False):
        services.close_case(nurse, case)


@pytest.fixture
def scenario(people):  # type: ignore[no-untyped-def]
    """Five stays, October–November 2026 (Stockholm time), at Sahlgrenska medicin.

    A (Göteborg): notice after 2 h; date moved +3 then −2; ready 8 Oct 10:00; SIP summons after 2 days;
       video meeting; discharged 10 Oct (2 calendar days after ready); closed 10 Oct.
    B (Göteborg): notice after 25 h (late); ready 12 Oct, withdrawn 13 Oct, ready again 20 Oct 10:00; SIP
       summons after 4 days (late); phone and on-site meetings; discharged 31 Oct 23:30 local time (22:30 UTC),
       11 calendar days after ready; closed 1 Nov.
    C (Borås): need judged at admission, no notice ever (missing); dies 22 Oct; closed the same day, without
       discharge-ready and without discharge notice.
    D (Göteborg): admitted and judged 1 Nov 00:30 local (31 Oct 23:30 UTC): a November admission, notice
       pending at the refresh on 1 Nov 10:00.
    E (Göteborg): admitted in October and cancelled (makulerat): counts nowhere.
    """
    nurse, physician, vc, contact = people["nurse"], people["physician"], people["vc"], people["contact"]

    a = _admit(nurse, at(10, 5, 8), expected=dt.date(2026, 10, 9))
    with time_machine.travel(at(10, 5, 10), tick=False):
        services.send_admission_notice(nurse, a)
        services.save_planning_basis(nurse, a, **PLANNING)
    with time_machine.travel(at(10, 6, 9), tick=False):
        services.change_expected_date(nurse, a, dt.date(2026, 10, 12), "medical_condition")
    with time_machine.travel(at(10, 7, 9), tick=False):
        services.change_expected_date(nurse, a, dt.date(2026, 10, 10), "treatment_faster")
    with time_machine.travel(at(10, 8, 10), tick=False):
        services.set_discharge_ready(physician, a)
        services.book_meeting(contact, a, form="video", starts_at=at(10, 9, 13))
    with time_machine.travel(at(10, 10, 9), tick=False):
        services.send_sip_summons(vc, a)
    _discharge(nurse, a, at(10, 10, 14))
    _close(nurse, a, at(10, 10, 15))

    b = _admit(nurse, at(10, 10, 8))
    with time_machine.travel(at(10, 11, 9), tick=False):
        services.send_admission_notice(nurse, b)
        services.save_planning_basis(nurse, b, **PLANNING)
    with time_machine.travel(at(10, 12, 9), tick=False):
        services.set_discharge_ready(physician, b)
    with time_machine.travel(at(10, 13, 9), tick=False):
        services.withdraw_discharge_ready(physician, b, "Ny infektion")
        services.book_meeting(contact, b, form="phone", starts_at=at(10, 15, 10))
    with time_machine.travel(at(10, 20, 10), tick=False):
        services.set_discharge_ready(physician, b)
        services.book_meeting(contact, b, form="on_site", starts_at=at(10, 21, 10), location="Avd 3")
    with time_machine.travel(at(10, 24, 11), tick=False):
        services.send_sip_summons(vc, b)
    _discharge(nurse, b, at(10, 31, 23, 30))
    _close(nurse, b, at(11, 1, 8))

    c = _admit(nurse, at(10, 20, 8), municipality="1490", assessed=at(10, 20, 8))
    with time_machine.travel(at(10, 22, 12), tick=False):
        services.record_death(nurse, c, at(10, 22, 6))
        services.close_case(nurse, c)

    _admit(nurse, at(11, 1, 0, 30), assessed=at(11, 1, 0, 30))

    e = _admit(nurse, at(10, 15, 8))
    with time_machine.travel(at(10, 15, 9), tick=False):
        services.cancel_case(nurse, e, "entered_in_error")
        services.close_case(nurse, e)
    return {"a": a, "b": b, "c": c}


def _refresh() -> RefreshRun:
    return stats_refresh.refresh(OCT, NOV, now=REFRESHED_AT)


def _row(month: dt.date, level: str = Level.REGION, key: str = "vg") -> MonthlyProcessStat:
    return MonthlyProcessStat.objects.get(month=month, level=level, key=key)


def test_admission_notices_within_24_hours_by_admission_month_R_INS_2_R_INS_3(scenario) -> None:  # type: ignore[no-untyped-def]
    _refresh()
    october = _row(OCT)
    assert (october.admissions, october.notices_due) == (3, 3)  # the cancelled stay E is not counted
    assert (october.notices_on_time, october.notices_late, october.notices_missing) == (1, 1, 1)
    assert october.notices_pending == 0
    november = _row(NOV)
    # D: admitted 00:30 on 1 Nov local time (23:30 UTC on 31 Oct) belongs to November; its deadline is ahead.
    assert (november.admissions, november.notices_pending, november.notices_due) == (1, 1, 0)


def test_days_from_discharge_ready_to_discharge_mean_median_buckets_R_LAW_2(scenario) -> None:  # type: ignore[no-untyped-def]
    _refresh()
    october = _row(OCT)
    # A: 8 Oct → 10 Oct = 2 days; B: the withdrawn 12 Oct does not count, 20 Oct → 31 Oct 23:30 = 11 days.
    assert (october.discharged, october.ready_discharged, october.ready_days_sum) == (2, 2, 13)
    assert october.ready_days_median == Decimal("6.5")
    assert (october.days_2, october.days_8_14) == (1, 1)
    assert october.days_0 + october.days_1 + october.days_3 + october.days_4_7 + october.days_15_plus == 0
    assert _row(NOV).discharged == 0


def test_expected_date_moves_count_days_and_reasons_by_hospital_R_INS_5(scenario) -> None:  # type: ignore[no-untyped-def]
    _refresh()
    site_key = str(unit(WARD).site_id)
    for level, key in ((Level.REGION, "vg"), (Level.SITE, site_key), (Level.UNIT, unit(WARD).hsa_id)):
        row = _row(OCT, level, key)
        assert (row.date_moves, row.cases_moved, row.days_later, row.days_earlier) == (2, 1, 3, 2)
    reasons = {
        r.reason: (r.moves, r.days_moved)
        for r in DateMoveReason.objects.filter(month=OCT, level=Level.SITE, key=site_key)
    }
    assert reasons == {"medical_condition": (1, 3), "treatment_faster": (1, 2)}


def test_cases_closed_without_discharge_ready_or_notice_and_cancelled_not_counted(scenario) -> None:  # type: ignore[no-untyped-def]
    _refresh()
    october = _row(OCT)
    assert (october.closed, october.closed_without_ready, october.closed_without_notice) == (2, 1, 1)
    assert (_row(NOV).closed, _row(NOV).closed_without_ready) == (1, 0)
    borås = _row(OCT, Level.MUNICIPALITY, "1490")
    assert (borås.closed_without_ready, borås.closed_without_notice, borås.notices_missing) == (1, 1, 1)


def test_sip_summons_within_three_days_of_discharge_ready_R_SIP_K_1(scenario) -> None:  # type: ignore[no-untyped-def]
    _refresh()
    october = _row(OCT)
    assert (october.sip_due, october.sip_on_time, october.sip_late, october.sip_missing) == (2, 1, 1, 0)


def test_meetings_by_form_R_VG_PROC_2(scenario) -> None:  # type: ignore[no-untyped-def]
    _refresh()
    october = _row(OCT)
    assert (october.meetings, october.meetings_video, october.meetings_phone, october.meetings_on_site) == (
        3,
        1,
        1,
        1,
    )


def test_levels_split_by_municipality_and_delregion(scenario) -> None:  # type: ignore[no-untyped-def]
    _refresh()
    goteborg = _row(OCT, Level.MUNICIPALITY, "1480")
    boras = _row(OCT, Level.MUNICIPALITY, "1490")
    assert (goteborg.admissions, boras.admissions) == (2, 1)
    sub = _row(OCT, Level.SUBREGION, goteborg.parent_key)
    assert sub.admissions == 2 and sub.name == "Göteborgsområdet"
    assert _row(OCT, Level.SUBREGION, boras.parent_key).name == "Södra Älvsborg"
    ward = _row(OCT, Level.UNIT, unit(WARD).hsa_id)
    assert ward.admissions == 3 and ward.parent_key == str(unit(WARD).site_id)


def test_refresh_is_idempotent_and_replaces_the_months_it_covers(scenario) -> None:  # type: ignore[no-untyped-def]
    _refresh()
    fields = [f.name for f in MonthlyProcessStat._meta.fields if f.name not in ("id", "computed_at")]
    first = sorted(MonthlyProcessStat.objects.values_list(*fields))
    first_reasons = sorted(DateMoveReason.objects.values_list("month", "level", "key", "reason", "moves"))
    _refresh()
    assert sorted(MonthlyProcessStat.objects.values_list(*fields)) == first
    assert (
        sorted(DateMoveReason.objects.values_list("month", "level", "key", "reason", "moves"))
        == first_reasons
    )
    assert RefreshRun.objects.count() == 2
    # A refresh of November alone leaves October's rows as they were.
    october_ids = set(MonthlyProcessStat.objects.filter(month=OCT).values_list("pk", flat=True))
    stats_refresh.refresh(NOV, NOV, now=REFRESHED_AT)
    assert set(MonthlyProcessStat.objects.filter(month=OCT).values_list("pk", flat=True)) == october_ids


def test_pending_becomes_missing_when_the_deadline_has_passed_R_INS_2(scenario) -> None:  # type: ignore[no-untyped-def]
    stats_refresh.refresh(NOV, NOV, now=at(11, 2, 10))
    assert (_row(NOV).notices_missing, _row(NOV).notices_pending) == (1, 0)


def test_empty_months_get_a_region_row_of_zeros() -> None:
    stats_refresh.refresh(dt.date(2025, 1, 1), dt.date(2025, 3, 1), now=REFRESHED_AT)
    rows = MonthlyProcessStat.objects.filter(level=Level.REGION).order_by("month")
    assert [(r.month, r.admissions, r.ready_days_median) for r in rows] == [
        (dt.date(2025, 1, 1), 0, None),
        (dt.date(2025, 2, 1), 0, None),
        (dt.date(2025, 3, 1), 0, None),
    ]


def test_median_of_a_histogram() -> None:
    from collections import Counter

    assert stats_refresh.median(Counter({2: 1, 11: 1})) == Decimal("6.5")
    assert stats_refresh.median(Counter({0: 3, 5: 1, 9: 1})) == Decimal("0.0")
    assert stats_refresh.median(Counter({1: 1, 4: 2, 30: 1, 31: 1})) == Decimal("4.0")
    assert stats_refresh.median(Counter()) is None


def test_update_statistics_command_with_from_and_to(scenario) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(REFRESHED_AT, tick=False):
        call_command("update_statistics", "--from", "2026-10", "--to", "2026-10", verbosity=0)
    assert set(MonthlyProcessStat.objects.values_list("month", flat=True)) == {OCT}
    assert _row(OCT).admissions == 3


def test_update_statistics_task_runs_the_refresh(scenario) -> None:  # type: ignore[no-untyped-def]
    from brygga.statistics.tasks import update_statistics_task

    with time_machine.travel(REFRESHED_AT, tick=False):
        result = update_statistics_task.enqueue("2026-10-01", "2026-11-01")
    value = result.return_value
    assert value is not None and value["first"] == "2026-10" and _row(NOV).closed == 1


def test_synthetic_stays_roll_up_consistently_over_the_levels() -> None:
    """The generator's bulk-inserted stays through the refresh: each level adds up to the region."""
    from django.db.models import Sum

    from brygga.statistics import synthetic

    with time_machine.travel(REFRESHED_AT, tick=False):
        counts = synthetic.generate(300, dt.date(2026, 5, 1), months=6, seed=7)
        stats_refresh.refresh(dt.date(2026, 5, 1), dt.date(2026, 10, 1))
    assert counts["cases"] == 300
    admitted = Case.objects.exclude(events__kind="cancelled").count()
    fields = ["admissions", "discharged", "date_moves", "closed", "sip_due", "meetings", "days_4_7"]
    region = MonthlyProcessStat.objects.filter(level=Level.REGION).aggregate(**{f: Sum(f) for f in fields})
    assert region["admissions"] == admitted
    for level in (Level.SUBREGION, Level.MUNICIPALITY, Level.SITE, Level.UNIT):
        totals = MonthlyProcessStat.objects.filter(level=level).aggregate(**{f: Sum(f) for f in fields})
        assert totals == region, level


def test_sips_follow_ups_and_care_requests_by_month_and_municipality(people) -> None:  # type: ignore[no-untyped-def]
    """SIPs started and first established, follow-ups done by their due date, care requests answered —
    rows made directly (the SIP app's own tests cover its services); counted per the person's municipality."""
    from brygga.sip.models import CareRequest, FollowUp, Sip, SipVersion

    vc = people["vc"]
    user, vc_unit, contact_unit = vc.user, unit(PRIMARY_CARE), unit(CONTACT_POINT)
    sips = []
    for day, municipality in ((3, "1480"), (12, "1480"), (20, "1490")):
        sip = Sip.objects.create(
            person=make_person(municipality),
            need_description="Behov av samordning",
            initiated_by_unit=vc_unit,
            created_by=user,
            created_at=at(10, day, 9),
        )
        sips.append(sip)
    # First version of two SIPs established in October, of the third in November; a second version is not new.
    for sip, established in (
        (sips[0], at(10, 10, 9)),
        (sips[1], at(10, 31, 23, 30)),
        (sips[2], at(11, 2, 9)),
    ):
        SipVersion.objects.create(
            sip=sip, number=1, status="superseded", created_by=user, created_at=established,
            established_at=established,
        )  # fmt: skip
    SipVersion.objects.create(
        sip=sips[0], number=2, status="established", created_by=user, created_at=at(10, 25, 9),
        established_at=at(10, 25, 9),
    )  # fmt: skip
    follow = {"description": "Uppföljning", "responsible_unit": vc_unit, "created_by": user}
    FollowUp.objects.create(sip=sips[0], due_on=dt.date(2026, 10, 20), done_at=at(10, 20, 16), created_at=at(10, 10, 9), **follow)  # fmt: skip
    FollowUp.objects.create(sip=sips[0], due_on=dt.date(2026, 10, 22), done_at=at(10, 23, 8), created_at=at(10, 10, 9), **follow)  # fmt: skip
    FollowUp.objects.create(sip=sips[1], due_on=dt.date(2026, 10, 30), created_at=at(10, 10, 9), **follow)  # fmt: skip
    FollowUp.objects.create(sip=sips[1], due_on=dt.date(2026, 11, 20), created_at=at(10, 10, 9), **follow)  # fmt: skip
    request = {
        "from_unit": vc_unit, "to_unit": contact_unit, "reason": "Behov", "health_summary": "Stabil",
        "medication_responsibility": "municipality", "start_on": dt.date(2026, 10, 20), "contact_name": "Kontakt",
        "contact_phone": "031-000000", "created_by": user,
    }  # fmt: skip
    person = sips[0].person
    CareRequest.objects.create(person=person, sent_at=at(10, 5, 9), status="accepted", answered_at=at(10, 6, 9), **request)  # fmt: skip
    CareRequest.objects.create(person=person, sent_at=at(10, 7, 9), status="declined", answered_at=at(10, 8, 9), **request)  # fmt: skip
    CareRequest.objects.create(person=person, sent_at=at(10, 9, 9), **request)  # fmt: skip

    _refresh()
    october, november = _row(OCT), _row(NOV)
    assert (october.sips_started, october.sips_established, november.sips_established) == (3, 2, 1)
    # Due in October and passed by 1 Nov: 20 Oct done that day (on time), 22 Oct done a day late, 30 Oct not
    # done. The one due 20 Nov is not yet due.
    assert (october.followups_due, october.followups_on_time, november.followups_due) == (3, 1, 0)
    assert (october.care_requests, october.care_requests_answered, october.care_requests_accepted) == (
        3,
        2,
        1,
    )
    goteborg, boras = _row(OCT, Level.MUNICIPALITY, "1480"), _row(OCT, Level.MUNICIPALITY, "1490")
    assert (goteborg.sips_started, goteborg.care_requests, boras.sips_started) == (2, 3, 1)
    # Not tied to a discharge case: no hospital or ward rows.
    assert not MonthlyProcessStat.objects.filter(level__in=[Level.SITE, Level.UNIT]).exists()


def test_sip_summons_on_time_counts_calendar_days_across_the_autumn_clock_change_R_SIP_K_1(people) -> None:  # type: ignore[no-untyped-def]
    """Ready Friday 23 Oct 10:00 (summer time); due Monday 26 Oct 10:00 (winter time), 73 elapsed hours later.
    A summons at 09:30 on the Monday is on time, although 72 elapsed hours would have ended at 09:00."""
    nurse, physician, vc = people["nurse"], people["physician"], people["vc"]
    case = _admit(nurse, at(10, 20, 8))
    with time_machine.travel(at(10, 20, 10), tick=False):
        services.send_admission_notice(nurse, case)
        services.save_planning_basis(nurse, case, **PLANNING)
    with time_machine.travel(at(10, 23, 10), tick=False):
        services.set_discharge_ready(physician, case)
    with time_machine.travel(at(10, 26, 9, 30), tick=False):
        services.send_sip_summons(vc, case)
    stats_refresh.refresh(OCT, OCT, now=REFRESHED_AT)
    october = _row(OCT)
    assert (october.sip_on_time, october.sip_late) == (1, 0)
