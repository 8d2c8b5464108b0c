"""Factories and personas for tests. Reference data (the 49 municipalities and their units) is loaded once
per test database by the session fixture in conftest.py; factories build on it."""

from __future__ import annotations

import datetime as dt
import itertools

import factory

from brygga.access.persons import register_person
from brygga.accounts.context import Actor
from brygga.accounts.models import Membership, User
from brygga.accounts.permissions import Role
from brygga.core.identifiers import luhn_check_digit
from brygga.organisations.models import Unit
from brygga.people.models import Person

_serials = itertools.count(0)


def test_identifier() -> str:
    """A fresh Luhn-valid number in Skatteverket's test range (birth number 980–999)."""
    n = next(_serials)
    month, day, serial = 1 + n % 12, 1 + (n // 12) % 28, 980 + (n // 336) % 20
    birth = f"1950{month:02d}{day:02d}"
    body = birth[2:] + f"{serial:03d}"
    return f"{birth}{serial:03d}{luhn_check_digit(body)}"


def make_person(municipality_code: str = "1480", protected: bool = False, **overrides: str) -> Person:
    listed = Unit.objects.get(hsa_id__endswith=f"-VC{municipality_code}")
    return register_person(
        overrides.get("identifier", test_identifier()),
        overrides.get("given_name", "Testa"),
        overrides.get("family_name", "Testsson"),
        overrides.get("street_address", "Provgatan 1"),
        overrides.get("postal_code", "41301"),
        overrides.get("city", "Göteborg"),
        municipality_code=municipality_code,
        listed_unit_hsa_id=listed.hsa_id,
        protected_identity=protected,
    )


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"Användare{n}")

    @factory.post_generation
    def password(user: User, create: bool, extracted: str | None, **kwargs: object) -> None:
        # factory_boy calls a post_generation hook with the built model instance, not the factory.
        user.set_password(extracted or "ett-langt-testlosenord")
        if create:
            user.save(update_fields=["password"])


def unit(name: str) -> Unit:
    return Unit.objects.get(name=name)


WARD = "Sahlgrenska, medicinavdelning"
OTHER_WARD = "NÄL, medicinavdelning"
CONTACT_POINT = "Göteborg kontaktpunkt"
PRIMARY_CARE = "Närhälsan Göteborg vårdcentral"
HOME = "Göteborg hemsjukvård"


def actor(role: Role, unit_name: str = WARD, username: str | None = None) -> Actor:
    user = UserFactory.create(username=username or f"{role.value}-{unit_name}"[:150])
    membership, _ = Membership.objects.get_or_create(
        user=user, unit=unit(unit_name), defaults={"role": role.value, "valid_from": dt.date(2000, 1, 1)}
    )
    return Actor.for_membership(membership)


def share_consent(recorder: Actor, person: Person, units, categories=("health",)):  # type: ignore[no-untyped-def]
    """The person's recorded consent that ``units`` may receive ``categories`` (R-SEK-2/3): what a message to
    a unit of another principal needs (brygga.messaging.services)."""
    from brygga.consent.services import record_consent

    return record_consent(
        recorder,
        person,
        given_by="person",
        form="verbal",
        purpose="Samordning",
        parties=list(units),
        categories=list(categories),
        exclusions_note="Inget",
    )
