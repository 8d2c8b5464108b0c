"""Demo data for governance: the seed forums, managed objects and plans, plus a few cases in different states
so the roadmap and the lists have something to show. Cases are made through the services. Idempotent."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from brygga.accounts.context import Actor
from brygga.accounts.models import Membership
from brygga.governance import services
from brygga.governance.models import CaseState, Decision, Forum, GovernanceCase, MandateArea
from brygga.governance.seeds import load_governance_reference

DEMO_CASES = [
    # (title, kind, description, end state, reason or decision text)
    (
        "Bifoga dokument i SAMSA-ärenden",
        GovernanceCase.Kind.NEED,
        "Det går inte att bifoga dokument; underlag skickas i stället på fax eller post.",
        CaseState.IMPLEMENTATION,
        "SITIV beslutar att bilagor införs i ärendeflödet under 2026.",
    ),
    (
        "Ersätt fax som reservrutin",
        GovernanceCase.Kind.CHANGE,
        "Reservrutinen vid driftstörning är fax. Ta fram en reservrutin som fungerar i verksamheterna.",
        CaseState.CONSULTATION,
        "",
    ),
    (
        "Obligatoriska fält i inskrivningsmeddelandet",
        GovernanceCase.Kind.CHANGE,
        "Så länge fälten inte är obligatoriska följs inte rutinen. "
        "Gör de fyra lagkrävda fälten obligatoriska.",
        CaseState.DECIDED,
        "Bifall: fälten görs obligatoriska i nästa version.",
    ),
    (
        "Visa alla inkorgar överst",
        GovernanceCase.Kind.NEED,
        "Användare med flera enheter vill se alla inkorgar samlat överst på startsidan.",
        CaseState.PARKED,
        "Parkeras i väntan på beslut om framtida IT-stöd för vårdsamverkan.",
    ),
    (
        "Egen chattfunktion mellan enheter",
        GovernanceCase.Kind.NEED,
        "Önskemål om chatt mellan avdelning och kommun utöver meddelanden i ärendet.",
        CaseState.REJECTED,
        "Avslag: meddelanden i ärendet täcker behovet och loggas; en chatt skulle spridas utanför ärendet.",
    ),
    (
        "Hur räknas dagar vid permission?",
        GovernanceCase.Kind.QUESTION,
        "Fråga från en kommun om hur dagar räknas när patienten har permission under vårdtiden.",
        CaseState.INVENTORY,
        "",
    ),
]


def _actor(username: str) -> Actor | None:
    membership = Membership.objects.filter(user__username=username).select_related("user", "unit").first()
    return Actor.for_membership(membership, channel="command") if membership else None


@transaction.atomic
def load_governance_demo() -> int:
    load_governance_reference()
    nurse, gits, member = _actor("sjukskoterska"), _actor("gits"), _actor("forum")
    if not (nurse and gits and member):
        return 0
    sitiv = Forum.objects.get(code="sitiv")
    made = 0
    now = timezone.now()
    for title, kind, description, end, text in DEMO_CASES:
        if GovernanceCase.objects.filter(title=title).exists():
            continue
        case = services.raise_case(nurse, kind, title, description, source_reference="demo")
        made += 1
        if end == CaseState.PARKED:
            services.advance(gits, case, CaseState.PARKED, text)
            continue
        services.advance(gits, case, CaseState.INVENTORY)
        if end == CaseState.INVENTORY:
            continue
        services.endorse(member, case, "Stöds av delregionen.")
        services.assign(gits, case, sitiv, MandateArea.WITHIN_FRAME)
        services.advance(gits, case, CaseState.PREPARATION)
        if end == CaseState.CONSULTATION:
            services.start_consultation(gits, case, "Förslag: reservrutin via säker e-post och telefon.")
            continue
        outcome = Decision.Outcome.REJECTED if end == CaseState.REJECTED else Decision.Outcome.APPROVED
        services.record_decision(member, case, sitiv, outcome, text, at=now - dt.timedelta(days=30))
        if end == CaseState.IMPLEMENTATION:
            services.advance(gits, case, CaseState.IMPLEMENTATION)
    return made
