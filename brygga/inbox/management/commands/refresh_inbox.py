"""Recompute the inbox columns on every participant row from its case: `manage.py refresh_inbox`
(``brygga.inbox.refresh.refresh_inbox``)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from brygga.inbox.refresh import refresh_inbox


class Command(BaseCommand):
    help = "Räknar om inkorgens kolumner (status, senaste händelse, nästa tidsfrist) på deltagarraderna."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--chunk", type=int, default=5000)

    def handle(self, *args: Any, **options: Any) -> None:
        result = refresh_inbox(options["chunk"])
        self.stdout.write(f"{result['rows']} rader, {result['deadlines_changed']} tidsfrister ändrade.")
