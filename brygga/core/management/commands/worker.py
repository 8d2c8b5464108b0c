"""manage.py worker: the background worker (django-tasks' db_worker) with crash recovery (ADR 0809): tasks a
killed worker on this host left RUNNING are requeued first, and this worker runs under the id <host>:<pid> so
the next start can tell whether it is still alive."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from brygga.core.worker import requeue_stale, worker_id


class Command(BaseCommand):
    help = "Kör bakgrundsjobben (db_worker) efter att ha lagt tillbaka jobb som en avbruten process lämnade."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", action="store_true", help="avsluta när kön är tom")
        parser.add_argument("--interval", type=float, default=1.0)

    def handle(self, *args: Any, batch: bool = False, interval: float = 1.0, **options: Any) -> None:
        requeued = requeue_stale()
        if requeued:
            self.stdout.write(f"{len(requeued)} avbrutna jobb lagda tillbaka i kön.")
        call_command(
            "db_worker",
            queue_name="*",
            worker_id=worker_id(),
            batch=batch,
            interval=interval,
            startup_delay=False,
        )
