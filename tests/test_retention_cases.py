"""Retention of cases and messages as journal documents (issue 16, ADR 0407/0409): a finished case whose
newest entry is past the ten-year period goes with its events, threads, messages, planning basis,
participants and the involvements it opened, and the deletion is logged; a case still open, one with a newer
entry, and one of a person under a legal hold stay. A SIP's message thread past its period goes on its own."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import time_machine

from brygga.access.models import Involvement
from brygga.accounts.permissions import Role
from brygga.cases import services
from brygga.cases.models import Case, CaseEvent, Participant
from brygga.messaging.models import Message, Thread
from brygga.retention.models import RetentionDeletion
from brygga.retention.services import apply_retention, place_hold
from tests.factories import CONTACT_POINT, WARD, actor, make_person, share_consent

pytestmark = pytest.mark.django_db

OLD = dt.datetime(2014, 3, 3, 9, tzinfo=dt.UTC)
NOW = OLD + dt.timedelta(days=11 * 366)  # more than ten years after OLD


@pytest.fixture
def nurse(isolated_documents: Path):  # type: ignore[no-untyped-def]
    return actor(Role.WARD_NURSE, WARD)


def _finished_case(nurse, at: dt.datetime, person=None) -> Case:  # type: ignore[no-untyped-def]
    """Admitted at ``at``, notice sent, one message each way, cancelled the next day."""
    person = person or make_person()
    contact = actor(Role.MUNICIPAL_CONTACT, CONTACT_POINT)
    with time_machine.travel(at, tick=False):
        case = services.admit(
            nurse,
            person,
            admitted_at=at,
            care_type="somatic",
            expected_discharge_date=(at + dt.timedelta(days=5)).date(),
        )
    with time_machine.travel(at + dt.timedelta(hours=2), tick=False):
        services.send_admission_notice(nurse, case)
        share_consent(nurse, case.person, [p.unit for p in case.participants.all()])
    with time_machine.travel(at + dt.timedelta(hours=3), tick=False):
        first = services.send_message(
            nurse,
            case,
            body="Patienten behöver rullator.",
            category="assistive-devices",
            subject="Hjälpmedel",
        )
        services.send_message(contact, case, body="Beställd.", reply_to=first, quote="rullator")
    with time_machine.travel(at + dt.timedelta(days=1), tick=False):
        services.cancel_case(nurse, Case.objects.get(pk=case.pk), "entered_in_error")
    return Case.objects.get(pk=case.pk)


def test_an_expired_finished_case_goes_with_its_events_messages_and_involvements(nurse) -> None:  # type: ignore[no-untyped-def]
    old = _finished_case(nurse, OLD)
    recent = _finished_case(nurse, OLD + dt.timedelta(days=5 * 365))
    thread_ids = list(Thread.objects.filter(case=old).values_list("pk", flat=True))
    assert thread_ids and Message.objects.filter(thread_id__in=thread_ids).count() == 2
    result = apply_retention(now=NOW)
    assert result.deleted["case"] == 1
    assert not Case.objects.filter(pk=old.pk).exists()
    assert not CaseEvent.objects.filter(case_id=old.pk).exists()
    assert not Thread.objects.filter(pk__in=thread_ids).exists()
    assert not Message.objects.filter(thread_id__in=thread_ids).exists()
    assert not Participant.objects.filter(case_id=old.pk).exists()
    assert not Involvement.objects.filter(source=old.source).exists()
    [logged] = RetentionDeletion.objects.filter(kind="case")
    assert (
        logged.object_id == str(old.pk) and logged.person_id == old.person_id and logged.retention_years == 10
    )
    assert "Patientdatalagen" in logged.legal_source
    # The newer case is within its period, with everything on it.
    assert CaseEvent.objects.filter(case=recent).exists() and Thread.objects.filter(case=recent).exists()
    assert apply_retention(now=NOW).deleted["case"] == 0  # idempotent


def test_an_open_case_a_held_one_and_one_with_a_newer_message_are_kept(nurse) -> None:  # type: ignore[no-untyped-def]
    held_person = make_person()
    held = _finished_case(nurse, OLD, person=held_person)
    place_hold(nurse.user, "Patientskadeärende", person=held_person)
    with time_machine.travel(OLD, tick=False):
        still_open = services.admit(
            nurse, make_person(), admitted_at=OLD, care_type="somatic", expected_discharge_date=OLD.date()
        )
    answered_late = _finished_case(nurse, OLD)
    with time_machine.travel(NOW - dt.timedelta(days=365), tick=False):  # a message long after: within period
        Message.objects.create(
            thread=Thread.objects.filter(case=answered_late).get(),
            author=nurse.user,
            author_label="Sjuksköterska",
            unit=nurse.unit,
            body="Komplettering",
            sent_at=NOW - dt.timedelta(days=365),
        )
    result = apply_retention(now=NOW)
    assert result.deleted["case"] == 0 and result.held["case"] == 1
    assert Case.objects.filter(pk__in=[held.pk, still_open.pk, answered_late.pk]).count() == 3
    assert not RetentionDeletion.objects.filter(kind="case").exists()


def _sip_thread(at: dt.datetime) -> Thread:
    from brygga.access.services import involve
    from brygga.messaging.services import send_message, subject_for
    from tests.factories import PRIMARY_CARE, unit
    from tests.test_sip import give_consent, prepared_sip

    vc = actor(Role.CARE_COORDINATOR, PRIMARY_CARE)
    person = make_person()
    with time_machine.travel(at, tick=False):
        involve(person, unit(PRIMARY_CARE), Involvement.Kind.OTHER, f"test:{person.pk}", at=at)
        give_consent(vc, person)
        sip = prepared_sip(vc, person)
        message = send_message(
            vc, subject_for(sip), body="Kallelse skickad.", category="carecoordination", title="SIP"
        )
    return message.thread


def test_a_sip_message_thread_past_its_period_goes_and_a_newer_one_stays(isolated_documents: Path) -> None:
    old = _sip_thread(OLD)
    newer = _sip_thread(NOW - dt.timedelta(days=365))
    result = apply_retention(now=NOW)
    assert result.deleted["message_thread"] == 1
    assert (
        not Thread.objects.filter(pk=old.pk).exists()
        and not Message.objects.filter(thread_id=old.pk).exists()
    )
    from brygga.sip.models import Sip

    assert Sip.objects.filter(pk=old.sip.pk).exists()  # type: ignore[union-attr]  # the SIP itself stays
    assert Thread.objects.filter(pk=newer.pk).exists()
    [logged] = RetentionDeletion.objects.filter(kind="message_thread")
    assert logged.object_id == str(old.pk) and logged.person_id == old.person_id
