"""The Pexip Infinity adapter (issue 18 item 7, ADR 0904) against a local HTTP server that speaks the part of
Pexip's management REST API the adapter uses: creating a Virtual Meeting Room with host and guest PINs (201 +
Location), deleting it after the meeting (204), HTTP Basic authentication. The room, PINs and dial-in are
shown to the invited units only; a Pexip failure refuses the booking and writes nothing; the link-only
provider stays the default."""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from brygga.accounts.context import Actor
from brygga.accounts.permissions import Role
from brygga.cases import services
from brygga.cases.models import Case, Meeting
from brygga.core.errors import DomainError
from brygga.receiving.models import VideoRoom
from brygga.receiving.pexip import CONFERENCE_PATH, delete_past_rooms
from tests.factories import CONTACT_POINT, PRIMARY_CARE, WARD, actor, make_person, unit

pytestmark = pytest.mark.django_db

USER, PASSWORD = "brygga-mgmt", "hemligt-lösen"


class FakePexip(BaseHTTPRequestHandler):
    """Pexip Infinity's configuration API for conferences, in memory: POST creates, DELETE removes."""

    rooms: dict[int, dict[str, Any]] = {}
    requests: list[tuple[str, str]] = []
    fail_create = False

    def log_message(self, *args: Any) -> None:
        pass

    def _authorised(self) -> bool:
        expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        if self.headers.get("Authorization") != expected:
            self.send_response(401)
            self.end_headers()
            return False
        return True

    def do_POST(self) -> None:  # noqa: N802 — http.server's naming
        self.requests.append(("POST", self.path))
        if not self._authorised():
            return
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path != CONFERENCE_PATH or FakePexip.fail_create:
            self.send_response(400 if FakePexip.fail_create else 404)
            self.end_headers()
            return
        if not body.get("pin") or body.get("pin") == body.get("guest_pin") or not body.get("aliases"):
            self.send_response(400)
            self.end_headers()
            return
        room_id = len(self.rooms) + 1
        self.rooms[room_id] = body
        self.send_response(201)
        self.send_header("Location", f"http://{self.headers['Host']}{CONFERENCE_PATH}{room_id}/")
        self.end_headers()

    def do_DELETE(self) -> None:  # noqa: N802
        self.requests.append(("DELETE", self.path))
        if not self._authorised():
            return
        room_id = int(self.path.rstrip("/").rsplit("/", 1)[-1])
        if self.rooms.pop(room_id, None) is None:
            self.send_response(404)
        else:
            self.send_response(204)
        self.end_headers()


@pytest.fixture
def pexip(settings: Any) -> Iterator[type[FakePexip]]:
    FakePexip.rooms, FakePexip.requests, FakePexip.fail_create = {}, [], False
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakePexip)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    settings.BRYGGA_VIDEO_PROVIDER = "brygga.receiving.pexip.PexipInfinityProvider"
    settings.BRYGGA_PEXIP_URL = base
    settings.BRYGGA_PEXIP_USER = USER
    settings.BRYGGA_PEXIP_PASSWORD = PASSWORD
    settings.BRYGGA_PEXIP_JOIN_URL = "https://video.vgregion.example/webapp/m/{alias}"
    settings.BRYGGA_PEXIP_DIAL_IN = "Ring 010-000 00 00, ange {alias}"
    try:
        yield FakePexip
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def case() -> Case:
    nurse = actor(Role.WARD_NURSE, WARD)
    now = timezone.now()
    case = services.admit(
        nurse,
        make_person("1480"),
        admitted_at=now - dt.timedelta(hours=2),
        care_type="somatic",
        expected_discharge_date=(now + dt.timedelta(days=3)).date(),
        need_assessed_at=now - dt.timedelta(hours=2),
    )
    services.send_admission_notice(nurse, case)
    return case


def book(who: Actor, case: Case, units: list[str]) -> Meeting:
    return services.book_meeting(
        who,
        case,
        form="video",
        starts_at=timezone.now() + dt.timedelta(days=1),
        participants=[unit(u).pk for u in units],
    )


def test_a_video_meeting_creates_a_pexip_room_with_host_and_guest_pins(pexip: Any, case: Case) -> None:
    meeting = book(actor(Role.WARD_NURSE, WARD), case, [WARD, CONTACT_POINT])
    room = VideoRoom.objects.get(meeting=meeting)
    sent = pexip.rooms[1]
    assert sent["service_type"] == "conference" and sent["pin"] == room.host_pin
    assert sent["guest_pin"] == room.guest_pin and sent["pin"] != sent["guest_pin"]
    assert sent["aliases"] == [{"alias": room.alias}]
    assert meeting.video_link == f"https://video.vgregion.example/webapp/m/{room.alias}"
    assert room.dial_in == f"Ring 010-000 00 00, ange {room.alias}"


def test_room_pin_and_dial_in_are_shown_to_the_invited_units_only(pexip: Any, case: Case) -> None:
    meeting = book(actor(Role.WARD_NURSE, WARD), case, [WARD, CONTACT_POINT])
    room = VideoRoom.objects.get(meeting=meeting)
    invited = Client()
    invited.force_login(actor(Role.MUNICIPAL_CONTACT, CONTACT_POINT).user)
    page = invited.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert room.guest_pin in page and meeting.video_link in page and room.alias in page
    outside = Client()
    outside.force_login(actor(Role.CARE_COORDINATOR, PRIMARY_CARE).user)  # in the case, not in the meeting
    page = outside.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert room.guest_pin not in page and meeting.video_link not in page
    assert "rummet visas för de inbjudna enheterna" in page


def test_pexip_refusing_refuses_the_booking_and_writes_nothing(pexip: Any, case: Case) -> None:
    pexip.fail_create = True
    with pytest.raises(DomainError) as exc:
        book(actor(Role.WARD_NURSE, WARD), case, [WARD, CONTACT_POINT])
    assert exc.value.problems[0].rule == "VIDEO"
    assert not Meeting.objects.exists() and not VideoRoom.objects.exists()


def test_rooms_are_deleted_at_pexip_after_the_meeting(pexip: Any, case: Case) -> None:
    meeting = book(actor(Role.WARD_NURSE, WARD), case, [WARD, CONTACT_POINT])
    assert delete_past_rooms() == {"deleted": 0, "failed": 0}  # not yet: the meeting is tomorrow
    with time_machine.travel(meeting.starts_at + dt.timedelta(hours=5), tick=False):
        assert delete_past_rooms() == {"deleted": 1, "failed": 0}
        assert delete_past_rooms() == {"deleted": 0, "failed": 0}  # once
    assert pexip.rooms == {} and ("DELETE", f"{CONFERENCE_PATH}1/") in pexip.requests
    assert VideoRoom.objects.get().deleted_at is not None


def test_without_pexip_the_link_only_provider_is_used(case: Case) -> None:
    meeting = book(actor(Role.WARD_NURSE, WARD), case, [WARD, CONTACT_POINT])
    assert meeting.video_link.startswith("https://") and not VideoRoom.objects.exists()
