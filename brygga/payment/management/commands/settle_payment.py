"""Settle a month's payment responsibility as a named user with payment.manage: from the real cases (the
default), or from a JSON file of StayFacts (``--facts``, the same format as the API)."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from brygga.accounts.context import Actor
from brygga.core.errors import DomainError, PermissionDenied
from brygga.organisations.models import Municipality
from brygga.payment import services
from brygga.payment.facts import StayFacts


class Command(BaseCommand):
    help = "Avräkna betalningsansvar för en månad från ärendena eller en JSON-fil med StayFacts (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--month", type=int, required=True)
        parser.add_argument("--facts", type=Path, help="JSON-lista med StayFacts; utan den läses ärendena")
        parser.add_argument("--user", required=True, help="Användarnamn med behörigheten payment.manage")
        parser.add_argument("--municipality", help="Kommunkod; utan den avräknas alla 49 kommuner")

    def handle(self, *args: object, **options: object) -> None:
        actor = self._actor(str(options["user"]))
        facts: list[StayFacts] | None = None
        if options.get("facts"):
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
                f"{len(run.problems)} dataproblem ({run.get_source_display()})"
            )

    def _actor(self, username: str) -> Actor:
        try:
            return services.manager_actor(username)
        except PermissionDenied as exc:
            raise CommandError("Användaren saknar en giltig enhet med behörigheten payment.manage.") from exc
