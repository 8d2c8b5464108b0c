"""Demo deviations: a handful reported by the demo ward nurse (VGR) to Göteborg and to Borås, in every state,
so the lists, a case's deadlines and the quarterly counts have something to show. Made through the services,
with no personal data. Idempotent (keyed on the description)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from brygga.accounts.context import Actor
from brygga.accounts.models import Membership
from brygga.deviations import services
from brygga.deviations.models import Category, Deviation, DeviationState
from brygga.organisations.models import Organisation

S = DeviationState

# (category, days ago, receiving municipality code, description, end state, answer)
DEMO_DEVIATIONS = [
    (
        Category.ADMISSION_NOTICE,
        20,
        "1480",
        "Inskrivningsmeddelandet skickades först efter fyra dygn; kommunen hann inte planera.",
        S.CLOSED,
        "Avdelningen har gått igenom rutinen för inskrivningsmeddelande inom 24 timmar.",
    ),
    (
        Category.DISCHARGE_UNPLANNED,
        12,
        "1480",
        "Patienten skrevs ut en fredag utan att kommunen fått utskrivningsmeddelande.",
        S.ANSWERED,
        "Kontaktpunkten var obemannad den eftermiddagen; bemanningen är ändrad.",
    ),
    (
        Category.INFORMATION_TRANSFER,
        8,
        "1480",
        "Läkemedelslistan saknades vid utskrivningen och fick hämtas per telefon.",
        S.INVESTIGATING,
        "",
    ),
    (
        Category.SIP_NOT_CALLED,
        4,
        "1480",
        "Kallelse till SIP skickades inte trots att behovet var bedömt vid inskrivningen.",
        S.RECEIVED,
        "",
    ),
    (
        Category.IT_SUPPORT,
        1,
        "1490",
        "Meddelanden till kommunen fastnade i två timmar under en driftstörning.",
        S.REPORTED,
        "",
    ),
]

RECEIVER_STEPS = [S.RECEIVED, S.INVESTIGATING, S.ANSWERED]


def _actor(username: str, unit_name: str) -> Actor | None:
    membership = (
        Membership.objects.filter(user__username=username, unit__name=unit_name)
        .select_related("user", "unit")
        .first()
    )
    return Actor.for_membership(membership, channel="command") if membership else None


@transaction.atomic
def load_deviations_demo() -> int:
    nurse = _actor("sjukskoterska", "Sahlgrenska, medicinavdelning")
    contact = _actor("kontaktpunkt", "Göteborg kontaktpunkt")
    if not (nurse and contact):
        return 0
    made = 0
    now = timezone.now()
    for category, days_ago, code, description, end, answer in DEMO_DEVIATIONS:
        if Deviation.objects.filter(description=description).exists():
            continue
        at = now - dt.timedelta(days=days_ago)
        deviation = services.report_deviation(
            nurse,
            category,
            timezone.localtime(at).date() - dt.timedelta(days=1),
            Organisation.objects.get(municipality__scb_code=code),
            description,
            source_reference="in- och utskrivningsärende",
            at=at,
        )
        made += 1
        if end == S.REPORTED:
            continue
        for i, step in enumerate(RECEIVER_STEPS, start=1):
            services.move(
                contact, deviation, step, answer if step == S.ANSWERED else "", at=at + dt.timedelta(days=i)
            )
            if step == end:
                break
        if end == S.CLOSED:
            services.move(nurse, deviation, S.CLOSED, at=at + dt.timedelta(days=5))
    return made
