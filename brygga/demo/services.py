"""Demo data: personas for every role, persons with test identity numbers, and an involvement so the person
pages have something to show before the case processes create involvements of their own. Idempotent."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from brygga.access.models import Involvement
from brygga.access.persons import register_person
from brygga.access.services import involve
from brygga.accounts.models import Membership, User
from brygga.accounts.permissions import Role
from brygga.demo import personas
from brygga.demo.cases import load_cases_demo
from brygga.demo.deviations import load_deviations_demo
from brygga.demo.economy import load_economy_demo
from brygga.demo.governance import load_governance_demo
from brygga.demo.payment import load_payment_demo
from brygga.demo.receiving import load_receiving_demo
from brygga.demo.sip import load_sip_demo
from brygga.demo.statistics import load_statistics_demo
from brygga.organisations.models import Unit

ADMIN_ROLES = {Role.LOCAL_ADMIN, Role.GITS_COORDINATOR}


@dataclass
class DemoReport:
    users: int = 0
    persons: int = 0


@transaction.atomic
def load_demo_data() -> DemoReport:
    report = DemoReport()
    units = {u.name: u for u in Unit.objects.all()}
    for username, first, last, title, grants in personas.PERSONAS:
        user, created = User.objects.get_or_create(
            username=username, defaults={"first_name": first, "last_name": last, "title": title}
        )
        if created:
            user.set_password(personas.DEMO_PASSWORD)
            user.save(update_fields=["password"])
        for unit_name, role in grants:
            Membership.objects.update_or_create(
                user=user, unit=units[unit_name], defaults={"role": role.value}
            )
        # Local administrators and GITS reach /admin/; what they may do there is decided by their role.
        if not user.is_staff and any(role in ADMIN_ROLES for _unit, role in grants):
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        report.users += 1
    ward = units["Sahlgrenska, medicinavdelning"]
    for identifier, given, family, street, postal, city, scb, listed, protected in personas.PERSONS:
        listed_unit = units.get(f"Närhälsan {listed} vårdcentral") if listed else None
        person = register_person(
            identifier,
            given,
            family,
            street,
            postal,
            city,
            municipality_code=scb,
            listed_unit_hsa_id=listed_unit.hsa_id if listed_unit else None,
            protected_identity=protected,
        )
        involve(person, ward, Involvement.Kind.OTHER, "demo:inskriven", at=timezone.now())
        report.persons += 1
    load_cases_demo()
    load_economy_demo()
    load_governance_demo()
    load_deviations_demo()
    load_statistics_demo()  # before the payment demo, which settles the previous month from the cases
    load_payment_demo()
    load_sip_demo()
    load_receiving_demo()
    return report
