"""Shared pieces of the FHIR tests: tokens, resources, validation of every answer with the R4B models."""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from brygga.accounts.models import ApiToken
from brygga.accounts.permissions import Role
from brygga.fhir import systems
from brygga.fhir.validation import validate
from tests.factories import actor

FHIR_JSON = "application/fhir+json"


def token_for(role: Role, unit_name: str, username: str | None = None) -> str:
    a = actor(role, unit_name, username=username)
    _token, raw = ApiToken.issue(a.membership, f"{role.value}-fhir")  # type: ignore[arg-type]
    return raw


def valid(body: dict[str, Any]) -> dict[str, Any]:
    """Validate with fhir.resources (R4B), recursing into Bundle entries (each validated by its own model)."""
    validate(body)
    for entry in body.get("entry", []) if body.get("resourceType") == "Bundle" else []:
        if "resource" in entry:
            validate(entry["resource"])
    return body


def encounter_body(person_identifier: str, admitted_at: dt.datetime, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "Encounter",
        "identifier": [{"system": "urn:oid:1.2.752.99.1", "value": "EHR-1"}],
        "status": "in-progress",
        "class": {"system": systems.ACT_CODE, "code": "IMP"},
        "type": [{"coding": [{"system": systems.CARE_TYPE, "code": "somatic"}]}],
        "subject": {"identifier": {"system": systems.PERSONNUMMER, "value": person_identifier}},
        "period": {"start": admitted_at.isoformat()},
        "extension": [
            {
                "url": systems.PLANNED_END_DATE,
                "valueDateTime": (admitted_at + dt.timedelta(days=4)).date().isoformat(),
            },
            {"url": systems.NEED_ASSESSED, "valueDateTime": admitted_at.isoformat()},
        ],
    }
    body.update(extra)
    return body


def task_body(code: str, encounter_id: int | str, **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Task",
        "status": "requested",
        "intent": "order",
        "code": {"coding": [{"system": systems.TASK_CODES, "code": code}]},
        "encounter": {"reference": f"Encounter/{encounter_id}"},
        **extra,
    }


class Receiver:
    """A small rest-hook receiver on 127.0.0.1 (a free port): records every notification Bundle; answers with
    the status codes queued in ``answers`` (then 200)."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.answers: list[int] = []
        self.event = threading.Event()
        # hold: the next request is read, then kept waiting until ``release`` is set (a crash mid-delivery).
        self.hold = False
        self.holding = threading.Event()
        self.release = threading.Event()
        self.seen: list[dict[str, Any]] = []  # every request body, acknowledged or not
        # Handshakes and heartbeats (R4B backport) apart from the notifications, with their own answers.
        self.control: list[dict[str, Any]] = []
        self.control_answers: list[int] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 — http.server's name
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                kind = body["entry"][0]["resource"].get("type")
                if kind in ("handshake", "heartbeat"):
                    outer.control.append(body)
                    self.send_response(outer.control_answers.pop(0) if outer.control_answers else 200)
                    self.end_headers()
                    return
                outer.seen.append(body)
                if outer.hold:
                    outer.hold = False
                    outer.holding.set()
                    outer.release.wait(60)
                    return  # no answer: the sender is gone
                status = outer.answers.pop(0) if outer.answers else 200
                if status < 300:
                    outer.received.append(body)
                    outer.headers.append(dict(self.headers))
                    outer.event.set()
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def focuses(self) -> list[str]:
        return [
            e["focus"]["reference"]
            for bundle in self.received
            for e in bundle["entry"][0]["resource"].get("notificationEvent", [])
        ]
