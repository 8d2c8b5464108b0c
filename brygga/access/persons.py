"""Changes to people. Identity data comes from the population register (an adapter in production, the demo
loader here); brygga itself never invents a personnummer."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from brygga.access.models import AccessLogEntry
from brygga.access.services import is_involved, log_access, record_change
from brygga.accounts.context import Actor
from brygga.accounts.permissions import Perm
from brygga.core.errors import DomainError, NotFound, Problem
from brygga.organisations.models import Municipality, Unit
from brygga.people.identifiers import IdKind, parse_identity_number
from brygga.people.models import Person
from brygga.people.register import NotInRegister, RegisterUnavailable, get_register, refresh_person


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
        postal_code.replace(" ", "").isdecimal() and len(postal_code.replace(" ", "")) == 5
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


MANUAL_REASON_MAX = 300


@transaction.atomic
def enter_person_manually(
    actor: Actor,
    identifier: str,
    given_name: str,
    family_name: str,
    reason: str,
    street_address: str = "",
    postal_code: str = "",
    city: str = "",
    municipality_code: str | None = None,
) -> Person:
    """A person the population register cannot give: a reserve number (identity unknown or not yet
    confirmed), or a personnummer/samordningsnummer the register does not know. The reason is required and
    kept on the person; the entry is logged. A number the register knows — or cannot answer for right now — is
    refused: the register's data (and its protection flag) always wins (ADR 0500)."""

    if not actor.can(Perm.CASE_CREATE) or actor.unit is None:
        raise NotFound
    number = parse_identity_number(identifier)
    problems: list[Problem] = []
    reason = reason.strip()
    if not reason:
        problems.append(Problem("reason", "SKAL-SAKNAS", _("Ange varför personen registreras manuellt.")))
    elif len(reason) > MANUAL_REASON_MAX:
        problems.append(
            Problem(
                "reason",
                "MAX-LANGD",
                _("Skälet får vara högst %(max)d tecken (nu %(n)d).")
                % {"max": MANUAL_REASON_MAX, "n": len(reason)},
            )
        )
    if Person.objects.filter(identifier=number.value).exists():
        problems.append(
            Problem("identifier", "FINNS-REDAN", _("Personen finns redan i brygga; sök på numret i stället."))
        )
    if problems:
        raise DomainError(problems)
    if number.kind is not IdKind.RESERVE:
        register = get_register()
        if register is not None:
            try:
                register.fetch(number.value)
            except NotInRegister:
                pass
            except RegisterUnavailable as exc:
                raise DomainError.single(
                    "identifier",
                    "FOLKBOKFORING-SVARAR-INTE",
                    _(
                        "Folkbokföringen svarar inte, så det går inte att se om personen finns där. "
                        "Använd ett reservnummer, eller försök igen om en stund."
                    ),
                    status=503,
                ) from exc
            else:
                raise DomainError.single(
                    "identifier",
                    "FINNS-I-FOLKBOKFORINGEN",
                    _("Personen finns i folkbokföringen; sök på numret så hämtas uppgifterna därifrån."),
                )
    person = register_person(
        number.value,
        given_name,
        family_name,
        street_address,
        postal_code,
        city,
        municipality_code=municipality_code or None,
    )
    person.source = Person.Source.MANUAL
    person.manual_reason = reason
    person.entered_by = actor.user
    person.save(update_fields=["source", "manual_reason", "entered_by", "updated_at"])
    log_access(
        actor, person, AccessLogEntry.Action.CREATE, "person/manuell-registrering", had_involvement=False
    )
    return person


def refresh_from_register(actor: Actor, person: Person) -> Any:
    """On demand, from the person page: fetch the person again (the actor must be able to read the person,
    which the caller's ``open_person`` checked). Returns the refresh outcome; a register that does not answer
    is a DomainError naming when the data was last fetched."""

    try:
        outcome = refresh_person(person, actor.user)
    except RegisterUnavailable as exc:
        since = (
            timezone.localtime(person.register_checked_at).strftime("%Y-%m-%d %H:%M")
            if person.register_checked_at
            else _("okänt datum")
        )
        raise DomainError.single(
            "register",
            "FOLKBOKFORING-SVARAR-INTE",
            _("Folkbokföringen svarar inte just nu. Uppgifterna kan vara inaktuella; de hämtades %(since)s.")
            % {"since": since},
            status=503,
        ) from exc
    except NotInRegister as exc:
        raise DomainError.single(
            "register", "FINNS-INTE-I-FOLKBOKFORINGEN", _("Personen finns inte i folkbokföringen.")
        ) from exc
    record_change(actor, person, "person/folkbokforing-uppdaterad")
    return outcome
