"""manage.py requeue_stale_tasks: run again, once, the tasks a killed worker left RUNNING (ADR 0809)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from brygga.core.worker import requeue_stale


class Command(BaseCommand):
    help = "Lägg tillbaka bakgrundsjobb som en avbruten arbetsprocess lämnade som pågående."

    def handle(self, *args: Any, **options: Any) -> None:
        requeued = requeue_stale()
        self.stdout.write(f"{len(requeued)} jobb lagda tillbaka i kön.")
