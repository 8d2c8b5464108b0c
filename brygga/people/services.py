"""Changes to people. Identity data comes from the population register (an adapter in production, the demo
loader here); brygga itself never invents a personnummer."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from brygga.access.models import AccessLogEntry
from brygga.access.services import is_involved, log_access
from brygga.accounts.context import Actor
from brygga.accounts.permissions import Perm
from brygga.core.errors import DomainError, NotFound, Problem
from brygga.organisations.models import Municipality, Unit
from brygga.people.identifiers import parse_identity_number
from brygga.people.models import Person


@transaction.atomic
def register_person(
    identifier: str,
    given_name: str,
    family_name: str,
    street_address: str = "",
    postal_code: str = "",
    city: str = "",
    municipality_code: str | None = None,
    listed_unit_hsa_id: str | None = None,
    protected_identity: bool = False,
) -> Person:
    """Create or update a person from register data (idempotent on the identity number)."""
    number = parse_identity_number(identifier)
    problems = []
    if not given_name.strip() or not family_name.strip():
        problems.append(("name", "NAMN", _("För- och efternamn måste anges.")))
    if postal_code and not (
        postal_code.replace(" ", "").isdigit() and len(postal_code.replace(" ", "")) == 5
    ):
        problems.append(("postal_code", "POSTNUMMER", _("Postnummer är fem siffror.")))
    municipality = None
    if municipality_code:
        municipality = Municipality.objects.filter(scb_code=municipality_code).first()
        if municipality is None:
            problems.append(
                (
                    "municipality_code",
                    "SCB-KOMMUNKOD",
                    _("Kommunkoden %s finns inte i Västra Götaland.") % municipality_code,
                )
            )
    listed_unit = None
    if listed_unit_hsa_id:
        listed_unit = Unit.objects.filter(hsa_id=listed_unit_hsa_id, kind=Unit.Kind.PRIMARY_CARE).first()
        if listed_unit is None:
            problems.append(
                ("listed_unit", "LISTNING", _("Vårdcentralen %s finns inte.") % listed_unit_hsa_id)
            )
    if problems:
        raise DomainError([Problem(*p) for p in problems])
    person, _created = Person.objects.update_or_create(
        identifier=number.value,
        defaults={
            "id_kind": number.kind.value,
            "birth_date": number.birth_date,
            "given_name": given_name.strip(),
            "family_name": family_name.strip(),
            "street_address": street_address.strip(),
            "postal_code": postal_code.replace(" ", ""),
            "city": city.strip(),
            "registered_municipality": municipality,
            "listed_unit": listed_unit,
            "protected_identity": protected_identity,
        },
    )
    return person


def reveal_protected_identity(actor: Actor, person: Person) -> Person:
    """Show a protected person's name and address to an involved user whose role allows it; logged as its
    own action so the log review sees every such view."""
    if not actor.can(Perm.PERSON_REVEAL_PROTECTED) or not is_involved(actor.unit, person.pk):
        raise NotFound
    log_access(actor, person, AccessLogEntry.Action.REVEAL, "person/skyddade-uppgifter", had_involvement=True)
    return person
