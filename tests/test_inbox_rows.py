"""The inbox's discharge-case rows carry plain values, not model instances (issue 17): ``RowCase``,
``RowPerson`` and ``RowParticipant`` are read from one ``values_list`` in the order of ``ROW_COLUMNS``. A
column out of step with its attribute would show a wrong date or compute a wrong deadline, so every attribute
is compared with the model's, and the deadlines (R-INS-2, R-FVK-1, R-UTS-1) computed from the row must be
those computed from the case."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
import time_machine

from brygga.cases.models import Case, Participant
from brygga.cases.selectors import deadlines
from brygga.inbox import selectors as inbox_selectors
from brygga.inbox.selectors import RowCase, RowParticipant, RowPerson
from tests.test_cases import T0, noticed_case

pytestmark = pytest.mark.django_db


def row_for(a, case: Case) -> inbox_selectors.InboxRow:  # type: ignore[no-untyped-def]
    with time_machine.travel(T0 + dt.timedelta(hours=3), tick=False):
        rows = inbox_selectors.inbox(a, status="all")
    return next(r for r in rows if r.case is not None and r.case.pk == case.pk)


@pytest.mark.parametrize("who", ["nurse", "contact", "vc"])
def test_a_rows_values_are_the_models_and_give_the_same_deadlines_R_INS_2_R_FVK_1_R_UTS_1(
    request: pytest.FixtureRequest, who: str
) -> None:
    nurse = request.getfixturevalue("nurse")
    a = request.getfixturevalue(who)
    case = noticed_case(nurse)
    Case.objects.filter(pk=case.pk).update(coordinator_name="Fast Vårdkontakt", last_event_at=T0)
    case.refresh_from_db()
    row = row_for(a, case)
    assert row.case is not None and row.participant is not None
    for field in dataclasses.fields(RowCase):
        if field.name not in ("person", "ward_name"):
            assert getattr(row.case, field.name) == getattr(case, field.name), field.name
    assert row.case.ward_name == case.ward.name
    assert row.case.notice_due_at == case.notice_due_at is not None
    assert str(row.case.get_status_display()) == case.get_status_display()
    for field in dataclasses.fields(RowPerson):
        assert getattr(row.case.person, field.name) == getattr(case.person, field.name), field.name
    assert row.case.person.formatted_identifier == case.person.formatted_identifier
    participant = Participant.objects.get(case=case, unit=a.unit)
    for field in dataclasses.fields(RowParticipant):
        assert getattr(row.participant, field.name) == getattr(participant, field.name), field.name
    assert deadlines(row.case) == deadlines(case) and len(deadlines(case)) >= 2
    assert deadlines(row.case, participant.role) == deadlines(case, participant.role)
