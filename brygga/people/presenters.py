"""How a person is shown. Protected identities (skyddade personuppgifter) are masked here — the single place
every template, list, export and API response gets a name or an address from."""

from __future__ import annotations

from typing import Protocol

from django.utils.translation import gettext as _

from brygga.people.models import Person

MASK = "●●●●●●"


class ShownPerson(Protocol):
    """What a name and an identity number are shown from: a ``Person``, or a list's plain row of one
    (``brygga.inbox.selectors.RowPerson``)."""

    @property
    def protected_identity(self) -> bool: ...
    @property
    def given_name(self) -> str: ...
    @property
    def family_name(self) -> str: ...
    @property
    def formatted_identifier(self) -> str: ...


def display_name(person: ShownPerson, revealed: bool = False) -> str:
    if person.protected_identity and not revealed:
        return _("Skyddad identitet")
    return f"{person.given_name} {person.family_name}"


def display_address(person: Person, revealed: bool = False) -> str:
    if person.protected_identity and not revealed:
        return _("Skyddad adress — kontakta Skatteverket via ansvarig enhet")
    parts = [person.street_address, f"{person.postal_code} {person.city}".strip()]
    return ", ".join(p for p in parts if p)


def display_identifier(person: ShownPerson) -> str:
    """The identity number is shown also for protected persons: staff need it to match the journal."""
    return person.formatted_identifier


def person_summary(person: Person, revealed: bool = False) -> dict[str, object]:
    """The four admission-notice fields' worth of identity (R-INS-4), masked where the law requires."""
    return {
        "id": person.pk,
        "identifier": display_identifier(person),
        "id_kind": person.id_kind,
        "name": display_name(person, revealed),
        "address": display_address(person, revealed),
        "registered_municipality": person.registered_municipality.name
        if person.registered_municipality
        else None,
        "listed_unit": person.listed_unit.name if person.listed_unit else None,
        "protected_identity": person.protected_identity,
        "deceased_on": person.deceased_on.isoformat() if person.deceased_on else None,
    }
