"""SIP (R-SIP-1..4, R-VG-SIP-1..4, R-SIP-K-1..2) and the outpatient care request: the six steps, the
summons, the mandatory content, versions, follow-ups as tasks, the link to the discharge case, need-to-know,
and refusals that change nothing."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from brygga.access.models import AccessLogEntry, Involvement
from brygga.access.services import involve, is_involved
from brygga.accounts.permissions import Role
from brygga.cases import services as case_services
from brygga.cases.models import Case
from brygga.consent.services import record_consent, withdraw_consent
from brygga.core.errors import DomainError, NotFound
from brygga.organisations.models import Unit
from brygga.people.models import Person
from brygga.sip import selectors, services
from brygga.sip.models import CareRequest, Event, FollowUp, Sip, SipOffer, SipParticipant, SipVersion
from tests.factories import CONTACT_POINT, PRIMARY_CARE, WARD, actor, make_person, unit

pytestmark = pytest.mark.django_db

HOME = "Göteborg hemsjukvård"
T0 = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC)


@pytest.fixture
def person():  # type: ignore[no-untyped-def]
    p = make_person("1480")
    involve(p, unit(PRIMARY_CARE), Involvement.Kind.OTHER, "test:listning", at=T0 - dt.timedelta(days=30))
    return p


def give_consent(by, person, parties=(HOME,), categories=("sip", "health", "medications", "efforts")):  # type: ignore[no-untyped-def]
    return record_consent(
        by,
        person,
        given_by="person",
        form="verbal",
        purpose="SIP och vårdbegäran",
        parties=[unit(name) for name in parties],
        categories=list(categories),
        exclusions_note="Inget",
    )


def kinds(sip: Sip) -> list[str]:
    return list(Event.objects.filter(sip=sip).order_by("id").values_list("kind", flat=True))


def prepared_sip(vc, person):  # type: ignore[no-untyped-def]
    sip = services.start_sip(vc, person, need_description="Behöver hemsjukvård och vårdcentralens insatser")
    services.add_participant(vc, sip, kind="unit", unit=unit(HOME))
    services.add_participant(vc, sip, kind="relative", name="Dottern Dora", role_text="Dotter")
    return sip


def draft_content(sip, **overrides):  # type: ignore[no-untyped-def]
    content = {
        "what_matters": "Att få bo kvar hemma och gå till affären själv.",
        "needs": "Sårvård, läkemedelsgenomgång, trygghet på natten.",
        "other_efforts": "Dottern handlar en gång i veckan.",
        "overall_responsible_unit": unit(PRIMARY_CARE),
        "efforts": [
            {"need": "Bensår", "effort": "Sårvård två gånger i veckan", "responsible_unit": unit(HOME).pk},
            {"need": "Läkemedel", "effort": "Läkemedelsgenomgång", "responsible_unit": unit(PRIMARY_CARE).pk},
        ],
    }
    content.update(overrides)
    return content


def established_sip(vc, person):  # type: ignore[no-untyped-def]
    with time_machine.travel(T0, tick=False):
        give_consent(vc, person)
        sip = prepared_sip(vc, person)
        services.summon(vc, sip, meeting_at=T0 + dt.timedelta(days=2), location="Vårdcentralen")
    with time_machine.travel(T0 + dt.timedelta(days=2, hours=1), tick=False):
        services.record_meeting(vc, sip)
        services.save_draft(vc, sip, **draft_content(sip))
        services.establish(vc, sip, follow_up_on=dt.date(2026, 12, 1), follow_up_unit=unit(HOME))
    sip.refresh_from_db()
    return sip


# --- the six steps ------------------------------------------------------------------------------------------


def test_sip_goes_through_the_six_steps_with_an_event_each_r_vg_sip_1(vc, home, person) -> None:  # type: ignore[no-untyped-def]
    sip = established_sip(vc, person)
    assert sip.status == Sip.Status.FOLLOW_UP
    follow_up = sip.follow_ups.get()
    assert follow_up.responsible_unit == unit(HOME) and follow_up.due_on == dt.date(2026, 12, 1)
    with time_machine.travel(dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC), tick=False):
        services.complete_follow_up(home, follow_up, outcome="Såret läker, insatsen fortsätter.")
        services.close_sip(vc, sip, reason="goals_met")
    sip.refresh_from_db()
    assert sip.status == Sip.Status.CLOSED
    assert kinds(sip) == [
        "sip_started",
        "participant_added",
        "participant_added",
        "summons_sent",
        "meeting_held",
        "draft_saved",
        "plan_established",
        "follow_up_planned",
        "follow_up_done",
        "sip_closed",
    ]
    # every step is access-logged under the SIP's source
    assert AccessLogEntry.objects.filter(person=person, what__startswith=f"sip:{sip.pk}/").count() >= 10


def test_summons_involves_participating_units_and_stores_the_consent_basis(vc, home, person) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(T0, tick=False):
        consent = give_consent(vc, person)
        sip = prepared_sip(vc, person)
        assert not is_involved(unit(HOME), person.pk)  # planned participants see nothing before the summons
        involve(person, unit(HOME), Involvement.Kind.OTHER, "test:annat")
        with pytest.raises(NotFound):  # not even when involved with the person for another reason
            services.open_sip(home, sip.pk)
        event = services.summon(vc, sip, meeting_at=T0 + dt.timedelta(days=1))
        assert is_involved(unit(HOME), person.pk)
    involvement = Involvement.objects.get(person=person, unit=unit(HOME), source=f"sip:{sip.pk}")
    assert involvement.kind == Involvement.Kind.SIP
    assert event.data["bases"][str(unit(HOME).pk)]["basis"] == "consent"
    assert event.data["bases"][str(unit(HOME).pk)]["ref"] == consent.pk
    assert services.open_sip(home, sip.pk).pk == sip.pk


def test_summons_without_participants_is_refused_and_nothing_changes_r_sip_1(vc, person) -> None:  # type: ignore[no-untyped-def]
    sip = services.start_sip(vc, person, need_description="Behov")
    before = kinds(sip)
    with pytest.raises(DomainError) as exc:
        services.summon(vc, sip, meeting_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
    assert ("participants", "R-SIP-1") in {(p.field, p.rule) for p in exc.value.problems}
    sip.refresh_from_db()
    assert sip.status == Sip.Status.NEED and sip.summoned_at is None and kinds(sip) == before


def test_summons_needs_both_principals_r_sip_1(vc, person) -> None:  # type: ignore[no-untyped-def]
    sip = services.start_sip(vc, person, need_description="Behov")
    services.add_participant(vc, sip, kind="unit", unit=unit(WARD))  # region side only
    with pytest.raises(DomainError) as exc:
        services.summon(vc, sip, meeting_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
    assert exc.value.problems[0].rule == "R-SIP-1"
    assert "både regionen och kommunen" in exc.value.problems[0].message


def test_summons_without_consent_is_refused_and_nothing_is_shared_r_sip_1_r_sek_2(vc, person) -> None:  # type: ignore[no-untyped-def]
    sip = prepared_sip(vc, person)
    with pytest.raises(DomainError) as exc:
        services.summon(vc, sip, meeting_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
    assert exc.value.problems[0].rule == "R-SEK-2"
    assert not is_involved(unit(HOME), person.pk)
    assert Sip.objects.get(pk=sip.pk).status == Sip.Status.PREPARE


def test_summons_with_withdrawn_consent_is_refused_r_sek_3(vc, person) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(T0, tick=False):
        consent = give_consent(vc, person)
        sip = prepared_sip(vc, person)
    with time_machine.travel(T0 + dt.timedelta(hours=1), tick=False):
        withdraw_consent(vc, consent)
        with pytest.raises(DomainError) as exc:
            services.summon(vc, sip, meeting_at=T0 + dt.timedelta(days=1))
    assert exc.value.problems[0].rule == "R-SEK-3"
    assert not is_involved(unit(HOME), person.pk)


def test_summons_without_the_person_or_a_representative_is_refused_r_sip_3(vc, person) -> None:  # type: ignore[no-untyped-def]
    give_consent(vc, person)
    sip = prepared_sip(vc, person)
    SipParticipant.objects.filter(sip=sip, kind="person").delete()
    with pytest.raises(DomainError) as exc:
        services.summon(vc, sip, meeting_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
    assert exc.value.problems[0].rule == "R-SIP-3"


def test_summons_with_meeting_in_the_past_is_refused(vc, person) -> None:  # type: ignore[no-untyped-def]
    give_consent(vc, person)
    sip = prepared_sip(vc, person)
    with pytest.raises(DomainError) as exc:
        services.summon(vc, sip, meeting_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    assert exc.value.problems[0].field == "meeting_at" and exc.value.problems[0].rule == "DATUM-PASSERAT"


def test_establishing_without_mandatory_content_is_refused_r_sip_4(vc, person) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(T0, tick=False):
        give_consent(vc, person)
        sip = prepared_sip(vc, person)
        services.summon(vc, sip, meeting_at=T0 + dt.timedelta(hours=3))
    with time_machine.travel(T0 + dt.timedelta(hours=4), tick=False):
        services.record_meeting(vc, sip)
        services.save_draft(
            vc,
            sip,
            what_matters="",
            needs="",
            other_efforts="",
            overall_responsible_unit=None,
            efforts=[
                {"need": "Sår", "effort": "Sårvård", "responsible_unit": unit(HOME).pk},
                {"effort": "Promenad"},
            ],
        )
        with pytest.raises(DomainError) as exc:
            services.establish(vc, sip)
    found = {(p.field, p.rule) for p in exc.value.problems}
    assert ("what_matters", "R-VG-SIP-4") in found
    assert ("needs", "R-SIP-4") in found
    assert ("other_efforts", "R-SIP-4") in found
    assert ("overall_responsible_unit", "R-SIP-4") in found
    assert ("efforts.1.responsible_unit", "R-SIP-4") in found  # an effort nobody is responsible for
    assert ("efforts", "R-SIP-4") in found  # only the municipality is responsible for anything
    sip.refresh_from_db()
    assert sip.status == Sip.Status.MEETING
    assert not sip.versions.filter(status=SipVersion.Status.ESTABLISHED).exists()
    assert "plan_established" not in kinds(sip)


def test_responsible_unit_must_take_part(vc, person) -> None:  # type: ignore[no-untyped-def]
    sip = prepared_sip(vc, person)
    with pytest.raises(DomainError) as exc:
        services.save_draft(vc, sip, **draft_content(sip, overall_responsible_unit=unit(CONTACT_POINT)))
    assert exc.value.problems[0].field == "overall_responsible_unit"


def test_changing_an_established_plan_makes_a_new_version_and_keeps_the_old(vc, person) -> None:  # type: ignore[no-untyped-def]
    sip = established_sip(vc, person)
    with time_machine.travel(T0 + dt.timedelta(days=10), tick=False):
        services.start_revision(vc, sip)
        content = draft_content(sip, what_matters="Att kunna gå i trappan själv.")
        services.save_draft(vc, sip, **content)
        with pytest.raises(DomainError) as exc:
            services.establish(vc, sip)
        assert exc.value.problems[0].rule == "SIP-VERSION"
        services.save_draft(vc, sip, **content, change_reason="Nytt mål efter uppföljning")
        services.establish(vc, sip)
    v1, v2 = SipVersion.objects.filter(sip=sip).order_by("number")
    assert (v1.status, v2.status) == (SipVersion.Status.SUPERSEDED, SipVersion.Status.ESTABLISHED)
    assert v1.what_matters.startswith("Att få bo kvar") and v2.what_matters.startswith("Att kunna gå")
    assert v1.efforts.count() == 2 and v2.efforts.count() == 2
    assert sip.current_version() == v2


def test_follow_up_date_in_the_past_is_refused(vc, person) -> None:  # type: ignore[no-untyped-def]
    sip = established_sip(vc, person)
    with time_machine.travel(T0 + dt.timedelta(days=5), tick=False), pytest.raises(DomainError) as exc:
        services.add_follow_up(
            vc, sip, due_on=dt.date(2026, 11, 1), description="x", responsible_unit=unit(HOME)
        )
    assert exc.value.problems[0].rule == "DATUM-PASSERAT"
    assert FollowUp.objects.filter(sip=sip).count() == 1


def test_follow_up_becomes_a_task_that_is_due_soon_then_overdue_in_the_inbox(vc, home, person) -> None:  # type: ignore[no-untyped-def]
    sip = established_sip(vc, person)
    services.acknowledge_sip(home, sip)
    items = selectors.inbox_items(unit(HOME), now=dt.datetime(2026, 11, 20, tzinfo=dt.UTC))
    assert [(i.kind, i.state) for i in items] == [("sip", "open")]
    soon = selectors.inbox_items(unit(HOME), now=dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC))
    assert soon[0].state == "due_soon" and soon[0].rule == "R-VG-SIP-1"
    late = selectors.inbox_items(unit(HOME), now=dt.datetime(2026, 12, 3, tzinfo=dt.UTC))
    assert late[0].state == "overdue"
    # The follow-up is the home health unit's task, not the vårdcentral's.
    assert (
        selectors.inbox_items(unit(PRIMARY_CARE), now=dt.datetime(2026, 12, 3, tzinfo=dt.UTC))[0].state
        != "overdue"
    )


def test_childrens_sip_can_be_started_by_school_and_needs_a_follow_up_date_r_vg_sip_3(person) -> None:  # type: ignore[no-untyped-def]
    child = make_person("1480")
    Person.objects.filter(pk=child.pk).update(birth_date=dt.date(2014, 5, 1))
    child.refresh_from_db()
    gbg = unit(HOME)
    school = Unit.objects.create(
        hsa_id="SE2120004805-SKOL01",
        name="Göteborg elevhälsa",
        kind=Unit.Kind.SCHOOL,
        organisation=gbg.organisation,
        municipality=gbg.municipality,
    )
    involve(child, school, Involvement.Kind.OTHER, "test:elevhalsa", at=T0 - dt.timedelta(days=100))
    teacher = actor(Role.CARE_MANAGER, "Göteborg elevhälsa")
    with time_machine.travel(T0, tick=False):
        sip = services.start_sip(teacher, child, need_description="Skolfrånvaro och psykisk ohälsa")
        assert sip.concerns_child
        bup = unit(PRIMARY_CARE)
        record_consent(
            teacher,
            child,
            given_by="representative",
            representative_name="Vera Vårdnadshavare",
            representative_relation="Vårdnadshavare",
            form="written",
            purpose="SIP",
            parties=[bup],
            categories=["sip", "school"],
            exclusions_note="Inget om syskonen",
        )
        services.add_participant(teacher, sip, kind="unit", unit=bup)
        services.add_participant(teacher, sip, kind="representative", name="Vera Vårdnadshavare")
        services.summon(teacher, sip, meeting_at=T0 + dt.timedelta(days=3))
    with time_machine.travel(T0 + dt.timedelta(days=3, hours=2), tick=False):
        services.record_meeting(teacher, sip)
        services.save_draft(
            teacher,
            sip,
            what_matters="Att orka gå till skolan.",
            needs="Stöd i skolan, samtalsstöd.",
            other_efforts="Inga",
            overall_responsible_unit=school,
            efforts=[
                {"need": "Skola", "effort": "Anpassad studiegång", "responsible_unit": school.pk},
                {"need": "Mående", "effort": "Samtal varannan vecka", "responsible_unit": bup.pk},
            ],
        )
        with pytest.raises(DomainError) as exc:
            services.establish(teacher, sip)
        assert exc.value.problems[0].rule == "R-VG-SIP-3"
        version = services.establish(teacher, sip, follow_up_on=dt.date(2026, 12, 15))
    assert version.status == SipVersion.Status.ESTABLISHED
    assert sip.follow_ups.get().responsible_unit == school


# --- offer and the discharge case ----------------------------------------------------------------------------


def _discharge_case(person):  # type: ignore[no-untyped-def]
    nurse, physician = actor(Role.WARD_NURSE, WARD), actor(Role.PHYSICIAN, WARD)
    with time_machine.travel(T0, tick=False):
        case = case_services.admit(
            nurse, person, admitted_at=T0, care_type="somatic", expected_discharge_date=dt.date(2026, 11, 9)
        )
        case_services.send_admission_notice(nurse, case)
        case_services.save_planning_basis(
            nurse,
            case,
            answers={
                "lives_alone": "ja",
                "home_care_before": "nej",
                "home_health_before": "vet_ej",
                "aids_needed": "ja",
                "cognitive_impairment": "nej",
                "relatives_informed": "ja",
            },
            needs={"social_services": "ja", "municipal_health": "ja", "primary_care": "ja"},
            nursing_status={"pain": "Smärtfri"},
            medications="Inga",
        )
    with time_machine.travel(T0 + dt.timedelta(days=1), tick=False):
        case_services.set_discharge_ready(physician, case)
    case.refresh_from_db()
    return case


def test_sip_offer_and_answer_are_recorded_and_a_no_stops_the_sip_r_sip_k_2(vc, person) -> None:  # type: ignore[no-untyped-def]
    case = _discharge_case(person)
    with time_machine.travel(T0 + dt.timedelta(days=1, hours=2), tick=False):
        offer = services.record_sip_offer(
            vc, person, answer="declined", case=case, note="Vill klara sig själv"
        )
        with pytest.raises(DomainError) as exc:
            services.start_sip(vc, person, need_description="Behov", case=case)
        assert exc.value.problems[0].rule == "R-SIP-K-2"
        assert not Sip.objects.filter(person=person).exists()
        services.record_sip_offer(vc, person, answer="accepted", case=case)
        sip = services.start_sip(vc, person, need_description="Behov", case=case)
    assert offer.answer == SipOffer.Answer.DECLINED and offer.offered_by == vc.user
    assert sip.offer is not None and sip.offer.answer == SipOffer.Answer.ACCEPTED


def test_summons_for_a_discharge_case_records_the_case_summons_r_sip_k_1(vc, person) -> None:  # type: ignore[no-untyped-def]
    case = _discharge_case(person)
    assert case.sip_summons_due_at == T0 + dt.timedelta(days=4)
    with time_machine.travel(T0 + dt.timedelta(days=2), tick=False):
        services.record_sip_offer(vc, person, answer="accepted", case=case)
        give_consent(vc, person)
        sip = services.start_sip(vc, person, need_description="Hemgång med hemsjukvård", case=case)
        items = selectors.inbox_items(unit(PRIMARY_CARE), now=T0 + dt.timedelta(days=3, hours=20))
        assert (items[0].rule, items[0].state) == ("R-SIP-K-1", "due_soon")
        services.add_participant(vc, sip, kind="unit", unit=unit(HOME))
        event = services.summon(vc, sip, meeting_at=T0 + dt.timedelta(days=3))
    case = Case.objects.get(pk=case.pk)
    assert case.sip_summons_sent_at == T0 + dt.timedelta(days=2)
    assert event.data["case"] == case.pk and event.data["on_time"] is True
    assert case.events.filter(kind="sip_summons_sent").count() == 1


def test_unit_that_is_not_a_participant_gets_not_found(vc, person) -> None:  # type: ignore[no-untyped-def]
    sip = services.start_sip(vc, person, need_description="Behov")
    outsider = actor(Role.HOME_CARE_NURSE, "Borås hemsjukvård")
    with pytest.raises(NotFound):
        services.open_sip(outsider, sip.pk)
    with pytest.raises(NotFound):
        services.add_participant(outsider, sip, kind="relative", name="X")


# --- the outpatient process ----------------------------------------------------------------------------------


def care_request_fields(**overrides):  # type: ignore[no-untyped-def]
    fields = {
        "to_unit": unit(HOME),
        "reason": "Behöver hjälp med sårvård i hemmet efter besök på vårdcentralen.",
        "health_summary": "Venöst bensår vänster underben, i övrigt stabil.",
        "requested_efforts": ["wound_care"],
        "medication_responsibility": "person",
        "start_on": dt.date(2026, 11, 5),
        "contact_name": "Fia Fastvård",
        "contact_phone": "031-123 45 67",
    }
    fields.update(overrides)
    return fields


def test_care_request_accepted_with_legal_basis_per_category(vc, home, person) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(T0, tick=False):
        consent = give_consent(vc, person)
        request = services.send_care_request(vc, person, **care_request_fields())
        assert is_involved(unit(HOME), person.pk)
        assert request.legal_basis["identity"]["basis"] == "admission_notice"
        assert request.legal_basis["health"] == {
            "basis": "consent",
            "rule": "R-SEK-3",
            "label": request.legal_basis["health"]["label"],
            "ref": consent.pk,
        }
        assert [i.state for i in selectors.inbox_items(unit(HOME))] == ["new"]
        services.open_care_request(home, request.pk)
        assert [i.state for i in selectors.inbox_items(unit(HOME))] == ["awaiting_answer"]
        services.answer_care_request(home, request, answer="accepted")
    request.refresh_from_db()
    assert request.status == CareRequest.Status.ACCEPTED and request.answered_by == home.user
    assert selectors.inbox_items(unit(HOME)) == []


def test_care_request_without_consent_is_refused_and_nothing_written_r_sek_2(vc, person) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DomainError) as exc:
        services.send_care_request(vc, person, **care_request_fields(start_on=dt.date(2030, 1, 1)))
    assert {p.rule for p in exc.value.problems} == {"R-SEK-2"}
    assert exc.value.status == 403
    assert not CareRequest.objects.exists()
    assert not is_involved(unit(HOME), person.pk)


def test_care_request_mandatory_content(vc, person) -> None:  # type: ignore[no-untyped-def]
    give_consent(vc, person)
    with pytest.raises(DomainError) as exc:
        services.send_care_request(
            vc,
            person,
            **care_request_fields(
                reason="",
                requested_efforts=[],
                contact_phone="",
                start_on=dt.date(2020, 1, 1),
                to_unit=unit(WARD),
            ),
        )
    found = {(p.field, p.rule) for p in exc.value.problems}
    assert {
        ("reason", "OV-INNEHALL"),
        ("requested_efforts", "OV-INNEHALL"),
        ("contact_phone", "OV-INNEHALL"),
        ("start_on", "DATUM-PASSERAT"),
        ("to_unit", "OV-MOTTAGARE"),
    } <= found
    assert not CareRequest.objects.exists()


def test_declined_needs_reason_and_needs_info_round_trip_and_parallel_requests_r_vg_ov_3(
    vc, home, person
) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(T0, tick=False):
        give_consent(vc, person, parties=(HOME, CONTACT_POINT))
        first = services.send_care_request(vc, person, **care_request_fields())
        second = services.send_care_request(
            vc,
            person,
            **care_request_fields(to_unit=unit(CONTACT_POINT), requested_efforts=["assistive_devices"]),
        )
        with pytest.raises(DomainError) as exc:
            services.answer_care_request(home, first, answer="declined")
        assert exc.value.problems[0].field == "reason"
        services.answer_care_request(home, first, answer="needs_info", text="Vilka förband används?")
        assert [i.label for i in selectors.inbox_items(unit(PRIMARY_CARE))] == [
            "Vårdbegäran: fråga att besvara"
        ]
        services.supplement_care_request(vc, first, text="Aquacel Ag, byte var tredje dag.")
        services.answer_care_request(home, first, answer="declined", reason="can_visit_clinic")
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == CareRequest.Status.DECLINED and first.decline_reason == "can_visit_clinic"
    assert second.status == CareRequest.Status.SENT
    kinds_ = list(Event.objects.filter(care_request=first).order_by("id").values_list("kind", flat=True))
    assert kinds_ == [
        "care_request_sent",
        "care_request_needs_info",
        "care_request_supplemented",
        "care_request_declined",
    ]


def test_only_the_receiving_unit_answers(vc, person) -> None:  # type: ignore[no-untyped-def]
    give_consent(vc, person)
    request = services.send_care_request(vc, person, **care_request_fields(start_on=dt.date(2030, 1, 1)))
    other = actor(Role.MUNICIPAL_CONTACT, CONTACT_POINT)
    with pytest.raises(NotFound):
        services.answer_care_request(other, request, answer="accepted")
    assert CareRequest.objects.get(pk=request.pk).status == CareRequest.Status.SENT


def test_care_request_overdue_answer_in_inbox(vc, person) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(T0, tick=False):
        give_consent(vc, person)
        services.send_care_request(vc, person, **care_request_fields())
    items = selectors.inbox_items(unit(HOME), now=T0 + dt.timedelta(hours=25))
    assert items[0].state == "overdue"


def test_care_request_linked_to_sip(vc, person) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(T0, tick=False):
        give_consent(vc, person)
        sip = services.start_sip(vc, person, need_description="Behov")
        request = services.send_care_request(vc, person, **care_request_fields(), sip=sip)
    assert request.sip == sip and list(sip.care_requests.all()) == [request]


def test_starting_needs_an_involvement_or_a_flagged_look_up(vc, home) -> None:  # type: ignore[no-untyped-def]
    """As at admission: a unit that may look people up starts the process for a person it is not yet
    involved with, and the access is flagged for log review; a unit that may not gets NotFound."""
    stranger = make_person("1480")
    with pytest.raises(NotFound):
        services.start_sip(home, stranger, need_description="Behov")
    assert not Sip.objects.filter(person=stranger).exists()
    sip = services.start_sip(vc, stranger, need_description="Behov")
    assert AccessLogEntry.objects.filter(person=stranger, what="sip", had_involvement=False).exists()
    assert is_involved(unit(PRIMARY_CARE), stranger.pk) and sip.initiated_by_unit == unit(PRIMARY_CARE)
