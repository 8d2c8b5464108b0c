"""Produce the encrypted backup snapshot of every unit with active involvements (instead of fax)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from brygga.documents.backup import produce_all_snapshots


class Command(BaseCommand):
    help = "Produce an encrypted backup snapshot (PDF) per unit with active involvements."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--enqueue", action="store_true", help="Queue the task for the background worker instead"
        )

    def handle(self, *args: object, **options: object) -> None:
        if options["enqueue"]:
            from brygga.documents.tasks import produce_backup_snapshots_task

            # The time of asking goes with the task: a retry after a worker crash skips what it already made.
            result = produce_backup_snapshots_task.enqueue(timezone.now().isoformat())
            self.stdout.write(f"Reservutdragen köades ({result.id}).")
            return
        count = produce_all_snapshots()
        self.stdout.write(f"Reservutdrag framtagna för {count} enheter.")
