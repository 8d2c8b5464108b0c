"""Issue an API token for an integrating system: `manage.py create_api_token <username> <unit-hsa-id>
--name NAME`. Creates the service account and its SYSTEM-role membership in the unit when they do not exist
yet, and prints the token once (only its SHA-256 is stored)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from brygga.accounts.models import ApiToken, Membership, User
from brygga.accounts.permissions import Role
from brygga.organisations.models import Unit


class Command(BaseCommand):
    help = "Create an API token for a service account acting for one unit (prints the token once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="The service account (created if missing)")
        parser.add_argument("unit_hsa_id", help="HSA-id of the unit the system acts for")
        parser.add_argument("--name", required=True, help="What the token is for, e.g. 'Millennium SU'")

    def handle(self, *args: object, **options: str) -> None:
        username, hsa_id, name = options["username"].strip(), options["unit_hsa_id"].strip(), options["name"]
        if not name.strip():
            raise CommandError("name: Ange vad nyckeln ska användas till (--name).")
        unit = Unit.objects.filter(hsa_id=hsa_id, is_active=True).first()
        if unit is None:
            raise CommandError(f"unit_hsa_id: Det finns ingen aktiv enhet med HSA-id {hsa_id}.")
        with transaction.atomic():
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User(username=username, first_name=name[:150], is_service_account=True)
                user.set_unusable_password()
                user.save()
                self.stdout.write(f"Systemkontot {username} skapades.")
            elif not user.is_service_account:
                raise CommandError(
                    f"username: {username} är ett personligt konto. API-nycklar ges bara till systemkonton."
                )
            membership = Membership.objects.filter(user=user, unit=unit).first()
            if membership is None:
                membership = Membership.objects.create(user=user, unit=unit, role=Role.SYSTEM.value)
                self.stdout.write(f"Behörigheten 'Integrerat system' i {unit.name} skapades.")
            elif membership.role != Role.SYSTEM.value:
                raise CommandError(
                    f"unit_hsa_id: {username} har redan rollen {membership.role} i {unit.name}, inte system."
                )
            token, raw = ApiToken.issue(membership, name.strip())
        self.stdout.write(f"API-nyckel {token.name} ({token.prefix}…) för {username} @ {unit.name}.")
        self.stdout.write("Nyckeln visas bara nu; spara den i systemets hemlighetshantering:")
        self.stdout.write(raw)
