"""Settle a month's payment responsibility from a JSON file of StayFacts, as a named user with payment.manage.
Until the case-event adapter exists (docs/payment.md) this is how a month is settled outside the API."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from brygga.accounts.context import Actor
from brygga.accounts.models import Membership
from brygga.accounts.permissions import Perm
from brygga.core.errors import DomainError
from brygga.organisations.models import Municipality
from brygga.payment import services
from brygga.payment.facts import StayFacts


class Command(BaseCommand):
    help = "Avräkna betalningsansvar för en månad från en JSON-fil med StayFacts (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--month", type=int, required=True)
        parser.add_argument("--facts", type=Path, required=True, help="JSON-lista med StayFacts")
        parser.add_argument("--user", required=True, help="Användarnamn med behörigheten payment.manage")
        parser.add_argument("--municipality", help="Kommunkod; utan den avräknas alla 49 kommuner")

    def handle(self, *args: object, **options: object) -> None:
        actor = self._actor(str(options["user"]))
        try:
            raw = json.loads(Path(str(options["facts"])).read_text(encoding="utf-8"))
            facts = [StayFacts.from_dict(item) for item in raw]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CommandError(f"Kunde inte läsa underlaget: {exc}") from exc
        year, month = int(str(options["year"])), int(str(options["month"]))
        try:
            if options.get("municipality"):
                municipality = Municipality.objects.filter(scb_code=options["municipality"]).first()
                if municipality is None:
                    raise CommandError("Okänd kommunkod.")
                runs = [services.run_settlement(actor, municipality, year, month, facts)]
            else:
                runs = services.run_month(actor, year, month, facts)
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        for run in runs:
            amount = run.totals()["amount"]
            money = f"{amount} kr" if amount is not None else "belopp saknas"
            self.stdout.write(
                f"{run.municipality.name} {run.period} körning {run.sequence}: {money}, "
                f"{len(run.problems)} dataproblem"
            )

    def _actor(self, username: str) -> Actor:
        for membership in Membership.objects.select_related("user", "unit__organisation").filter(
            user__username=username, user__is_active=True
        ):
            actor = Actor.for_membership(membership, channel="command")
            if actor.can(Perm.PAYMENT_MANAGE):
                return actor
        raise CommandError("Användaren saknar en giltig enhet med behörigheten payment.manage.")
