"""The SMS channel behind an adapter (``BRYGGA_SMS_ADAPTER``). The local implementation records what it would
send in ``SentSms``; a region plugs in its operator's adapter with the same one method."""

from __future__ import annotations

from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from brygga.receiving.models import SentSms


class SmsAdapter(Protocol):
    def send(self, to: str, text: str) -> None: ...


class LocalSmsAdapter:
    """Sends nothing: stores the message, so a test or an administrator can see what would have gone out."""

    def send(self, to: str, text: str) -> None:

        SentSms.objects.create(to=to, text=text)


def sms_adapter() -> SmsAdapter:
    return import_string(getattr(settings, "BRYGGA_SMS_ADAPTER", "brygga.receiving.sms.LocalSmsAdapter"))()
