from __future__ import annotations

from typing import Literal

from ninja import Field, Router, Schema

from brygga.access.persons import enter_person_manually
from brygga.access.services import lookup_person, open_person
from brygga.accounts.context import AuthedRequest
from brygga.people.presenters import person_summary

router = Router(tags=["Personer"])


class LookupIn(Schema):
    identifier: str
    purpose: Literal["stay", "sip"] | None = Field(
        None,
        description=(
            "Syftet: stay (inskrivning, vårdavdelning) eller sip. Krävs för en person som enheten ännu inte "
            "medverkar för; sökningen loggas med syftet."
        ),
    )


class LookupRefusedOut(Schema):
    error: str
    problems: list[dict[str, str]]


class PersonOut(Schema):
    id: int
    identifier: str
    id_kind: str
    name: str
    address: str
    registered_municipality: str | None
    listed_unit: str | None
    protected_identity: bool
    deceased_on: str | None


@router.post(
    "/lookup",
    response={200: PersonOut, 429: LookupRefusedOut},
    summary="Slå upp en person på personnummer (syfte krävs utan medverkan; loggas; begränsat per timme)",
)
def lookup(request: AuthedRequest, payload: LookupIn) -> dict[str, object]:
    """POST, not GET, so the identity number never lands in URLs and server logs. Need-to-know (issue 20.6):
    without the unit's involvement only a role that starts a stay or a SIP finds the person, with the purpose
    stated; otherwise "not found"."""
    person = lookup_person(
        request.actor,
        payload.identifier,
        purpose=payload.purpose or "",
    )
    return person_summary(person)


class ManualIn(Schema):
    identifier: str
    given_name: str
    family_name: str
    reason: str
    street_address: str = ""
    postal_code: str = ""
    city: str = ""
    municipality_code: str | None = None


@router.post(
    "/manual",
    response={201: PersonOut},
    summary="Registrera en person manuellt: reservnummer eller nummer som folkbokföringen saknar (loggas)",
)
def enter_manually(request: AuthedRequest, payload: ManualIn) -> tuple[int, dict[str, object]]:
    """The reason is required; a number the population register knows is refused (ADR 0500)."""
    person = enter_person_manually(request.actor, **payload.dict())
    return 201, person_summary(person)


@router.get("/{person_id}", response=PersonOut, summary="Läs en person (kräver medverkan, loggas)")
def read_person(request: AuthedRequest, person_id: int) -> dict[str, object]:
    person = open_person(request.actor, person_id, what="person")
    return person_summary(person)
