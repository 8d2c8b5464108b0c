"""Issue 20 item 2: a successful call of each API operation that no other test calls successfully, so that
tests/test_api_coverage.py can require one for every operation in the OpenAPI document. Each test walks one
object's life through the API only, the way an integrating system would, and checks what each call did."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from brygga.accounts.permissions import Role
from brygga.cases.models import Case, CaseEvent, Message
from brygga.sip.models import CareRequest, Consent, Sip
from brygga.access.models import Involvement
from brygga.access.services import involve
from tests.factories import OTHER_WARD, PRIMARY_CARE, WARD, actor, make_person, unit
from tests.test_messaging import auth, consent

pytestmark = pytest.mark.django_db

HOME = "Göteborg hemsjukvård"


class Api:
    """One caller's bearer-token client; ``post``/``put`` send JSON and return (status, body)."""

    def __init__(self, role: Role, unit_name: str) -> None:
        self.actor = actor(role, unit_name)
        self.client = Client(**auth(self.actor))

    def get(self, url: str) -> tuple[int, Any]:
        response = self.client.get(url)
        return response.status_code, response.json()

    def post(self, url: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        response = self.client.post(url, body or {}, content_type="application/json")
        return response.status_code, response.json()

    def put(self, url: str, body: dict[str, Any]) -> tuple[int, Any]:
        response = self.client.put(url, body, content_type="application/json")
        return response.status_code, response.json()


def ok(answer: tuple[int, Any], status: int = 200) -> Any:
    code, body = answer
    assert code == status, body
    return body


@pytest.fixture
def person():  # type: ignore[no-untyped-def]
    """Listed at the vårdcentral, as in tests/test_sip.py."""
    p = make_person("1480")
    involve(
        p, unit(PRIMARY_CARE), Involvement.Kind.OTHER, "test:listning", at=timezone.now() - dt.timedelta(days=30)
    )
    return p


def test_a_sip_from_start_to_close_through_the_api(person) -> None:  # type: ignore[no-untyped-def]
    vc = Api(Role.CARE_COORDINATOR, PRIMARY_CARE)
    home = Api(Role.HOME_CARE_NURSE, HOME)
    consent(vc.actor, person)
    sip = ok(vc.post("/api/v1/sip/", {"person_id": person.pk, "need_description": "Hemsjukvård"}), 201)["sip"]
    url = f"/api/v1/sip/{sip['id']}"
    ok(vc.post(f"{url}/participants", {"kind": "unit", "unit": unit(HOME).hsa_id}))
    body = ok(vc.post(f"{url}/participants", {"kind": "relative", "name": "Dottern Dora", "role_text": "Dotter"}))
    assert {p["kind"] for p in body["sip"]["participants"]} >= {"unit", "relative"}
    meeting_at = (timezone.now() + dt.timedelta(days=2)).replace(microsecond=0)
    body = ok(vc.post(f"{url}/summons", {"meeting_at": meeting_at.isoformat(), "location": "Vårdcentralen"}))
    assert body["sip"]["summoned_at"] is not None

    # The summoned home care reads the SIP, its inbox and the thread; a message is sent, forwarded, pinned.
    assert ok(home.get(url))["id"] == sip["id"]
    assert any(item["kind"] == "sip" and item["id"] == sip["id"] for item in ok(home.get("/api/v1/sip/")))
    message = ok(
        vc.post(f"{url}/messages", {"body": "Kallelse skickad", "category": "other", "subject": "SIP-möte"}), 201
    )["message"]
    forwarded = ok(vc.post(f"{url}/messages/{message['id']}/forward", {"reason": "För kännedom"}), 201)
    assert forwarded["message"]["id"] != message["id"]
    assert ok(vc.post(f"{url}/messages/{message['id']}/pin", {"pinned": True}))["message"]["pinned"] is True
    assert "Kallelse skickad" in [m["body"] for m in ok(home.get(f"{url}/messages"))]

    with time_machine.travel(meeting_at + dt.timedelta(hours=1)):
        ok(vc.post(f"{url}/meeting", {"note": "Alla var med."}))
        draft = {
            "what_matters": "Att få bo kvar hemma.",
            "needs": "Sårvård och läkemedelsgenomgång.",
            "other_efforts": "Dottern handlar.",
            "overall_responsible_unit": unit(PRIMARY_CARE).hsa_id,
            "efforts": [
                {"need": "Bensår", "effort": "Sårvård", "responsible_unit": unit(HOME).hsa_id},
                {"need": "Läkemedel", "effort": "Genomgång", "responsible_unit": unit(PRIMARY_CARE).hsa_id},
            ],
        }
        ok(vc.put(f"{url}/draft", draft))
        follow_up_on = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
        body = ok(vc.post(f"{url}/establish", {"follow_up_on": follow_up_on, "follow_up_unit": unit(HOME).hsa_id}))
        assert body["sip"]["status"] == Sip.Status.FOLLOW_UP and body["sip"]["current_version"] == 1
        later = (timezone.localdate() + dt.timedelta(days=60)).isoformat()
        body = ok(
            vc.post(
                f"{url}/follow-ups",
                {"due_on": later, "description": "Andra uppföljningen", "responsible_unit": unit(HOME).hsa_id},
            )
        )
        assert len(body["sip"]["follow_ups"]) == 2
        body = ok(vc.post(f"{url}/close", {"reason": "other", "text": "Personen flyttar."}))
        assert body["sip"]["status"] == Sip.Status.CLOSED


def test_a_care_request_answered_supplemented_and_discussed_through_the_api(person) -> None:  # type: ignore[no-untyped-def]
    vc = Api(Role.CARE_COORDINATOR, PRIMARY_CARE)
    home = Api(Role.HOME_CARE_NURSE, HOME)
    given = ok(
        vc.post(
            "/api/v1/sip/consents",
            {
                "person_id": person.pk,
                "given_by": "person",
                "form": "verbal",
                "purpose": "Vårdbegäran",
                "parties": [unit(HOME).hsa_id, unit(PRIMARY_CARE).hsa_id],
                "categories": ["sip", "health", "medications", "efforts"],
                "exclusions_note": "Inget",
            },
        ),
        201,
    )
    request = ok(
        vc.post(
            "/api/v1/sip/care-requests",
            {
                "person_id": person.pk,
                "to_unit": unit(HOME).hsa_id,
                "reason": "Behöver hjälp med sårvård i hemmet.",
                "health_summary": "Venöst bensår, i övrigt stabil.",
                "requested_efforts": ["wound_care"],
                "medication_responsibility": "person",
                "start_on": (timezone.localdate() + dt.timedelta(days=2)).isoformat(),
                "contact_name": "Fia Fastvård",
                "contact_phone": "031-123 45 67",
            },
        ),
        201,
    )["care_request"]
    url = f"/api/v1/sip/care-requests/{request['id']}"
    assert ok(home.get(url))["reason"] == "Behöver hjälp med sårvård i hemmet."
    asked = ok(home.post(f"{url}/answer", {"answer": "needs_info", "text": "Vilken förbandstyp?"}))
    assert asked["care_request"]["status"] == CareRequest.Status.NEEDS_INFO
    ok(vc.post(f"{url}/supplement", {"text": "Skumförband, byts två gånger i veckan."}))
    answered = ok(home.post(f"{url}/answer", {"answer": "accepted", "text": "Vi tar emot."}))
    assert answered["care_request"]["status"] == CareRequest.Status.ACCEPTED

    message = ok(
        vc.post(f"{url}/messages", {"body": "Förband skickas med", "category": "other", "subject": "Förband"}),
        201,
    )["message"]
    ok(vc.post(f"{url}/messages/{message['id']}/forward", {"reason": "För kännedom"}), 201)
    assert ok(vc.post(f"{url}/messages/{message['id']}/pin", {"pinned": True}))["message"]["pinned"] is True

    # The consent is withdrawn by the unit that recorded it.
    ok(vc.post(f"/api/v1/sip/consents/{given['consent_id']}/withdraw", {"note": "Personen ångrade sig"}))
    assert Consent.objects.get(pk=given["consent_id"]).withdrawn_at is not None


def test_a_case_acknowledged_transferred_discussed_and_ended_by_death_through_the_api() -> None:
    nurse = Api(Role.WARD_NURSE, WARD)
    now = timezone.now()
    created = ok(
        nurse.post(
            "/api/v1/cases/",
            {
                "identifier": make_person("1480").identifier,
                "admitted_at": (now - dt.timedelta(hours=3)).isoformat(),
                "care_type": "somatic",
                "expected_discharge_date": (now + dt.timedelta(days=4)).date().isoformat(),
                "need_assessed_at": (now - dt.timedelta(hours=3)).isoformat(),
            },
        ),
        201,
    )
    case = Case.objects.get(pk=created["case"]["id"])
    url = f"/api/v1/cases/{case.pk}"
    noticed = ok(nurse.post(f"{url}/admission-notice", {}))
    assert noticed["case"]["notice_sent_at"] is not None
    receiver = case.participants.filter(status="active").exclude(role="ward").select_related("unit").first()
    assert receiver is not None
    other_end = Api(Role.MUNICIPAL_CONTACT, receiver.unit.name)
    acknowledged = ok(other_end.post(f"{url}/acknowledge"))
    assert acknowledged["acknowledgement"]["code"] == "ok"
    assert CaseEvent.objects.filter(case=case, kind="acknowledged").count() == 1
    consent(nurse.actor, case.person, parties=(receiver.unit.name,), categories=("health",))
    message = ok(
        nurse.post(f"{url}/messages", {"body": "Ny dos i morgon", "category": "nursing", "subject": "Dos"}), 201
    )["message"]
    assert [m["id"] for m in ok(nurse.get(f"{url}/messages"))] == [message["id"]]
    assert Message.objects.filter(thread__case=case).count() == 1
    ok(nurse.post(f"{url}/messages/{message['id']}/forward", {"reason": "För kännedom"}), 201)
    moved = ok(nurse.post(f"{url}/transfer", {"to_ward": unit(OTHER_WARD).hsa_id}))
    assert moved["case"]["ward_hsa_id"] == unit(OTHER_WARD).hsa_id
    new_ward = Api(Role.WARD_NURSE, OTHER_WARD)
    died = ok(new_ward.post(f"{url}/death", {"died_at": timezone.now().isoformat()}))
    assert died["case"]["status"] == "died"
