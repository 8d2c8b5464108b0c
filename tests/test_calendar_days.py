"""Deadlines in calendar days are calendar days (issue 13 item 6): counted on Europe/Stockholm local dates and
wall-clock time across both DST changes; R-INS-2 stays 24 elapsed hours."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from brygga.accounts.permissions import Role
from brygga.cases import rules, services
from brygga.core.calendar import add_calendar_days
from tests.factories import WARD, actor, make_person

STHLM = ZoneInfo("Europe/Stockholm")


def local(year: int, month: int, day: int, hour: int, minute: int) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=STHLM)


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (local(2026, 10, 23, 10, 0), local(2026, 10, 26, 10, 0)),  # across the autumn change (25 Oct)
        (local(2026, 3, 27, 10, 0), local(2026, 3, 30, 10, 0)),  # across the spring change (29 Mar)
        (local(2026, 6, 1, 23, 30), local(2026, 6, 4, 23, 30)),  # no change: 72 hours
        (
            local(2026, 3, 26, 2, 30),
            local(2026, 3, 29, 3, 30),
        ),  # 02:30 does not exist that day: after the gap
        (local(2026, 10, 22, 2, 30), local(2026, 10, 25, 2, 30)),  # 02:30 twice: the first one
    ],
)
def test_calendar_days_keep_the_local_wall_clock_time(start: dt.datetime, expected: dt.datetime) -> None:
    due = add_calendar_days(start, 3)
    assert due == expected
    assert due.astimezone(STHLM).hour == expected.hour


def test_autumn_change_gives_73_and_spring_71_elapsed_hours() -> None:
    def elapsed(start: dt.datetime) -> dt.timedelta:  # in UTC: a same-zone subtraction ignores the offsets
        return add_calendar_days(start, 3).astimezone(dt.UTC) - start.astimezone(dt.UTC)

    assert elapsed(local(2026, 10, 23, 10, 0)) == dt.timedelta(hours=73)
    assert elapsed(local(2026, 3, 27, 10, 0)) == dt.timedelta(hours=71)
    # the ambiguous 02:30 is the first (summer-time) one
    assert add_calendar_days(local(2026, 10, 22, 2, 30), 3).utcoffset() == dt.timedelta(hours=2)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("ready", "due"),
    [
        (local(2026, 10, 23, 10, 0), local(2026, 10, 26, 10, 0)),  # the example: was 09:00
        (local(2026, 3, 27, 10, 0), local(2026, 3, 30, 10, 0)),  # spring: was 11:00
    ],
)
def test_sip_summons_is_due_three_calendar_days_after_discharge_ready_R_SIP_K_1(
    ready: dt.datetime, due: dt.datetime
) -> None:
    nurse = actor(Role.WARD_NURSE, WARD)
    physician = actor(Role.PHYSICIAN, WARD)
    admitted = ready - dt.timedelta(days=2)
    with time_machine.travel(admitted, tick=False):
        case = services.admit_with_notice(
            nurse,
            make_person("1480"),
            admitted_at=admitted,
            care_type="somatic",
            expected_discharge_date=ready.date(),
        )
        services.save_planning_basis(
            nurse,
            case,
            answers={k: "ja" for k in rules.PLANNING_QUESTIONS},
            needs={"social_services": "ja", "municipal_health": "ja", "primary_care": "ja"},
        )
    with time_machine.travel(ready, tick=False):
        services.set_discharge_ready(physician, case, ready)
    case.refresh_from_db()
    assert case.sip_summons_due_at == due
    assert case.sip_summons_due_at.astimezone(STHLM).hour == 10


@pytest.mark.django_db
def test_admission_notice_stays_24_elapsed_hours_across_the_autumn_change_R_INS_2() -> None:
    nurse = actor(Role.WARD_NURSE, WARD)
    admitted = local(2026, 10, 24, 10, 0)
    with time_machine.travel(admitted, tick=False):
        case = services.admit(
            nurse, make_person("1480"), admitted_at=admitted, care_type="somatic", need_assessed_at=admitted
        )
    assert case.notice_due_at is not None
    assert case.notice_due_at.astimezone(dt.UTC) - admitted.astimezone(dt.UTC) == dt.timedelta(hours=24)
    assert case.notice_due_at.astimezone(STHLM).hour == 9  # 24 hours, not "the same time next day"
