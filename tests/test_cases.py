"""The admission and discharge process (Lag 2017:612 as applied in Västra Götaland): every rule named, the
deadlines under frozen time, need-to-know, and refusals that change nothing."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from brygga.access.models import AccessLogEntry, Involvement
from brygga.access.persons import register_person
from brygga.access.services import is_involved
from brygga.accounts.permissions import Role
from brygga.cases import services
from brygga.cases.models import Case, CaseEvent, Meeting, Participant, PlanningBasis
from brygga.core.errors import DomainError, NotFound
from brygga.inbox import selectors as inbox_selectors
from tests.factories import (
    CONTACT_POINT,
    OTHER_WARD,
    PRIMARY_CARE,
    WARD,
    actor,
    make_person,
    share_consent,
    unit,
)

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC)
K = CaseEvent.Kind

PLANNING_ANSWERS = {
    "lives_alone": "ja",
    "home_care_before": "nej",
    "home_health_before": "vet_ej",
    "aids_needed": "ja",
    "cognitive_impairment": "nej",
    "relatives_informed": "ja",
}


def admitted_case(nurse, at=T0, expected=dt.date(2026, 11, 9), **kwargs) -> Case:  # type: ignore[no-untyped-def]
    person = kwargs.pop("person", None) or make_person("1480")
    with time_machine.travel(at, tick=False):
        return services.admit(
            nurse, person, admitted_at=at, care_type="somatic", expected_discharge_date=expected, **kwargs
        )


def noticed_case(nurse, at=T0) -> Case:  # type: ignore[no-untyped-def]
    case = admitted_case(nurse, at)
    with time_machine.travel(at + dt.timedelta(hours=2), tick=False):
        services.send_admission_notice(nurse, case)
    case.refresh_from_db()
    return case


def kinds(case: Case) -> list[str]:
    return list(CaseEvent.objects.filter(case=case).order_by("id").values_list("kind", flat=True))


# --- admission and the notice -------------------------------------------------------------------------------


def test_admission_records_event_municipality_ward_site_and_involves_the_ward(nurse) -> None:  # type: ignore[no-untyped-def]
    case = admitted_case(nurse)
    assert case.municipality is not None and case.municipality.scb_code == "1480"
    assert case.ward == unit(WARD) and case.site.name == "Sahlgrenska"
    event = CaseEvent.objects.get(case=case)
    assert event.kind == K.ADMITTED and event.occurred_at == T0 and event.unit == unit(WARD)
    assert is_involved(unit(WARD), case.person_id)
    assert AccessLogEntry.objects.filter(person=case.person, what=f"case:{case.pk}/admitted").exists()


def test_notice_addressed_from_registration_and_listing_R_INS_7(nurse) -> None:  # type: ignore[no-untyped-def]
    case = noticed_case(nurse)
    receivers = set(
        case.participants.exclude(role=Participant.Role.WARD).values_list("unit__name", "addressing")
    )
    assert receivers == {(CONTACT_POINT, "automatic"), (PRIMARY_CARE, "automatic")}
    assert is_involved(unit(CONTACT_POINT), case.person_id) and is_involved(
        unit(PRIMARY_CARE), case.person_id
    )
    involvement = Involvement.objects.get(unit=unit(CONTACT_POINT), person=case.person)
    assert involvement.kind == Involvement.Kind.INPATIENT_CASE and involvement.source == f"case:{case.pk}"


def test_notice_manual_override_replaces_automatic_addressing_R_INS_7(nurse) -> None:  # type: ignore[no-untyped-def]
    case = admitted_case(nurse)
    with time_machine.travel(T0 + dt.timedelta(hours=1), tick=False):
        services.send_admission_notice(nurse, case, recipients=[unit("Göteborg hemsjukvård").hsa_id])
    names = set(case.participants.exclude(role="ward").values_list("unit__name", flat=True))
    assert names == {"Göteborg hemsjukvård"}
    assert not is_involved(unit(CONTACT_POINT), case.person_id)


def test_notice_within_24_hours_of_admission_is_on_time_R_INS_2(nurse) -> None:  # type: ignore[no-untyped-def]
    case = admitted_case(nurse)
    with time_machine.travel(T0 + dt.timedelta(hours=23, minutes=59), tick=False):
        event = services.send_admission_notice(nurse, case)
    case.refresh_from_db()
    assert case.notice_late is False and event.data["late"] is False and event.data["rule"] == "R-INS-2"
    assert case.notice_due_at == T0 + dt.timedelta(hours=24)


def test_notice_after_24_hours_is_flagged_late_R_INS_2(nurse) -> None:  # type: ignore[no-untyped-def]
    case = admitted_case(nurse)
    with time_machine.travel(T0 + dt.timedelta(hours=24, minutes=1), tick=False):
        event = services.send_admission_notice(nurse, case)
    case.refresh_from_db()
    assert case.notice_late is True and event.data["late"] is True


def test_later_assessment_moves_the_deadline_R_INS_3(nurse) -> None:  # type: ignore[no-untyped-def]
    case = admitted_case(nurse)
    assessed = T0 + dt.timedelta(days=2)
    with time_machine.travel(assessed + dt.timedelta(hours=20), tick=False):
        event = services.send_admission_notice(nurse, case, assessed_at=assessed)
    case.refresh_from_db()
    assert case.notice_due_at == assessed + dt.timedelta(hours=24)
    assert case.notice_late is False and event.data["rule"] == "R-INS-3"


def test_overdue_notice_shows_in_the_ward_inbox_R_INS_2(nurse) -> None:  # type: ignore[no-untyped-def]
    admitted_case(nurse, need_assessed_at=T0)
    with time_machine.travel(T0 + dt.timedelta(hours=25), tick=False):
        rows = inbox_selectors.inbox(nurse)
    assert rows[0].priority == 0
    assert ("R-INS-2", "overdue") in [(d.rule, s) for d, s in rows[0].deadlines]


def test_notice_missing_the_four_fields_is_refused_and_nothing_written_R_INS_4(nurse) -> None:  # type: ignore[no-untyped-def]
    person = make_person("1480", street_address="", postal_code="", city="")
    case = admitted_case(nurse, expected=None, person=person)
    before = CaseEvent.objects.count()
    with pytest.raises(DomainError) as err:
        services.send_admission_notice(nurse, case)
    problems = {(p.field, p.rule) for p in err.value.problems}
    assert ("address", "R-INS-4") in problems and ("expected_discharge_date", "R-INS-4") in problems
    case.refresh_from_db()
    assert case.notice_sent_at is None and CaseEvent.objects.count() == before
    assert case.participants.count() == 1


def test_person_outside_vg_needs_manual_addressing_R_INS_7(nurse) -> None:  # type: ignore[no-untyped-def]
    person = register_person(make_person().identifier, "Bor", "Utomlands", "Gatan 1", "11122", "Oslo")
    case = admitted_case(nurse, person=person)
    with pytest.raises(DomainError) as err:
        services.send_admission_notice(nurse, case)
    assert err.value.problems[0].rule == "R-INS-7"
    assert case.municipality is None


def test_unknown_recipient_unit_is_refused(nurse) -> None:  # type: ignore[no-untyped-def]
    case = admitted_case(nurse)
    with pytest.raises(DomainError) as err:
        services.send_admission_notice(nurse, case, recipients=["SE0000000000-XXXX"])
    assert err.value.problems[0].rule == "OKAND-ENHET"
    with pytest.raises(DomainError) as err:
        services.send_admission_notice(nurse, case, recipients=[unit(OTHER_WARD)])
    assert err.value.problems[0].rule == "R-INS-7"
    assert kinds(case) == [K.ADMITTED]


def test_receiver_rejects_misdirected_notice_with_reason_and_sender_sees_it_R_INS_7(nurse, contact) -> None:  # type: ignore[no-untyped-def]
    case = noticed_case(nurse)
    with pytest.raises(DomainError) as err:
        services.reject_notice(contact, case, "")
    assert err.value.problems[0].rule == "R-INS-7"
    services.reject_notice(contact, case, "not_registered")
    participant = Participant.objects.get(case=case, unit=unit(CONTACT_POINT))
    assert participant.status == "rejected" and participant.rejected_reason == "not_registered"
    ward_row = inbox_selectors.inbox(nurse)[0]
    assert ward_row.participant is not None
    assert ward_row.participant.needs_ack is True  # the sender is notified
    event = CaseEvent.objects.get(case=case, kind=K.ADMISSION_NOTICE_REJECTED)
    assert event.data["reason"] == "not_registered" and event.unit == unit(CONTACT_POINT)
    with pytest.raises(NotFound):
        services.open_case(contact, case.pk)


def test_ward_cannot_reject_its_own_notice(nurse) -> None:  # type: ignore[no-untyped-def]
    case = noticed_case(nurse)
    with pytest.raises(DomainError):
        services.reject_notice(nurse, case, "wrong_unit")
    assert not CaseEvent.objects.filter(kind=K.ADMISSION_NOTICE_REJECTED).exists()


def test_admission_bad_input_names_the_rule_and_writes_nothing(nurse) -> None:  # type: ignore[no-untyped-def]
    person = make_person()
    with time_machine.travel(T0, tick=False), pytest.raises(DomainError) as err:
        services.admit(
            nurse,
            person,
            admitted_at=T0,
            care_type="dental",
            expected_discharge_date=dt.date(2026, 11, 1),
        )
    rules = {p.rule for p in err.value.problems}
    assert rules == {"VARDFORM", "DATUM-ORDNING"}
    assert not Case.objects.filter(person=person).exists()


def test_second_open_stay_for_the_same_person_is_refused(nurse) -> None:  # type: ignore[no-untyped-def]
    case = admitted_case(nurse)
    with pytest.raises(DomainError) as err:
        admitted_case(nurse, person=case.person)
    assert err.value.problems[0].rule == "ETT-VARDTILLFALLE"
    assert Case.objects.filter(person=case.person).count() == 1


def test_only_a_ward_can_admit(contact) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DomainError):
        admitted_case(contact)
    assert not Case.objects.exists()


# --- expected date ------------------------------------------------------------------------------------------


def test_expected_date_is_versioned_with_coded_reason_and_notifies_R_INS_5(nurse, contact) -> None:  # type: ignore[no-untyped-def]
    case = noticed_case(nurse)
    services.acknowledge(contact, case)
    with time_machine.travel(T0 + dt.timedelta(days=1), tick=False):
        services.change_expected_date(nurse, case, dt.date(2026, 11, 12), "complication")
        services.change_expected_date(nurse, case, dt.date(2026, 11, 14), "other", "Väntar på plats")
    history = list(
        CaseEvent.objects.filter(case=case, kind=K.EXPECTED_DATE_CHANGED).values_list("data", "user", "unit")
    )
    assert [h[0]["old"] for h in history] == ["2026-11-09", "2026-11-12"]
    assert [h[0]["new"] for h in history] == ["2026-11-12", "2026-11-14"]
    assert history[0][0]["reason"] == "complication" and history[1][0]["comment"] == "Väntar på plats"
    assert Participant.objects.get(case=case, unit=unit(CONTACT_POINT)).needs_ack is True
    case.refresh_from_db()
    assert case.expected_discharge_date == dt.date(2026, 11, 14)


def test_expected_date_change_without_reason_or_before_admission_is_refused_R_INS_5(nurse) -> None:  # type: ignore[no-untyped-def]
    case = noticed_case(nurse)
    with pytest.raises(DomainError) as err:
        services.change_expected_date(nurse, case, dt.date(2026, 11, 10), "")
    assert err.value.problems[0].rule == "R-INS-5"
    with pytest.raises(DomainError) as err:
        services.change_expected_date(nurse, case, dt.date(2026, 10, 1), "complication")
    assert err.value.problems[0].rule == "DATUM-ORDNING"
    case.refresh_from_db()
    assert case.expected_discharge_date == dt.date(2026, 11, 9)
    assert not CaseEvent.objects.filter(case=case, kind=K.EXPECTED_DATE_CHANGED).exists()


# --- discharge-ready and SIP --------------------------------------------------------------------------------


def test_only_a_physician_sets_discharge_ready_R_DEF_UK_1(nurse, physician) -> None:  # type: ignore[no-untyped-def]
    case = noticed_case(nurse)
    with pytest.raises(DomainError) as err:
        services.set_discharge_ready(nurse, case)
    assert err.value.problems[0].rule == "R-DEF-UK-1" and err.value.status == 403
    case.refresh_from_db()
    assert case.discharge_ready_at is None
    assert not CaseEvent.objects.filter(kind=K.DISCHARGE_READY_SET).exists()


def test_discharge_ready_timestamp_is_exact_and_physician_stored_R_UK_1_R_UK_3(nurse, physician) -> None:  # type: ignore[no-untyped-def]
    case = noticed_case(nurse)
    exact = T0 + dt.timedelta(days=3, hours=4, minutes=17, seconds=31, microseconds=250)
    with time_machine.travel(exact + dt.timedelta(minutes=3), tick=False):
        event = services.set_discharge_ready(physician, case, at=exact)
    case.refresh_from_db()
    assert case.discharge_ready_at == exact and event.occurred_at == exact
    assert case.discharge_ready_by == physician.user
    assert event.data["at"] == exact.isoformat()


def test_discharge_ready_before_admission_is_refused(nurse, physician) -> None:  # type: ignore[no-untyped-def]
    case = noticed_case(nurse)
    with pytest.raises(DomainError) as err:
        services.set_discharge_ready(physician, case, at=T0 - dt.timedelta(hours=1))
    assert err.value.problems[0].rule == "DATUM-ORDNING"
    case.refresh_from_db()
    assert case.discharge_ready_at is None


def test_discharge_ready_can_be_withdrawn_with_notice_to_all_R_UK_2(nurse, physician, contact, vc) -> None:  # type: ignore[no-untyped-def]
    case = noticed_case(nurse)
    with time_machine.travel(T0 + dt.timedelta(days=3), tick=False):
        services.set_discharge_ready(physician, case)
        services.acknowledge(contact, case)
        services.acknowledge(vc, case)
        with pytest.raises(DomainError) as err:
            services.withdraw_discharge_ready(physician, case, "")
        assert err.value.problems[0].rule == "R-UK-2"
        services.withdraw_discharge_ready(physician, case, "Feber, ny infektion")
    case.refresh_from_db()
    assert case.discharge_ready_at is None and case.sip_summons_due_at is None
    flags = set(case.participants.exclude(role="ward").values_list("needs_ack", flat=True))
    assert flags == {True}
    assert kinds(case)[-1] == K.DISCHARGE_READY_WITHDRAWN


def _plan(nurse, case, primary="ja", municipal="ja"):  # type: ignore[no-untyped-def]
    return services.save_planning_basis(
        nurse,
        case,
        answers=PLANNING_ANSWERS,
        needs={"social_services": municipal, "municipal_health": "vet_ej", "primary_care": primary},
        nursing_status={"pain": "Smärtfri med paracetamol", "elimination": "Kateter"},
        medications="Paracetamol 1 g x 4",
    )


def test_sip_summons_due_three_days_after_discharge_ready_when_both_principals_R_SIP_K_1(
    nurse, physician, vc
) -> None:  # type: ignore[no-untyped-def]
    case = noticed_case(nurse)
    _plan(nurse, case)
    ready = T0 + dt.timedelta(days=2)
    with time_machine.travel(ready, tick=False):
        services.set_discharge_ready(physician, case)
    case.refresh_from_db()
    assert case.sip_needed and case.sip_summons_due_at == ready + dt.timedelta(days=3)
    with time_machine.travel(ready + dt.timedelta(days=3, minutes=1), tick=False):
        row = inbox_selectors.inbox(vc)[0]
        assert ("R-SIP-K-1", "overdue") in [(d.rule, s) for d, s in row.deadlines]
        event = services.send_sip_summons(vc, case)
    assert event.data["on_time"] is False


def test_no_sip_deadline_when_only_one_principal_is_needed_R_SIP_K_1(nurse, physician) -> None:  # type: ignore[no-untyped-def]
    case = noticed_case(nurse)
    _plan(nurse, case, primary="nej")
    with time_machine.travel(T0 + dt.timedelta(days=2), tick=False):
        services.set_discharge_ready(physician, case)
    case.refresh_from_db()
    assert case.sip_needed is False and case.sip_summons_due_at is None


def test_sip_summons_sent_by_the_vardcentral_only_R_FVK_2(nurse, contact, vc) -> None:  # type: ignore[no-untyped-def]
    case = noticed_case(nurse)
    with pytest.raises(DomainError):
        services.send_sip_summons(contact, case)
    with time_machine.travel(T0 + dt.timedelta(days=1), tick=False):
        event = services.send_sip_summons(vc, case)
    assert event.data["on_time"] is True


# --- planning -----------------------------------------------------------------------------------------------


def test_planning_basis_counts_vet_ej_and_requires_every_answer(nurse) -> None:  # type: ignore[no-untyped-def]
    case = noticed_case(nurse)
    with pytest.raises(DomainError) as err:
        services.save_planning_basis(nurse, case, answers={"lives_alone": "ja"}, needs={})
    fields = {p.field for p in err.value.problems}
    assert "answers.home_care_before" in fields and "needs.primary_care" in fields
    assert {p.rule for p in err.value.problems} == {"PLAN-OBLIGATORISK"}
    assert not PlanningBasis.objects.filter(case=case).exists()
    basis = _plan(nurse, case)
    assert basis.unknown_count == 2  # one question, one need answered "vet ej"
    assert basis.nursing_status["pain"].startswith("Smärtfri") and "Paracetamol" in basis.medications
    assert CaseEvent.objects.filter(case=case, kind=K.PLANNING_UPDATED).count() == 1


def test_fast_vardkontakt_appointed_by_the_vardcentral_R_FVK_1(nurse, contact, vc) -> None:  # type: ignore[no-untyped-def]
    case = noticed_case(nurse)
    with pytest.raises(DomainError):
        services.appoint_coordinator(contact, case, "Någon")
    with pytest.raises(DomainError) as err:
        services.appoint_coordinator(vc, case, " ")
    assert err.value.problems[0].rule == "R-FVK-1"
    services.appoint_coordinator(vc, case, "Frida Vårdkontaktsson", "031-123456")
    case.refresh_from_db()
    assert case.coordinator_name == "Frida Vårdkontaktsson" and case.coordinator_unit == unit(PRIMARY_CARE)
    assert kinds(case)[-1] == K.COORDINATOR_APPOINTED


def test_planning_meeting_by_video_gets_a_link_from_the_provider_R_VG_PROC_2(nurse, contact) -> None:  # type: ignore[no-untyped-def]
    case = noticed_case(nurse)
    starts = T0 + dt.timedelta(days=2)
    meeting = services.book_meeting(
        contact, case, form="video", starts_at=starts, participants=[unit(WARD), unit(CONTACT_POINT)]
    )
    assert meeting.video_link.startswith("https://video.brygga.local/rum/")
    assert set(meeting.participants.values_list("name", flat=True)) == {WARD, CONTACT_POINT}
    with pytest.raises(DomainError) as err:
        services.book_meeting(
            contact, case, form="on_site", starts_at=starts, participants=[unit(OTHER_WARD)]
        )
    assert {p.rule for p in err.value.problems} == {"MOTE-PLATS", "OKAND-ENHET"}
    assert Meeting.objects.filter(case=case).count() == 1


def test_video_provider_is_configurable(nurse, contact, settings) -> None:  # type: ignore[no-untyped-def]
    settings.BRYGGA_VIDEO_BASE_URL = "https://video.example.se/m"
    case = noticed_case(nurse)
    meeting = services.book_meeting(contact, case, form="video", starts_at=T0 + dt.timedelta(days=1))
    assert meeting.video_link.startswith("https://video.example.se/m/")


# --- discharge ----------------------------------------------------------------------------------------------


def _ready_for_discharge(nurse, physician, case, day=T0 + dt.timedelta(days=4)):  # type: ignore[no-untyped-def]
    with time_machine.travel(day, tick=False):
        services.set_discharge_ready(physician, case)
        services.send_discharge_info(nurse, case, summary_given=True)


def test_discharge_blocked_until_information_sent_R_UTS_1_R_UTS_2(nurse, physician) -> None:  # type: ignore[no-untyped-def]
    case = noticed_case(nurse)
    with time_machine.travel(T0 + dt.timedelta(days=4), tick=False), pytest.raises(DomainError) as err:
        services.discharge(nurse, case)
    assert {p.rule for p in err.value.problems} == {"R-UTS-1", "R-UTS-2"}
    case.refresh_from_db()
    assert case.status == Case.Status.ADMITTED and not CaseEvent.objects.filter(kind=K.DISCHARGED).exists()


def test_information_sent_after_the_discharge_day_is_refused_R_UTS_1(nurse, physician) -> None:  # type: ignore[no-untyped-def]
    case = noticed_case(nurse)
    _ready_for_discharge(nurse, physician, case)
    with time_machine.travel(T0 + dt.timedelta(days=5), tick=False), pytest.raises(DomainError) as err:
        # backdating the discharge to before the day the information went out
        services.discharge(nurse, case, discharged_at=T0 + dt.timedelta(days=3))
    assert "R-UTS-1" in {p.rule for p in err.value.problems}


def test_discharge_sends_notice_and_close_records_statistics(nurse, physician, contact) -> None:  # type: ignore[no-untyped-def]
    case = noticed_case(nurse)
    _ready_for_discharge(nurse, physician, case)
    with time_machine.travel(T0 + dt.timedelta(days=4, hours=3), tick=False):
        services.discharge(nurse, case, destination="Hemmet")
        with pytest.raises(DomainError):
            services.close_case(contact, case)
        event = services.close_case(nurse, case)
    case.refresh_from_db()
    assert case.status == Case.Status.CLOSED
    assert kinds(case)[-3:] == [K.DISCHARGED, K.DISCHARGE_NOTICE_SENT, K.CLOSED]
    assert event.data == {
        "from_status": "discharged",
        "without_discharge_ready": False,
        "without_discharge_notice": False,
    }
    assert not Involvement.objects.filter(source=case.source, ended_at__isnull=True).exists()


def test_discharge_before_admission_or_before_discharge_ready_is_refused(nurse, physician) -> None:  # type: ignore[no-untyped-def]
    case = noticed_case(nurse)
    _ready_for_discharge(nurse, physician, case)
    with (
        time_machine.travel(T0 + dt.timedelta(days=4, hours=1), tick=False),
        pytest.raises(DomainError) as err,
    ):
        services.discharge(nurse, case, discharged_at=T0 - dt.timedelta(days=1))
    assert "DATUM-ORDNING" in {p.rule for p in err.value.problems}
    case.refresh_from_db()
    assert case.discharged_at is None


def test_action_in_wrong_state_is_refused(nurse, physician) -> None:  # type: ignore[no-untyped-def]
    case = noticed_case(nurse)
    with pytest.raises(DomainError) as err:
        services.close_case(nurse, case)
    assert err.value.problems[0].rule == "FEL-STATUS"
    with pytest.raises(DomainError) as err:
        services.send_admission_notice(nurse, case)
    assert err.value.problems[0].rule == "FEL-STATUS"


def test_checklist_warns_and_blocks(nurse, physician, vc) -> None:  # type: ignore[no-untyped-def]
    case = noticed_case(nurse)
    items = {i["key"]: i for i in services.checklist_status(case)}
    assert items["discharge_info"]["blocking"] and not items["discharge_info"]["done"]
    assert items["coordinator"]["applies"] and not items["coordinator"]["blocking"]
    services.set_checklist_item(nurse, case, "transport")
    case.refresh_from_db()
    assert {i["key"]: i for i in services.checklist_status(case)}["transport"]["done"]
    with pytest.raises(DomainError):
        services.set_checklist_item(nurse, case, "discharge_info")  # derived, not tickable


# --- edge cases ---------------------------------------------------------------------------------------------


def test_discharge_that_did_not_happen_voids_the_notice(nurse, physician) -> None:  # type: ignore[no-untyped-def]
    case = noticed_case(nurse)
    _ready_for_discharge(nurse, physician, case)
    with time_machine.travel(T0 + dt.timedelta(days=4, hours=2), tick=False):
        discharged = services.discharge(nurse, case)
        notice = CaseEvent.objects.get(case=case, kind=K.DISCHARGE_NOTICE_SENT)
        event = services.cancel_notice(nurse, case, notice.pk, "discharge_did_not_happen")
        with pytest.raises(DomainError):
            services.cancel_notice(nurse, case, notice.pk, "discharge_did_not_happen")
    case.refresh_from_db()
    assert case.status == Case.Status.ADMITTED and case.discharged_at is None
    assert event.data["voids"] == [discharged.pk, notice.pk]
    assert CaseEvent.objects.filter(pk=discharged.pk).exists()  # history kept


def test_correction_changes_time_and_keeps_history(nurse) -> None:  # type: ignore[no-untyped-def]
    case = noticed_case(nurse)
    admitted = CaseEvent.objects.get(case=case, kind=K.ADMITTED)
    correct = T0 - dt.timedelta(hours=3)
    with time_machine.travel(T0 + dt.timedelta(hours=5), tick=False):
        event = services.correct_notice(nurse, case, admitted.pk, correct, "Fel tid i journalen")
    case.refresh_from_db()
    assert case.admitted_at == correct
    assert event.kind == K.NOTICE_CORRECTED and event.data["old"] == T0.isoformat()
    assert CaseEvent.objects.get(pk=admitted.pk).occurred_at == T0


def test_cancelling_the_admission_notice_removes_the_receivers(nurse) -> None:  # type: ignore[no-untyped-def]
    case = noticed_case(nurse)
    notice = CaseEvent.objects.get(case=case, kind=K.ADMISSION_NOTICE_SENT)
    services.cancel_notice(nurse, case, notice.pk, "wrong_stay")
    case.refresh_from_db()
    assert case.notice_sent_at is None
    assert Involvement.objects.get(unit=unit(CONTACT_POINT), source=case.source).ended_at is not None
    assert not case.participants.filter(status="active").exclude(role="ward").exists()


def test_events_are_immutable(nurse) -> None:  # type: ignore[no-untyped-def]
    event = CaseEvent.objects.get(case=admitted_case(nurse))
    event.data = {"changed": True}
    with pytest.raises(RuntimeError):
        event.save()
    with pytest.raises(RuntimeError):
        event.delete()


def test_transfer_between_hospitals_keeps_the_case(nurse, contact) -> None:  # type: ignore[no-untyped-def]
    case = noticed_case(nurse)
    with time_machine.travel(T0 + dt.timedelta(days=1), tick=False):
        event = services.transfer(nurse, case, unit(OTHER_WARD))
    case.refresh_from_db()
    assert case.ward == unit(OTHER_WARD) and case.site.name == "NÄL"
    assert event.data["between_hospitals"] is True
    other = actor(Role.WARD_NURSE, OTHER_WARD)
    assert services.open_case(other, case.pk) == case
    with pytest.raises(NotFound):
        services.open_case(nurse, case.pk)
    with pytest.raises(DomainError):
        services.transfer(other, case, "NOT-A-UNIT")


def test_leave_and_return(nurse) -> None:  # type: ignore[no-untyped-def]
    case = noticed_case(nurse)
    with time_machine.travel(T0 + dt.timedelta(days=1), tick=False):
        services.start_leave(nurse, case, expected_return=dt.date(2026, 11, 4))
    with time_machine.travel(T0 + dt.timedelta(days=2), tick=False):
        with pytest.raises(DomainError):
            services.start_leave(nurse, case)
        services.end_leave(nurse, case)
    case.refresh_from_db()
    assert case.status == Case.Status.ADMITTED
    assert kinds(case)[-2:] == [K.LEAVE_STARTED, K.LEAVE_ENDED]


def test_death_stops_the_case_and_close_records_missing_notices(nurse) -> None:  # type: ignore[no-untyped-def]
    case = noticed_case(nurse)
    with time_machine.travel(T0 + dt.timedelta(days=1), tick=False):
        services.record_death(nurse, case, T0 + dt.timedelta(hours=20))
        closed = services.close_case(nurse, case)
    case.refresh_from_db()
    assert case.person.deceased_on == dt.date(2026, 11, 3)
    assert closed.data["without_discharge_ready"] and closed.data["without_discharge_notice"]


def test_reserve_number_replaced_by_personnummer(nurse, contact) -> None:  # type: ignore[no-untyped-def]
    reserve = register_person("20261102-R042", "Okänd", "Man", "Okänd adress 1", "41301", "Göteborg", "1480")
    case = admitted_case(nurse, person=reserve)
    with time_machine.travel(T0 + dt.timedelta(hours=1), tick=False):
        services.send_admission_notice(nurse, case)
    real = make_person("1480")
    services.replace_reserve_number(nurse, case, real)
    case.refresh_from_db()
    reserve.refresh_from_db()
    assert case.person == real and reserve.replaced_by == real
    assert services.open_case(contact, case.pk).person == real
    assert CaseEvent.objects.filter(case=case, kind=K.NOTICE_CORRECTED, data__field="person").exists()


def test_protected_identity_is_masked_in_the_inbox(nurse) -> None:  # type: ignore[no-untyped-def]
    case = admitted_case(nurse, person=make_person("1480", protected=True, given_name="Hemlig"))
    rows = inbox_selectors.inbox(nurse)
    assert rows[0].case is not None and rows[0].case.pk == case.pk and rows[0].name == "Skyddad identitet"
    assert inbox_selectors.inbox(nurse, q="Hemlig") == []


# --- need-to-know and the inbox -----------------------------------------------------------------------------


def test_uninvolved_unit_gets_not_found_and_reads_are_logged(nurse) -> None:  # type: ignore[no-untyped-def]
    case = noticed_case(nurse)
    stranger = actor(Role.MUNICIPAL_CONTACT, "Borås kontaktpunkt")
    with pytest.raises(NotFound):
        services.open_case(stranger, case.pk)
    with pytest.raises(NotFound):
        services.open_case(nurse, 999999)
    before = AccessLogEntry.objects.filter(person=case.person, action="read").count()
    services.open_case(actor(Role.MUNICIPAL_CONTACT, CONTACT_POINT), case.pk)
    assert AccessLogEntry.objects.filter(person=case.person, action="read").count() == before + 1
    assert inbox_selectors.inbox(stranger) == []


def test_inbox_acknowledgement_and_escalation(nurse, contact) -> None:  # type: ignore[no-untyped-def]
    case = noticed_case(nurse)
    with time_machine.travel(T0 + dt.timedelta(hours=3), tick=False):
        row = inbox_selectors.inbox(contact)[0]
        assert row.participant is not None
        assert row.new and row.participant.needs_ack and not row.escalated
    with time_machine.travel(T0 + dt.timedelta(hours=27), tick=False):
        row = inbox_selectors.inbox(contact)[0]
        assert row.escalated and row.priority == 0
        summary = [s for s in inbox_selectors.inbox_summaries(contact) if s["active"]][0]
        assert summary["escalated"] == 1 and summary["unacknowledged"] == 1
        services.acknowledge(contact, case)
        row = inbox_selectors.inbox(contact)[0]
        assert row.participant is not None
        assert not row.escalated and not row.participant.needs_ack
    assert AccessLogEntry.objects.filter(what__startswith="inkorg:", person=case.person).exists()


def test_messages_threads_reply_and_pin(nurse, contact) -> None:  # type: ignore[no-untyped-def]
    case = noticed_case(nurse)
    share_consent(nurse, case.person, [p.unit for p in case.participants.all()])  # R-SEK-2
    with pytest.raises(DomainError) as err:
        services.send_message(nurse, case, body="Hej", category="", subject="")
    assert {p.rule for p in err.value.problems} == {"MEDDELANDE-KATEGORI", "MEDDELANDE-AMNE"}
    first = services.send_message(
        nurse, case, body="Patienten behöver rullator.", category="assistive-devices", subject="Hjälpmedel"
    )
    reply = services.send_message(contact, case, body="Beställd.", reply_to=first, quote="behöver rullator")
    assert reply.thread == first.thread and reply.quoted == "behöver rullator"
    assert first.thread.get_category_display() == "Hjälpmedel"
    services.pin_message(contact, case, first)
    first.refresh_from_db()
    assert first.pinned
    assert CaseEvent.objects.filter(case=case, kind=K.MESSAGE_SENT).count() == 2


def test_forward_within_own_organisation_adds_the_unit_and_chosen_text(nurse, contact) -> None:  # type: ignore[no-untyped-def]
    case = noticed_case(nurse)
    share_consent(nurse, case.person, [p.unit for p in case.participants.all()])  # R-SEK-2
    original = services.send_message(
        nurse, case, body="Behöver hemsjukvård kvällstid.", category="nursing", subject="Omvårdnad"
    )
    home_health = unit("Göteborg hemsjukvård")
    forwarded = services.forward_message(
        contact, case, original, include_text=True, reason="För kännedom", to_unit=home_health.hsa_id
    )
    assert (
        forwarded.quoted == "Behöver hemsjukvård kvällstid." and forwarded.thread.subject == "VB: Omvårdnad"
    )
    assert forwarded.thread.category == "nursing"
    assert Participant.objects.get(case=case, unit=home_health).addressing == "manual"
    assert services.open_case(actor(Role.HOME_CARE_NURSE, "Göteborg hemsjukvård"), case.pk) == case
    without = services.forward_message(contact, case, original, include_text=False)
    assert without.quoted == ""
    with pytest.raises(DomainError) as err:
        services.forward_message(
            contact, case, original, include_text=True, to_unit=unit("Borås kontaktpunkt")
        )
    assert err.value.problems[0].rule == "VIDARESAND"
    assert not Participant.objects.filter(case=case, unit=unit("Borås kontaktpunkt")).exists()


def test_inbox_urgent_filter_shows_only_overdue_and_due_soon(nurse) -> None:  # type: ignore[no-untyped-def]
    late = admitted_case(nurse, need_assessed_at=T0)
    admitted_case(nurse, at=T0 + dt.timedelta(hours=24))  # not assessed: no deadline yet
    with time_machine.travel(T0 + dt.timedelta(hours=25), tick=False):
        rows = inbox_selectors.inbox(nurse, status="urgent")
    assert [r.case.pk for r in rows if r.case is not None] == [late.pk] and len(rows) == 1


# --- the payment view of a case -----------------------------------------------------------------------------


def test_stay_facts_pair_discharge_ready_periods_and_apply_cancellations(nurse, physician, contact) -> None:  # type: ignore[no-untyped-def]
    from brygga.cases.facts import stay_facts_fields

    case = noticed_case(nurse)
    first, second = T0 + dt.timedelta(days=2), T0 + dt.timedelta(days=3)
    with time_machine.travel(first, tick=False):
        services.set_discharge_ready(physician, case)
    with time_machine.travel(first + dt.timedelta(hours=5), tick=False):
        services.withdraw_discharge_ready(physician, case, "Feber")
    with time_machine.travel(second, tick=False):
        services.set_discharge_ready(physician, case)
        services.send_discharge_info(nurse, case, summary_given=True)
        services.discharge(nurse, case)
        notice = CaseEvent.objects.get(case=case, kind=K.DISCHARGE_NOTICE_SENT)
        services.cancel_notice(nurse, case, notice.pk, "discharge_did_not_happen")
    case.refresh_from_db()
    facts = stay_facts_fields(case)
    assert facts is not None
    assert facts["municipality_code"] == "1480" and facts["admitted_at"] == T0
    assert facts["admission_notice_sent_at"] == T0 + dt.timedelta(hours=2)
    assert facts["discharge_ready"] == [
        {"set_at": first, "withdrawn_at": first + dt.timedelta(hours=5)},
        {"set_at": second, "withdrawn_at": None},
    ]
    assert facts["discharge_ready_notice_sent_at"] == second
    assert facts["discharged_at"] is None  # the discharge that did not happen is void
    assert facts["cancelled"] is False


def test_stay_facts_without_notice_when_the_municipality_rejected_R_INS_7(nurse, contact) -> None:  # type: ignore[no-untyped-def]
    from brygga.cases.facts import stay_facts_fields

    case = noticed_case(nurse)
    services.reject_notice(contact, case, "not_registered")
    facts = stay_facts_fields(case)
    assert facts is not None and facts["admission_notice_sent_at"] is None
    outside = admitted_case(
        nurse, person=register_person(make_person().identifier, "Bor", "Utomlands", "G 1", "11122", "Oslo")
    )
    assert stay_facts_fields(outside) is None
