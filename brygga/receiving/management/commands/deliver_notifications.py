"""Queue escalation notifications and deliver every notification that is due (digests, retries). For cron,
e.g. every 5 minutes; running it twice does not send anything twice."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from brygga.receiving.notify import deliver_due, notify_escalations


class Command(BaseCommand):
    help = "Köa eskaleringar och skicka de aviseringar som är på tur (e-post, sms)."

    def handle(self, *args: Any, **options: Any) -> None:
        escalations = notify_escalations()
        counts = deliver_due()
        self.stdout.write(
            f"escalations={len(escalations)} sent={counts['sent']} retry={counts['retry']} "
            f"failed={counts['failed']}"
        )
