"""Fetch again, from the population register, every person some unit works with whose data is older than
BRYGGA_POPULATION_REGISTER_MAX_AGE_HOURS (ADR 0500). Cron runs it nightly, or hands it to the worker."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from brygga.people.register import refresh_stale_persons


class Command(BaseCommand):
    help = "Uppdatera personuppgifter från folkbokföringen (namn, adress, kommun, skydd, avliden)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--max-age-hours", type=int, help="äldre än så hämtas (standard: inställningen)")
        parser.add_argument("--limit", type=int, help="högst så många personer i den här körningen")
        parser.add_argument("--enqueue", action="store_true", help="lämna körningen till bakgrundsarbetaren")

    def handle(self, *args: Any, **options: Any) -> None:
        hours = options.get("max_age_hours")
        if options["enqueue"]:
            from brygga.people.tasks import refresh_population_register_task

            result = refresh_population_register_task.enqueue(max_age_hours=hours, limit=options.get("limit"))
            self.stdout.write(f"köad: {result.id}")
            return
        summary = refresh_stale_persons(
            dt.timedelta(hours=hours) if hours else None, limit=options.get("limit")
        )
        self.stdout.write(
            "kontrollerade {checked}, ändrade {changed}, flyttade {moved}, saknas {not_found}, "
            "folkbokföringen svarade inte {unavailable}".format(**summary)
        )
        if summary["unavailable"]:
            raise SystemExit(1)
