"""``brygga.core.inputs``: dates and times typed into the forms. Empty is None unless required; a time
without an offset is Swedish local time; a bad value is refused with the field and DATUM-FORMAT."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from brygga.core.errors import DomainError
from brygga.core.inputs import form_date, form_datetime

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def test_a_time_without_offset_is_swedish_local_time_and_an_offset_is_kept() -> None:
    summer = form_datetime(" 2026-07-01 08:30 ", "meeting_at")
    assert summer == dt.datetime(2026, 7, 1, 8, 30, tzinfo=STOCKHOLM)
    assert summer is not None and summer.utcoffset() == dt.timedelta(hours=2)
    assert form_datetime("2026-01-15T08:30+00:00", "meeting_at") == dt.datetime(
        2026, 1, 15, 8, 30, tzinfo=dt.UTC
    )
    assert form_date("2026-11-23", "due_on") == dt.date(2026, 11, 23)


def test_empty_is_none_unless_required() -> None:
    assert form_datetime("", "discharged_at") is None
    assert form_datetime(None, "discharged_at") is None
    assert form_date("  ", "due_on") is None
    with pytest.raises(DomainError) as refused:
        form_datetime("", "meeting_at", required=True)
    assert [(p.field, p.rule) for p in refused.value.problems] == [("meeting_at", "DATUM-FORMAT")]
    with pytest.raises(DomainError) as refused:
        form_date("", "due_on", required=True)
    assert [(p.field, p.rule) for p in refused.value.problems] == [("due_on", "DATUM-FORMAT")]


@pytest.mark.parametrize("value", ["23/11/2026 08:30", "2026-13-01 08:00", "i morgon"])
def test_a_bad_value_names_the_field_and_the_format(value: str) -> None:
    with pytest.raises(DomainError) as refused:
        form_datetime(value, "discharged_at")
    (problem,) = refused.value.problems
    assert (problem.field, problem.rule) == ("discharged_at", "DATUM-FORMAT")
    assert "ÅÅÅÅ-MM-DD TT:MM" in str(problem.message)
    with pytest.raises(DomainError) as refused_date:
        form_date(value, "due_on")
    assert "ÅÅÅÅ-MM-DD" in str(refused_date.value.problems[0].message)
