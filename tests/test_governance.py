"""Governance: cases from need to decision, mandates, endorsements, meetings, consultations, forums, plans."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from brygga.accounts.permissions import Role
from brygga.core.errors import DomainError, NotFound, PermissionDenied
from brygga.governance import seeds, services
from brygga.governance.models import (
    AgendaItem,
    CaseState,
    ConsultationResponse,
    Decision,
    Endorsement,
    Forum,
    GoalCategory,
    GovernanceCase,
    ManagedObject,
    ManagementPlan,
    MandateArea,
    Meeting,
)
from brygga.governance.services import MinuteDecision, Recipient
from tests.factories import CONTACT_POINT, actor

pytestmark = pytest.mark.django_db

TZ = dt.timezone(dt.timedelta(hours=1))
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=TZ)


def rules(exc: pytest.ExceptionInfo[DomainError]) -> set[str]:
    return {p.rule for p in exc.value.problems}


@pytest.fixture
def ref(db):  # type: ignore[no-untyped-def]
    seeds.load_governance_reference()


@pytest.fixture
def gits():  # type: ignore[no-untyped-def]
    return actor(Role.GITS_COORDINATOR, "GITS kansli")


@pytest.fixture
def member_boras():  # type: ignore[no-untyped-def]
    return actor(Role.FORUM_MEMBER, "Borås kontaktpunkt")


@pytest.fixture
def member_gbg():  # type: ignore[no-untyped-def]
    return actor(Role.FORUM_MEMBER, CONTACT_POINT)


def sitiv() -> Forum:
    return Forum.objects.get(code="sitiv")


def new_case(nurse, **kw) -> GovernanceCase:  # type: ignore[no-untyped-def]
    return services.raise_case(
        nurse,
        GovernanceCase.Kind.NEED,
        "Bifoga dokument",
        "Vi behöver kunna bifoga dokument i ärendet.",
        **kw,
    )


def to_preparation(gits, case, forum=None, area=MandateArea.WITHIN_FRAME) -> GovernanceCase:  # type: ignore[no-untyped-def]
    services.advance(gits, case, CaseState.INVENTORY)
    services.assign(gits, case, forum or sitiv(), area)
    return services.advance(gits, case, CaseState.PREPARATION)


# --- Cases and the flow (R-GOV-1, R-GOV-6) ---------------------------------------------------------------------


def test_any_user_raises_a_case_that_starts_as_initiative(ref, nurse) -> None:  # type: ignore[no-untyped-def]
    case = new_case(nurse, source_reference="samordningsärende")
    assert case.state == CaseState.INITIATIVE
    assert case.number.startswith("F-")
    assert case.priority == 0  # one user's wish alone adds no weight
    assert list(case.events.values_list("to_state", flat=True)) == [CaseState.INITIATIVE]


def test_raise_case_validates_and_writes_nothing(ref, nurse) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DomainError) as exc:
        services.raise_case(nurse, "wish", "", "kort")
    assert {p.field for p in exc.value.problems} == {"kind", "title", "description"}
    assert not GovernanceCase.objects.exists()


def test_r_gov_1_a_case_cannot_skip_steps(ref, gits, nurse) -> None:  # type: ignore[no-untyped-def]
    case = new_case(nurse)
    with pytest.raises(DomainError) as exc:
        services.advance(gits, case, CaseState.PREPARATION)
    assert rules(exc) == {"R-GOV-1"}
    case.refresh_from_db()
    assert case.state == CaseState.INITIATIVE
    assert case.events.count() == 1


def test_r_gov_6_rejecting_or_parking_needs_a_reason(ref, gits, nurse) -> None:  # type: ignore[no-untyped-def]
    case = new_case(nurse)
    with pytest.raises(DomainError) as exc:
        services.advance(gits, case, CaseState.PARKED, reason="  ")
    assert rules(exc) == {"R-GOV-6"}
    case.refresh_from_db()
    assert case.state == CaseState.INITIATIVE
    services.advance(gits, case, CaseState.PARKED, reason="Inväntar nytt IT-stöd.")
    case.refresh_from_db()
    assert (case.state, case.state_reason) == (CaseState.PARKED, "Inväntar nytt IT-stöd.")


def test_only_gits_moves_cases(ref, nurse) -> None:  # type: ignore[no-untyped-def]
    case = new_case(nurse)
    with pytest.raises(PermissionDenied):
        services.advance(nurse, case, CaseState.INVENTORY)
    case.refresh_from_db()
    assert case.state == CaseState.INITIATIVE


# --- Mandate (R-GOV-2) ------------------------------------------------------------------------------------------


def test_r_gov_2_case_is_assigned_only_to_a_forum_with_the_mandate(ref, gits, nurse) -> None:  # type: ignore[no-untyped-def]
    case = new_case(nurse)
    services.advance(gits, case, CaseState.INVENTORY)
    with pytest.raises(DomainError) as exc:
        services.assign(gits, case, Forum.objects.get(code="sitiv-au"), MandateArea.WITHIN_FRAME)
    assert rules(exc) == {"R-GOV-2"}
    case.refresh_from_db()
    assert (case.state, case.addressee_id) == (CaseState.INVENTORY, None)


def test_r_gov_2_decision_in_a_forum_without_the_mandate_is_refused(ref, gits, nurse, member_boras) -> None:  # type: ignore[no-untyped-def]
    case = to_preparation(gits, new_case(nurse), Forum.objects.get(code="vvg"), MandateArea.GUIDELINE)
    with pytest.raises(DomainError) as exc:
        services.record_decision(member_boras, case, sitiv(), Decision.Outcome.APPROVED, "Bifall.")
    assert rules(exc) == {"R-GOV-2"}
    assert "mandat" in exc.value.problems[0].message
    case.refresh_from_db()
    assert case.state == CaseState.PREPARATION
    assert not Decision.objects.exists()


def test_r_gov_2_only_the_addressee_decides(ref, gits, nurse, member_boras) -> None:  # type: ignore[no-untyped-def]
    case = to_preparation(gits, new_case(nurse), sitiv(), MandateArea.WITHIN_FRAME)
    other = Forum.objects.get(code="gits-ledningsrad")  # has within-frame mandate, but is not the addressee
    with pytest.raises(DomainError) as exc:
        services.record_decision(member_boras, case, other, Decision.Outcome.APPROVED, "Bifall.")
    assert rules(exc) == {"R-GOV-2"}
    assert not Decision.objects.exists()


def test_a_nurse_cannot_record_a_decision(ref, gits, nurse) -> None:  # type: ignore[no-untyped-def]
    case = to_preparation(gits, new_case(nurse))
    with pytest.raises(PermissionDenied):
        services.record_decision(nurse, case, sitiv(), Decision.Outcome.APPROVED, "Bifall.")
    assert not Decision.objects.exists()


# --- Endorsements (R-GOV-8) ----------------------------------------------------------------------------------


def test_r_gov_8_each_delregion_endorses_once_and_endorsements_set_priority(
    ref, nurse, member_boras, member_gbg
) -> None:  # type: ignore[no-untyped-def]
    case = new_case(nurse)
    services.endorse(member_boras, case, "Viktigt för Sjuhärad.")
    with pytest.raises(DomainError) as exc:
        services.endorse(actor(Role.FORUM_MEMBER, "Borås kontaktpunkt", username="annan-boras"), case)
    assert rules(exc) == {"R-GOV-8"}
    services.endorse(member_gbg, case)
    case.refresh_from_db()
    assert case.endorsement_count == 2
    assert set(Endorsement.objects.values_list("subregion__name", flat=True)) == {
        "Södra Älvsborg",
        "Göteborgsområdet",
    }
    lone = services.raise_case(nurse, GovernanceCase.Kind.QUESTION, "Fråga", "En fråga från en användare.")
    assert list(GovernanceCase.objects.values_list("pk", flat=True)) == [case.pk, lone.pk]


def test_a_delregion_raising_a_case_stands_behind_it(ref, member_boras) -> None:  # type: ignore[no-untyped-def]
    case = services.raise_case(
        member_boras,
        GovernanceCase.Kind.CHANGE,
        "Obligatoriska fält",
        "Gör adressfälten obligatoriska i inskrivningsmeddelandet.",
        on_behalf_of=GovernanceCase.Origin.SUBREGION,
    )
    assert case.origin_subregion is not None and case.origin_subregion.name == "Södra Älvsborg"
    assert case.endorsement_count == 1


def test_a_nurse_cannot_speak_for_a_delregion(ref, nurse) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DomainError) as exc:
        services.raise_case(
            nurse,
            "need",
            "Rubrik",
            "En beskrivning av behovet.",
            on_behalf_of=GovernanceCase.Origin.SUBREGION,
        )
    assert rules(exc) == {"R-GOV-8"}
    assert not GovernanceCase.objects.exists()


# --- Consultation (R-GOV-7, R-GOV-9) ---------------------------------------------------------------------------


@time_machine.travel(T0, tick=False)
def test_consultation_default_deadline_recipients_and_summary(ref, gits, nurse, member_boras) -> None:  # type: ignore[no-untyped-def]
    case = to_preparation(gits, new_case(nurse))
    consultation = services.start_consultation(gits, case, "Förslag: bilagor upp till 10 MB.")
    assert consultation.deadline == dt.date(2026, 3, 2) + dt.timedelta(weeks=8)
    recipients = set(consultation.responses.values_list("recipient", flat=True))
    assert len(recipients) == 8  # six delregioner, VGR and VästKom
    case.refresh_from_db()
    assert case.state == CaseState.CONSULTATION
    own = consultation.responses.get(subregion__name="Södra Älvsborg")
    services.respond(member_boras, own, ConsultationResponse.Answer.SUPPORT, "Bra.")
    other = consultation.responses.get(subregion__name="Skaraborg")
    with pytest.raises(NotFound):
        services.respond(member_boras, other, ConsultationResponse.Answer.OPPOSE)
    other.refresh_from_db()
    assert other.answer == ""
    summary = services.summarise(consultation)
    assert summary.counts == {"support": 1}
    assert len(summary.missing) == 7


@time_machine.travel(T0, tick=False)
def test_r_gov_7_consultation_shorter_than_the_minimum_is_refused(ref, gits, nurse) -> None:  # type: ignore[no-untyped-def]
    case = to_preparation(gits, new_case(nurse))
    with pytest.raises(DomainError) as exc:
        services.start_consultation(gits, case, "Förslag", deadline=dt.date(2026, 4, 1))
    assert rules(exc) == {"R-GOV-7"}
    case.refresh_from_db()
    assert case.state == CaseState.PREPARATION
    assert not case.consultations.exists()


@time_machine.travel(T0, tick=False)
@override_settings(BRYGGA_CONSULTATION_WEEKS=6)
def test_consultation_weeks_are_configurable(ref, gits, nurse) -> None:  # type: ignore[no-untyped-def]
    case = to_preparation(gits, new_case(nurse))
    consultation = services.start_consultation(gits, case, "Förslag")
    assert consultation.deadline == dt.date(2026, 4, 13)


def test_r_gov_9_no_decision_while_the_consultation_is_open(ref, gits, nurse, member_boras) -> None:  # type: ignore[no-untyped-def]
    case = to_preparation(gits, new_case(nurse))
    consultation = services.start_consultation(gits, case, "Förslag")
    with pytest.raises(DomainError) as exc:
        services.record_decision(member_boras, case, sitiv(), Decision.Outcome.APPROVED, "Bifall.")
    assert rules(exc) == {"R-GOV-9"}
    services.close_consultation(gits, consultation)
    decision = services.record_decision(member_boras, case, sitiv(), Decision.Outcome.APPROVED, "Bifall.")
    case.refresh_from_db()
    assert case.state == CaseState.DECIDED
    assert decision.number == f"SITIV-{timezone.now().year}-001"


def test_reminders_go_once_to_those_who_have_not_answered_before_the_deadline(ref, gits, nurse) -> None:  # type: ignore[no-untyped-def]
    case = to_preparation(gits, new_case(nurse))
    with time_machine.travel(T0, tick=False):
        consultation = services.start_consultation(
            gits,
            case,
            "Förslag",
            recipients=[
                Recipient("Fyrbodal", email="fyrbodal@example.se"),
                Recipient("SIMBA", email="s@example.se"),
            ],
        )
    services.respond(gits, consultation.responses.get(recipient="SIMBA"), ConsultationResponse.Answer.SUPPORT)
    mail.outbox.clear()
    assert services.remind_due(consultation.deadline - dt.timedelta(days=8)) == 0
    assert services.remind_due(consultation.deadline - dt.timedelta(days=7)) == 1
    assert services.remind_due(consultation.deadline - dt.timedelta(days=6)) == 0  # not twice
    assert [m.to for m in mail.outbox] == [["fyrbodal@example.se"]]
    assert case.number in mail.outbox[0].subject


def test_reminder_task_runs_through_django_tasks(ref) -> None:  # type: ignore[no-untyped-def]
    from brygga.governance.tasks import send_consultation_reminders

    result = send_consultation_reminders.enqueue()
    assert result.return_value == 0


# --- Meetings (R-GOV-4, R-GOV-5) -------------------------------------------------------------------------------


def test_r_gov_4_agenda_published_less_than_3_days_before_is_refused_without_reason(ref, gits, nurse) -> None:  # type: ignore[no-untyped-def]
    meeting = services.plan_meeting(gits, sitiv(), T0 + dt.timedelta(days=10))
    case = to_preparation(gits, new_case(nurse))
    services.add_agenda_item(gits, meeting, AgendaItem.Kind.DECISION, case=case)
    with time_machine.travel(T0 + dt.timedelta(days=7, minutes=1), tick=False):
        with pytest.raises(DomainError) as exc:
            services.publish_agenda(gits, meeting)
        assert rules(exc) == {"R-GOV-4"}
        meeting.refresh_from_db()
        assert meeting.agenda_published_at is None
        services.publish_agenda(gits, meeting, late_reason="Underlaget från leverantören kom sent.")
    meeting.refresh_from_db()
    assert meeting.published_late is True
    assert meeting.late_reason == "Underlaget från leverantören kom sent."


def test_r_gov_4_agenda_published_in_time_is_not_flagged(ref, gits, nurse) -> None:  # type: ignore[no-untyped-def]
    meeting = services.plan_meeting(gits, sitiv(), T0 + dt.timedelta(days=10))
    services.add_agenda_item(gits, meeting, AgendaItem.Kind.INFORMATION, "Lägesrapport")
    with time_machine.travel(T0 + dt.timedelta(days=7), tick=False):
        services.publish_agenda(gits, meeting, late_reason="ignoreras")
    meeting.refresh_from_db()
    assert (meeting.published_late, meeting.late_reason) == (False, "")
    with pytest.raises(DomainError) as exc:
        services.add_agenda_item(gits, meeting, AgendaItem.Kind.DECISION, "Sent ärende")
    assert rules(exc) == {"R-GOV-4"}
    assert meeting.items.count() == 1


def test_minutes_record_decisions_and_carry_other_business_to_the_next_meeting(ref, gits, nurse) -> None:  # type: ignore[no-untyped-def]
    """R-GOV-5 and decisions from minutes."""
    forum = sitiv()
    first = services.plan_meeting(gits, forum, T0 + dt.timedelta(days=10))
    approved = to_preparation(gits, new_case(nurse))
    rejected = to_preparation(gits, new_case(nurse))
    item_a = services.add_agenda_item(gits, first, AgendaItem.Kind.DECISION, case=approved)
    item_r = services.add_agenda_item(gits, first, AgendaItem.Kind.DECISION, case=rejected)
    with time_machine.travel(T0, tick=False):
        services.publish_agenda(gits, first)
    ob = services.add_agenda_item(gits, first, AgendaItem.Kind.OTHER_BUSINESS, "Fax som reservrutin")
    second = services.plan_meeting(gits, forum, T0 + dt.timedelta(days=100))
    with time_machine.travel(T0 + dt.timedelta(days=10, hours=3), tick=False):
        decisions = services.record_minutes(
            gits,
            first,
            "Mötet genomfört.",
            [
                MinuteDecision(item_a, Decision.Outcome.APPROVED, "SITIV beslutar att genomföra."),
                MinuteDecision(item_r, Decision.Outcome.REJECTED, "Avslag: ryms inte i budget 2026."),
            ],
        )
    assert [d.meeting_id for d in decisions] == [first.pk, first.pk]
    approved.refresh_from_db()
    rejected.refresh_from_db()
    assert approved.state == CaseState.DECIDED
    assert (rejected.state, rejected.state_reason) == (CaseState.REJECTED, "Avslag: ryms inte i budget 2026.")
    carried = second.items.get()
    assert (carried.kind, carried.title, carried.carried_from_id) == (
        AgendaItem.Kind.PREPARATION,
        "Fax som reservrutin",
        ob.pk,
    )


def test_other_business_waits_for_the_next_meeting_when_none_is_planned(ref, gits) -> None:  # type: ignore[no-untyped-def]
    forum = sitiv()
    meeting = services.plan_meeting(gits, forum, T0)
    services.add_agenda_item(gits, meeting, AgendaItem.Kind.OTHER_BUSINESS, "Ny fråga")
    with time_machine.travel(T0 + dt.timedelta(hours=2), tick=False):
        services.record_minutes(gits, meeting, "Anteckningar.")
    pending = AgendaItem.objects.get(forum=forum, meeting__isnull=True)
    later = services.plan_meeting(gits, forum, T0 + dt.timedelta(days=60))
    pending.refresh_from_db()
    assert pending.meeting_id == later.pk


def test_minutes_with_a_decision_outside_the_mandate_write_nothing(ref, gits, nurse) -> None:  # type: ignore[no-untyped-def]
    """R-GOV-2 inside minutes: the whole minutes are refused, no case changes, no decision."""
    vvg_case = to_preparation(gits, new_case(nurse), Forum.objects.get(code="vvg"), MandateArea.GUIDELINE)
    ok_case = to_preparation(gits, new_case(nurse))
    meeting = services.plan_meeting(gits, sitiv(), T0)
    ok_item = services.add_agenda_item(gits, meeting, AgendaItem.Kind.DECISION, case=ok_case)
    foreign = services.add_agenda_item(gits, meeting, AgendaItem.Kind.INFORMATION, case=vvg_case)
    with time_machine.travel(T0 + dt.timedelta(hours=2), tick=False), pytest.raises(DomainError) as exc:
        services.record_minutes(
            gits,
            meeting,
            "Anteckningar",
            [
                MinuteDecision(ok_item, Decision.Outcome.APPROVED, "Bifall."),
                MinuteDecision(foreign, Decision.Outcome.APPROVED, "Bifall."),
            ],
        )
    assert rules(exc) == {"R-GOV-2"}
    ok_case.refresh_from_db()
    meeting.refresh_from_db()
    assert ok_case.state == CaseState.PREPARATION
    assert meeting.minutes_recorded_at is None
    assert not Decision.objects.exists()


# --- Forums, objects, plans, roadmap ---------------------------------------------------------------------------


def test_r_gov_3_sitiv_as_listed_in_seed_004_is_not_balanced(ref) -> None:  # type: ignore[no-untyped-def]
    """Seed 004 lists 8 municipal-side and 5 region-side representatives (plus GITS, adjunct); the mandate
    says equal numbers."""
    balance = services.forum_balance(sitiv())
    assert (balance.region, balance.municipal) == (5, 8)
    assert balance.problem is not None and balance.problem.rule == "R-GOV-3"
    joint = services.forum_balance(Forum.objects.get(code="gemensam-beredning"))
    assert joint.balanced and joint.problem is None


def test_managed_objects_from_seed_004_with_status_history(ref, gits) -> None:  # type: ignore[no-untyped-def]
    counts = {s: ManagedObject.objects.filter(status=s).count() for s in ManagedObject.Status.values}
    assert counts == {"closed": 5, "current": 5, "possible": 3}
    iot = ManagedObject.objects.get(code="iot")
    with pytest.raises(DomainError):
        services.set_managed_object_status(gits, iot, ManagedObject.Status.CURRENT, dt.date(2020, 1, 1))
    services.set_managed_object_status(
        gits, iot, ManagedObject.Status.CURRENT, dt.date(2026, 6, 1), "Beslut SITIV"
    )
    assert list(iot.status_history.values_list("status", flat=True)) == ["possible", "current"]


def test_management_plan_goals_grouped_as_the_seeds_and_followed_up(ref, gits) -> None:  # type: ignore[no-untyped-def]
    plan = ManagementPlan.objects.get(managed_object__code="shvo", year=2023)
    by_category = {c: plan.goals.filter(category=c).count() for c in GoalCategory.values}
    assert by_category == {"maintain": 2, "necessary": 10, "develop": 13}
    goal = plan.goals.get(text__startswith="Utreda möjlighet till ny reservrutin")
    services.follow_up_goal(gits, goal, "ongoing", "Förstudie pågår.")
    goal.refresh_from_db()
    assert goal.status == "ongoing"
    assert goal.follow_ups.count() == 1


def test_reference_data_is_idempotent(ref) -> None:  # type: ignore[no-untyped-def]
    before = (Forum.objects.count(), ManagedObject.objects.count(), sitiv().members.count())
    seeds.load_governance_reference()
    assert (Forum.objects.count(), ManagedObject.objects.count(), sitiv().members.count()) == before


def test_roadmap_shows_decided_rejected_with_reason_and_parked(ref, gits, nurse, member_boras) -> None:  # type: ignore[no-untyped-def]
    decided = to_preparation(gits, new_case(nurse))
    services.record_decision(member_boras, decided, sitiv(), Decision.Outcome.APPROVED, "Genomförs 2026.")
    rejected = to_preparation(gits, new_case(nurse))
    services.record_decision(member_boras, rejected, sitiv(), Decision.Outcome.REJECTED, "Ryms inte.")
    parked = new_case(nurse)
    services.advance(gits, parked, CaseState.PARKED, "Väntar på nytt IT-stöd.")
    roadmap = services.public_roadmap()
    assert [c.pk for c in roadmap.decided] == [decided.pk]
    assert [(c.pk, c.state_reason) for c in roadmap.rejected] == [(rejected.pk, "Ryms inte.")]
    assert [(c.pk, c.state_reason) for c in roadmap.parked] == [(parked.pk, "Väntar på nytt IT-stöd.")]


def test_meeting_is_planned_by_gits_only(ref, member_boras) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionDenied):
        services.plan_meeting(member_boras, sitiv(), T0)
    assert not Meeting.objects.exists()


def test_demo_data_has_cases_in_every_roadmap_column_and_is_idempotent(demo) -> None:  # type: ignore[no-untyped-def]
    from brygga.demo.governance import load_governance_demo

    roadmap = services.public_roadmap()
    assert [len(roadmap.decided), len(roadmap.underway), len(roadmap.rejected), len(roadmap.parked)] == [
        1,
        1,
        1,
        1,
    ]
    assert all(c.state_reason for c in roadmap.rejected + roadmap.parked)
    before = GovernanceCase.objects.count()
    assert load_governance_demo() == 0
    assert GovernanceCase.objects.count() == before


def test_agenda_is_built_from_the_cases_addressed_to_the_forum(ref, gits, nurse) -> None:  # type: ignore[no-untyped-def]
    ready = to_preparation(gits, new_case(nurse))
    assigned = new_case(nurse)
    services.advance(gits, assigned, CaseState.INVENTORY)
    services.assign(gits, assigned, sitiv(), MandateArea.WITHIN_FRAME)
    in_consultation = to_preparation(gits, new_case(nurse))
    services.start_consultation(gits, in_consultation, "Förslag")  # open: not ready for decision
    elsewhere = to_preparation(gits, new_case(nurse), Forum.objects.get(code="vvg"), MandateArea.GUIDELINE)
    meeting = services.plan_meeting(gits, sitiv(), T0 + dt.timedelta(days=10))
    items = services.agenda_from_cases(gits, meeting)
    assert {(i.case_id, i.kind) for i in items} == {
        (ready.pk, AgendaItem.Kind.DECISION),
        (assigned.pk, AgendaItem.Kind.PREPARATION),
    }
    assert elsewhere.pk not in {i.case_id for i in items}
    assert services.agenda_from_cases(gits, meeting) == []  # nothing twice


def test_reminders_reach_the_delregions_forum_members_when_no_address_is_given(ref, gits, nurse) -> None:  # type: ignore[no-untyped-def]
    member = actor(Role.FORUM_MEMBER, "Borås kontaktpunkt", username="ledamot-boras")
    member.user.email = "ledamot@example.se"
    member.user.save(update_fields=["email"])
    case = to_preparation(gits, new_case(nurse))
    with time_machine.travel(T0, tick=False):
        consultation = services.start_consultation(gits, case, "Förslag")
    mail.outbox.clear()
    sent = services.remind_due(consultation.deadline - dt.timedelta(days=3))
    assert sent == 1  # only Södra Älvsborg has a forum member with an address
    assert [m.to for m in mail.outbox] == [["ledamot@example.se"]]
    assert "Södra Älvsborg" in mail.outbox[0].body
    reminded = consultation.responses.filter(reminded_at__isnull=False)
    assert list(reminded.values_list("recipient", flat=True)) == ["Södra Älvsborg"]
