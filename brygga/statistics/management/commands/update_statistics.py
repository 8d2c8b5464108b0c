"""Refresh the process statistics' summary tables:
`manage.py update_statistics [--from YYYY-MM] [--to YYYY-MM]`.

Without arguments the last 13 months are recomputed; `--all` starts at the first admission. Running it twice
gives the same rows. Schedule it nightly (cron) or hand it to the worker with `--enqueue`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from brygga.statistics import refresh as stats_refresh


def parse_month(value: str) -> dt.date:
    try:
        year, month = value.split("-")
        return dt.date(int(year), int(month), 1)
    except ValueError as exc:
        raise CommandError(f"Ange månaden som ÅÅÅÅ-MM, inte {value!r}.") from exc


class Command(BaseCommand):
    help = "Räknar om processtatistikens sammanställningar för en period (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="first", help="första månad, ÅÅÅÅ-MM")
        parser.add_argument("--to", dest="last", help="sista månad, ÅÅÅÅ-MM")
        parser.add_argument("--all", action="store_true", help="från första inskrivningen")
        parser.add_argument("--enqueue", action="store_true", help="lämna jobbet till bakgrundsarbetaren")

    def handle(self, *args: Any, **options: Any) -> None:
        first, last = stats_refresh.default_range()
        if options["all"]:
            full = stats_refresh.full_range()
            if full is None:
                self.stdout.write("Inga ärenden att räkna på.")
                return
            first, last = full
        if options["first"]:
            first = parse_month(options["first"])
        if options["last"]:
            last = parse_month(options["last"])
        elif options["first"] and not options["all"]:
            last = max(first, last)
        if first > last:
            raise CommandError("Första månaden ligger efter den sista.")
        if options["enqueue"]:
            from brygga.statistics.tasks import update_statistics_task

            result = update_statistics_task.enqueue(first.isoformat(), last.isoformat())
            self.stdout.write(f"Köat: {result.id}")
            return
        run = stats_refresh.refresh(first, last)
        self.stdout.write(
            f"Processtatistik {run.first_month:%Y-%m}–{run.last_month:%Y-%m}: "
            f"{run.rows} rader på {run.seconds} s."
        )
