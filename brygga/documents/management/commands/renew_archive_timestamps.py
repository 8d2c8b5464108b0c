from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from brygga.documents.archive import renew_archive_timestamps


class Command(BaseCommand):
    help = (
        "Add a new document (archive) time-stamp to every signed document whose newest one's time-stamping "
        "certificate expires within --within-days (PAdES B-LTA renewal; run yearly). Exit 1 when any failed."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--within-days", type=int, default=365)

    def handle(self, *args: Any, **options: Any) -> None:
        renewed, failed = renew_archive_timestamps(dt.timedelta(days=options["within_days"]))
        self.stdout.write(f"Renewed {renewed} archive time-stamps; {failed} failed.")
        if failed:
            raise CommandError(
                f"{failed} documents could not be renewed (see the log); the next run retries."
            )
