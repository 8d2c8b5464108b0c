"""Delete the video rooms of past planning meetings at the provider (Pexip). For cron, e.g. hourly."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from brygga.receiving.pexip import delete_past_rooms


class Command(BaseCommand):
    help = "Ta bort videorum för planeringsmöten som har varit (Pexip)."

    def handle(self, *args: Any, **options: Any) -> None:
        counts = delete_past_rooms()
        self.stdout.write(f"deleted={counts['deleted']} failed={counts['failed']}")
