from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from brygga.documents.delivery import stale_units


class Command(BaseCommand):
    help = (
        "Exit non-zero when a unit's latest reserve copy delivered out of brygga is older than "
        "BRYGGA_BACKUP_STALE_HOURS (for monitoring)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        stale = stale_units()
        for status in stale:
            when = status.last_delivered_at.isoformat() if status.last_delivered_at else "never"
            error = status.pending.last_error if status.pending else ""
            self.stdout.write(
                f"{status.unit.hsa_id} {status.unit.name}: last delivered {when} {error}".rstrip()
            )
        if stale:
            hours = settings.BRYGGA_BACKUP_STALE_HOURS
            raise CommandError(f"{len(stale)} unit(s) without a reserve copy in the last {hours} h")
        self.stdout.write("Every unit with a destination has a recent reserve copy.")
