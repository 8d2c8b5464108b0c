"""Daily sweep: remind consultation recipients who have not answered before the deadline."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from brygga.governance.services import remind_due
from brygga.governance.tasks import send_consultation_reminders


class Command(BaseCommand):
    help = "Påminn remissinstanser som inte svarat när svarsdagen närmar sig."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--enqueue", action="store_true", help="Lämna över till bakgrundsarbetaren.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["enqueue"]:
            send_consultation_reminders.enqueue()
            self.stdout.write("Påminnelser köade.")
            return
        self.stdout.write(f"Påminnelser skickade: {remind_due()}")
