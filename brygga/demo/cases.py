"""Demo cases for the demo persons, across Sahlgrenska medicinavdelning, Göteborg kontaktpunkt and Närhälsan
Göteborg vårdcentral, each at a different step, made through the same services as real use. Idempotent: a
case is made only when the ward has no case with its demo external id."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from brygga.accounts.context import Actor
from brygga.accounts.models import Membership
from brygga.cases import services
from brygga.cases.models import Case
from brygga.consent.services import record_consent
from brygga.demo import personas
from brygga.people.identifiers import parse_identity_number
from brygga.people.models import Person

WARD = "Sahlgrenska, medicinavdelning"


def _actor(username: str, unit_name: str) -> Actor | None:
    membership = Membership.objects.filter(user__username=username, unit__name=unit_name).first()
    return Actor.for_membership(membership, channel="command") if membership else None


def _person(index: int) -> Person:
    return Person.objects.get(identifier=parse_identity_number(personas.PERSONS[index][0]).value)


def load_cases_demo() -> int:
    """Create the demo cases that do not exist yet; returns how many were made."""
    nurse = _actor("sjukskoterska", WARD)
    physician = _actor("lakare", WARD)
    contact = _actor("kontaktpunkt", "Göteborg kontaktpunkt")
    coordinator = _actor("fastvardkontakt", "Närhälsan Göteborg vårdcentral")
    if not (nurse and physician and contact and coordinator):
        return 0
    now = timezone.now()
    made = 0

    def fresh(external_id: str, person: Person) -> bool:
        return (
            not Case.objects.filter(external_id=external_id, ward__name=WARD).exists()
            and not Case.objects.filter(person=person, status__in=services.OPEN).exists()
        )

    # 1. Astrid: notice sent and acknowledged, planning done, date moved once, discharge-ready, video meeting.
    person = _person(0)
    if fresh("DEMO-1", person):
        case = services.admit(
            nurse,
            person,
            admitted_at=now - dt.timedelta(hours=20),
            care_type="somatic",
            expected_discharge_date=(now + dt.timedelta(days=2)).date(),
            need_assessed_at=now - dt.timedelta(hours=20),
            external_id="DEMO-1",
        )
        services.send_admission_notice(nurse, case)
        services.acknowledge(contact, case)
        services.appoint_coordinator(coordinator, case, "Frida Vårdkontaktsson", "031-100 00 00")
        services.save_planning_basis(
            nurse,
            case,
            answers={
                "lives_alone": "ja",
                "home_care_before": "ja",
                "home_health_before": "nej",
                "aids_needed": "vet_ej",
                "cognitive_impairment": "nej",
                "relatives_informed": "ja",
            },
            needs={"social_services": "ja", "municipal_health": "ja", "primary_care": "ja"},
            needs_text={"social_services": "Utökad hemtjänst morgon och kväll"},
            nursing_status={"pain": "Smärtfri i vila", "elimination": "Klarar toalettbesök med stöd"},
            medications="Alvedon 1 g vid behov, max 4 g/dygn",
            consent="ja",
        )
        services.change_expected_date(
            nurse,
            case,
            (now + dt.timedelta(days=3)).date(),
            "awaiting_examination",
            "Väntar på ekokardiografi",
        )
        services.set_discharge_ready(physician, case, at=now - dt.timedelta(hours=2))
        services.book_meeting(
            contact, case, form="video", starts_at=now + dt.timedelta(days=1), note="Samordnad planering"
        )
        # R-SEK-2/3: the ward records the person's consent at admission, so the units may write to each other.
        record_consent(
            nurse,
            person,
            given_by="person",
            form="verbal",
            purpose="Samordnad utskrivning",
            parties=[p.unit for p in case.participants.select_related("unit")],
            categories=["health", "medications", "nursing", "function", "social", "efforts"],
            exclusions_note="Inget",
            given_at=now - dt.timedelta(hours=19),
        )
        services.send_message(
            contact,
            case,
            category="home-care-assessment",
            subject="Hemtjänst efter hemgång",
            body="Vi planerar utökad hemtjänst från utskrivningsdagen. Finns behov av hjälpmedel?",
        )
        made += 1

    # 2. Gösta: admitted 30 hours ago, assessed at admission, notice not sent — overdue in the ward's inbox.
    person = _person(1)
    if fresh("DEMO-2", person):
        services.admit(
            nurse,
            person,
            admitted_at=now - dt.timedelta(hours=30),
            care_type="somatic",
            expected_discharge_date=(now + dt.timedelta(days=4)).date(),
            need_assessed_at=now - dt.timedelta(hours=30),
            external_id="DEMO-2",
        )
        made += 1

    # 3. A protected identity: notice sent, not yet acknowledged by the receivers.
    person = _person(4)
    if fresh("DEMO-3", person):
        case = services.admit(
            nurse,
            person,
            admitted_at=now - dt.timedelta(hours=6),
            care_type="psychiatric",
            expected_discharge_date=(now + dt.timedelta(days=7)).date(),
            need_assessed_at=now - dt.timedelta(hours=6),
            external_id="DEMO-3",
        )
        services.send_admission_notice(nurse, case)
        made += 1

    # 4. Elsa (Mölndal): a short stay from admission to closing.
    person = _person(7)
    if fresh("DEMO-4", person) and not Case.objects.filter(person=person).exists():
        case = services.admit(
            nurse,
            person,
            admitted_at=now - dt.timedelta(hours=9),
            care_type="somatic",
            expected_discharge_date=now.date(),
            need_assessed_at=now - dt.timedelta(hours=9),
            external_id="DEMO-4",
        )
        services.send_admission_notice(nurse, case)
        services.set_discharge_ready(physician, case, at=now - dt.timedelta(hours=3))
        services.send_discharge_info(nurse, case, summary_given=True)
        services.discharge(nurse, case, destination="Hemmet")
        services.close_case(nurse, case)
        made += 1
    return made
