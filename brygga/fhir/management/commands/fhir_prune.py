"""Retention of the subscriptions' delivery log: delivered and dropped notifications older than
``--days`` (default ``BRYGGA_FHIR_NOTIFICATION_RETENTION_DAYS``, 90) are deleted. A pending one is never
deleted — it is the outbox. Notifications carry ids, no personal data; the log is for the subscriber's
administrator to see recent deliveries, not a record. Run it daily from cron."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from brygga.fhir.subscriptions import prune_notifications


class Command(BaseCommand):
    help = "Gallra levererade FHIR-notiser äldre än --days dagar (väntande behålls alltid)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=settings.BRYGGA_FHIR_NOTIFICATION_RETENTION_DAYS)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["days"] < 1:
            self.stderr.write("--days ska vara minst 1.")
            raise SystemExit(2)
        deleted = prune_notifications(options["days"])
        self.stdout.write(f"Gallrade notiser: {deleted}")
