"""Demo SIPs and care requests for the demo persons, made through the same services as real use. Idempotent:
nothing is made for a person who already has a SIP or a care request.

- Astrid (discharge case DEMO-1, discharge-ready, both principals needed): SIP offered and accepted, consent
  recorded, a SIP in preparation linked to the case — the 3-day summons deadline shows on the case and on
  the SIP.
- The fourth demo person (Göteborg): a care request from Närhälsan Göteborg vårdcentral to Göteborg
  hemsjukvård, waiting for an answer."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from brygga.access.models import Involvement
from brygga.access.services import involve
from brygga.accounts.context import Actor
from brygga.accounts.models import Membership
from brygga.cases.models import Case
from brygga.consent import services as consent
from brygga.demo import personas
from brygga.organisations.models import Unit
from brygga.people.identifiers import parse_identity_number
from brygga.people.models import Person
from brygga.sip import services
from brygga.sip.models import CareRequest, Sip

VC = "Närhälsan Göteborg vårdcentral"
HOME = "Göteborg hemsjukvård"
CONTACT = "Göteborg kontaktpunkt"


def _actor(username: str, unit_name: str) -> Actor | None:
    membership = Membership.objects.filter(user__username=username, unit__name=unit_name).first()
    return Actor.for_membership(membership, channel="command") if membership else None


def _person(index: int) -> Person | None:
    return Person.objects.filter(identifier=parse_identity_number(personas.PERSONS[index][0]).value).first()


def load_sip_demo() -> int:
    coordinator = _actor("fastvardkontakt", VC)
    if coordinator is None:
        return 0
    units = {u.name: u for u in Unit.objects.filter(name__in=[VC, HOME, CONTACT])}
    made = 0
    astrid = _person(0)
    case = Case.objects.filter(person=astrid, external_id="DEMO-1").first() if astrid else None
    if astrid and case and not Sip.objects.filter(person=astrid).exists():
        services.record_sip_offer(
            coordinator, astrid, answer="accepted", case=case, note="Vill gärna ha en SIP"
        )
        consent.record_consent(
            coordinator,
            astrid,
            given_by="person",
            form="verbal",
            purpose="SIP inför hemgång",
            parties=[units[HOME], units[CONTACT]],
            categories=["sip", "health", "medications", "function", "efforts"],
            exclusions_note="Inget om tidigare alkoholbruk",
        )
        sip = services.start_sip(
            coordinator,
            astrid,
            need_description="Hemgång med hemtjänst och hemsjukvård efter hjärtsvikt",
            case=case,
        )
        services.add_participant(coordinator, sip, kind="unit", unit=units[CONTACT])
        services.add_participant(coordinator, sip, kind="unit", unit=units[HOME])
        services.add_participant(coordinator, sip, kind="relative", name="Sonen Sven", role_text="Son")
        made += 1
    person = _person(3)
    if person and not CareRequest.objects.filter(person=person).exists():
        involve(person, units[VC], Involvement.Kind.OTHER, "demo:listad", at=timezone.now())
        consent.record_consent(
            coordinator,
            person,
            given_by="person",
            form="written",
            purpose="Vårdbegäran till hemsjukvården",
            parties=[units[HOME]],
            categories=["health", "medications", "efforts"],
            exclusions_note="Inget",
        )
        services.send_care_request(
            coordinator,
            person,
            to_unit=units[HOME],
            reason=(
                "Behöver hjälp med insulininjektioner i hemmet; "
                "klarar inte längre att ta sig till mottagningen."
            ),
            health_summary="Diabetes typ 2, nedsatt syn. I övrigt stabil.",
            requested_efforts=["injections", "medication_administration"],
            medication_responsibility="municipality",
            start_on=timezone.localdate() + dt.timedelta(days=2),
            contact_name="Fia Fastvård",
            contact_phone="031-100 00 01",
        )
        made += 1
    return made
