"""The scheduled monthly settlement: the previous calendar month for all 49 municipalities, from the cases.

Run by cron early every month (docs/operations.md). Idempotent: running it again leaves every municipality
that already has a run for the month with the rule versions in force (or a closed month) alone."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from brygga.core.errors import DomainError, PermissionDenied
from brygga.payment import services


class Command(BaseCommand):
    help = "Avräkna förra kalendermånadens betalningsansvar för alla kommuner från ärendena (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True, help="Användarnamn med behörigheten payment.manage")
        parser.add_argument(
            "--enqueue", action="store_true", help="Lämna avräkningen till bakgrundsarbetaren (db_worker)"
        )

    def handle(self, *args: object, **options: object) -> None:
        username = str(options["user"])
        try:
            actor = services.manager_actor(username)
        except PermissionDenied as exc:
            raise CommandError("Användaren saknar en giltig enhet med behörigheten payment.manage.") from exc
        if options["enqueue"]:
            from brygga.payment.tasks import settle_last_month_task

            queued = settle_last_month_task.enqueue(username)
            if int(str(options.get("verbosity", 1))) >= 1:
                self.stdout.write(f"Månadsavräkningen köades ({queued.id}).")
            return
        try:
            result = services.settle_last_month(actor)
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        if int(str(options.get("verbosity", 1))) < 1:
            return
        problems = sum(len(r.problems) for r in result.created)
        self.stdout.write(
            f"{result.year}-{result.month:02d}: {len(result.created)} nya avräkningar, "
            f"{len(result.already_settled)} redan avräknade, {problems} dataproblem."
        )
