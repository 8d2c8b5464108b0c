"""Video rooms from Pexip Infinity (issue 18 item 7, ADR 0904), through its management REST API:

- create: ``POST {base}/api/admin/configuration/v1/conference/`` with a JSON body (``name``,
  ``service_type`` "conference", ``pin`` for hosts, ``guest_pin``, ``allow_guests``, ``aliases``); the
  answer is 201 with the new resource's URI in ``Location``;
- delete: ``DELETE`` on that URI after the meeting (204; 404 counts as already gone).

HTTP Basic authentication with the management account. Set ``BRYGGA_VIDEO_PROVIDER`` to
``brygga.receiving.pexip.PexipInfinityProvider`` and ``BRYGGA_PEXIP_URL``, ``BRYGGA_PEXIP_USER``,
``BRYGGA_PEXIP_PASSWORD``, ``BRYGGA_PEXIP_JOIN_URL`` (``{alias}`` is replaced), ``BRYGGA_PEXIP_DIAL_IN`` (text
shown to the invited units, ``{alias}`` replaced). Without Pexip the default provider (a link only,
``brygga.cases.video.LocalVideoProvider``) or any link-only provider stays in use."""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
import urllib.error
import urllib.request
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from brygga.core.errors import DomainError
from brygga.receiving.models import VideoRoom

if TYPE_CHECKING:
    from brygga.cases.models import Meeting

CONFERENCE_PATH = "/api/admin/configuration/v1/conference/"
TIMEOUT = 10


class PexipError(Exception):
    pass


def _setting(name: str, default: str = "") -> str:
    return str(getattr(settings, name, default) or default)


class PexipInfinityProvider:
    """Makes one Pexip Virtual Meeting Room per planning meeting, with a host PIN and a guest PIN."""

    name = "pexip"

    def __init__(self) -> None:
        self.base = _setting("BRYGGA_PEXIP_URL").rstrip("/")
        if not self.base:
            raise PexipError("BRYGGA_PEXIP_URL is not set")
        credentials = f"{_setting('BRYGGA_PEXIP_USER')}:{_setting('BRYGGA_PEXIP_PASSWORD')}"
        self.auth = "Basic " + base64.b64encode(credentials.encode()).decode()

    def _request(self, method: str, url: str, body: dict[str, object] | None = None) -> tuple[int, str]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 — configured https URL
        request.add_header("Authorization", self.auth)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
                return response.status, response.headers.get("Location", "")
        except urllib.error.HTTPError as exc:
            return exc.code, ""
        except OSError as exc:
            raise PexipError(f"Pexip unreachable: {exc}") from exc

    def create_meeting(self, meeting: Meeting) -> str:
        """Create the room and remember it; returns the join link for the case page. Pexip unreachable or
        refusing: a DomainError, so the booking is refused and nothing is written."""
        alias = f"brygga-{meeting.pk}-{secrets.token_hex(4)}"
        host_pin, guest_pin = f"{secrets.randbelow(10**6):06d}", f"{secrets.randbelow(10**6):06d}"
        while guest_pin == host_pin:  # Pexip refuses equal PINs
            guest_pin = f"{secrets.randbelow(10**6):06d}"
        try:
            status, location = self._request(
                "POST",
                self.base + CONFERENCE_PATH,
                {
                    "name": alias,
                    "service_type": "conference",
                    "pin": host_pin,
                    "guest_pin": guest_pin,
                    "allow_guests": True,
                    "description": f"brygga planeringsmöte {meeting.pk}",
                    "aliases": [{"alias": alias}],
                },
            )
        except PexipError:
            status, location = 0, ""
        if status != 201 or not location:
            raise DomainError.single(
                "form",
                "VIDEO",
                _("Videorummet kunde inte skapas just nu (HTTP %(status)s). Försök igen eller välj telefon.")
                % {"status": status},
                status=503,
            )
        VideoRoom.objects.create(
            meeting=meeting,
            provider=self.name,
            ref=location,
            alias=alias,
            host_pin=host_pin,
            guest_pin=guest_pin,
            dial_in=_setting("BRYGGA_PEXIP_DIAL_IN").replace("{alias}", alias),
            created_at=timezone.now(),
        )
        return _setting("BRYGGA_PEXIP_JOIN_URL", self.base + "/webapp/m/{alias}").replace("{alias}", alias)

    def delete_room(self, room: VideoRoom) -> None:
        status, _location = self._request("DELETE", room.ref)
        if status not in (200, 204, 404):
            raise PexipError(f"Pexip refused to delete the room (HTTP {status})")


def delete_past_rooms(now: dt.datetime | None = None) -> dict[str, int]:
    """Delete at the provider every room whose meeting started more than ``BRYGGA_VIDEO_ROOM_HOURS`` (default
    4) ago; a failure is kept on the row and retried on the next run."""
    now = now or timezone.now()
    hours = int(getattr(settings, "BRYGGA_VIDEO_ROOM_HOURS", 4))
    counts = {"deleted": 0, "failed": 0}
    rooms = VideoRoom.objects.filter(
        deleted_at__isnull=True,
        provider=PexipInfinityProvider.name,
        meeting__starts_at__lt=now - dt.timedelta(hours=hours),
    )
    provider = PexipInfinityProvider() if rooms.exists() else None
    for room in rooms:
        assert provider is not None
        try:
            provider.delete_room(room)
        except PexipError as exc:
            room.last_error = str(exc)[:500]
            room.save(update_fields=["last_error"])
            counts["failed"] += 1
            continue
        room.deleted_at = now
        room.last_error = ""
        room.save(update_fields=["deleted_at", "last_error"])
        counts["deleted"] += 1
    return counts
