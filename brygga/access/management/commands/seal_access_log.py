"""Seal the access-log entries written since the last seal and anchor the seal (every minute, by cron or the
worker; ADR 0800)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from brygga.access.services import seal_access_log


class Command(BaseCommand):
    help = "Chain the access-log entries not yet sealed into a new seal (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help="Queue the sealing task for the background worker instead of sealing in this process",
        )

    def handle(self, *args: object, **options: object) -> None:
        if options["enqueue"]:
            from brygga.access.tasks import seal_access_log_task

            result = seal_access_log_task.enqueue()
            self.stdout.write(f"Förseglingen köades ({result.id}).")
            return
        seal = seal_access_log()
        if int(str(options.get("verbosity", 1))) < 1:
            return  # quiet for cron: success prints nothing
        if seal is None:
            self.stdout.write("Inga nya loggposter att försegla.")
        else:
            self.stdout.write(
                f"Försegling {seal.sequence}: {seal.entry_count} poster (id {seal.first_id}–{seal.last_id})."
            )
