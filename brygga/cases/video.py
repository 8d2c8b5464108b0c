"""Video links for planning meetings, from a configurable provider (R-VG-PROC-2).

``BRYGGA_VIDEO_PROVIDER`` names a class with ``create_meeting(meeting) -> str``. The default local provider
makes a unique room link under ``BRYGGA_VIDEO_BASE_URL``; a Pexip adapter follows in a later issue."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from brygga.cases.models import Meeting


class VideoProvider(Protocol):
    def create_meeting(self, meeting: Meeting) -> str: ...


class LocalVideoProvider:
    """A room link with an unguessable name; no external call."""

    def create_meeting(self, meeting: Meeting) -> str:
        base = getattr(settings, "BRYGGA_VIDEO_BASE_URL", "https://video.brygga.local/rum")
        return f"{base.rstrip('/')}/{secrets.token_urlsafe(12)}"


def video_provider() -> VideoProvider:
    path = getattr(settings, "BRYGGA_VIDEO_PROVIDER", "brygga.cases.video.LocalVideoProvider")
    return import_string(path)()
