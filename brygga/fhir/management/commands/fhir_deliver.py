"""Sweep of the FHIR subscriptions' outbox: every subscription whose next notification is due is handed to the
background worker (``--enqueue``, the default) or delivered here. Run it every minute from cron: it is what
picks up a delivery whose worker was killed (the lease has expired) and retries where the task backend
cannot schedule them itself, and restarts a subscription's heartbeats when their chain of deferred tasks
broke."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from brygga.fhir.subscriptions import (
    deliver,
    due_subscriptions,
    enqueue_delivery,
    overdue_heartbeats,
    send_heartbeats,
)
from brygga.fhir.tasks import heartbeat_task


class Command(BaseCommand):
    help = "Skicka förfallna FHIR-notiser (rest-hook) i ordning per prenumeration."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--now", action="store_true", help="Skicka här i stället för att köa till arbetaren."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        due = due_subscriptions()
        late = overdue_heartbeats()
        if options["now"]:
            sent = sum(deliver(pk) for pk in due)
            for pk in late:
                send_heartbeats(pk)
            self.stdout.write(
                f"Prenumerationer: {len(due)}, notiser skickade: {sent}, hjärtslag: {len(late)}"
            )
            return
        enqueue_delivery(due)
        for pk in late:  # a broken heartbeat chain starts again
            heartbeat_task.enqueue(pk)
        self.stdout.write(f"Prenumerationer köade: {len(due)}, hjärtslag köade: {len(late)}")
