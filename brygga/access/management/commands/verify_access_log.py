"""Check the whole access log: every entry against its MAC, every seal against its entries and the chain.
Exits with status 1 and lists the problems when anything has been changed, removed or re-ordered."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from brygga.access.models import AccessLogEntry, AccessLogSeal
from brygga.access.services import verify_access_log


class Command(BaseCommand):
    help = "Verify that the access log is intact (exit status 1 when it is not)."

    def handle(self, *args: object, **options: object) -> None:
        problems = verify_access_log()
        if problems:
            for problem in problems:
                self.stderr.write(problem)
            raise CommandError(f"Åtkomstloggen är inte intakt: {len(problems)} problem.", returncode=1)
        self.stdout.write(
            f"Åtkomstloggen är intakt: {AccessLogEntry.objects.count()} poster, "
            f"{AccessLogSeal.objects.count()} förseglingar."
        )
