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

from brygga.access.models import Involvement
from brygga.access.services import involve
from brygga.accounts.permissions import Role
from brygga.cases.models import Case, CaseEvent
from brygga.messaging.models import Message
from brygga.sip.models import CareRequest, Consent, Sip
from tests.factories import CONTACT_POINT, OTHER_WARD, PRIMARY_CARE, WARD, actor, make_person, unit
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
        p,
        unit(PRIMARY_CARE),
        Involvement.Kind.OTHER,
        "test:listning",
        at=timezone.now() - dt.timedelta(days=30),
    )
    return p


def test_a_sip_from_start_to_close_through_the_api(person) -> None:  # type: ignore[no-untyped-def]
    vc = Api(Role.CARE_COORDINATOR, PRIMARY_CARE)
    home = Api(Role.HOME_CARE_NURSE, HOME)
    consent(vc.actor, person)
    sip = ok(vc.post("/api/v1/sip/", {"person_id": person.pk, "need_description": "Hemsjukvård"}), 201)["sip"]
    url = f"/api/v1/sip/{sip['id']}"
    ok(vc.post(f"{url}/participants", {"kind": "unit", "unit": unit(HOME).hsa_id}))
    body = ok(
        vc.post(f"{url}/participants", {"kind": "relative", "name": "Dottern Dora", "role_text": "Dotter"})
    )
    assert {p["kind"] for p in body["sip"]["participants"]} >= {"unit", "relative"}
    meeting_at = (timezone.now() + dt.timedelta(days=2)).replace(microsecond=0)
    body = ok(vc.post(f"{url}/summons", {"meeting_at": meeting_at.isoformat(), "location": "Vårdcentralen"}))
    assert body["sip"]["summoned_at"] is not None

    # The summoned home care reads the SIP, its inbox and the thread; a message is sent, forwarded, pinned.
    assert ok(home.get(url))["id"] == sip["id"]
    assert any(item["kind"] == "sip" and item["id"] == sip["id"] for item in ok(home.get("/api/v1/sip/")))
    message = ok(
        vc.post(f"{url}/messages", {"body": "Kallelse skickad", "category": "other", "subject": "SIP-möte"}),
        201,
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
        body = ok(
            vc.post(f"{url}/establish", {"follow_up_on": follow_up_on, "follow_up_unit": unit(HOME).hsa_id})
        )
        assert body["sip"]["status"] == Sip.Status.FOLLOW_UP and body["sip"]["current_version"] == 1
        later = (timezone.localdate() + dt.timedelta(days=60)).isoformat()
        body = ok(
            vc.post(
                f"{url}/follow-ups",
                {
                    "due_on": later,
                    "description": "Andra uppföljningen",
                    "responsible_unit": unit(HOME).hsa_id,
                },
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
        vc.post(
            f"{url}/messages", {"body": "Förband skickas med", "category": "other", "subject": "Förband"}
        ),
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
        nurse.post(f"{url}/messages", {"body": "Ny dos i morgon", "category": "nursing", "subject": "Dos"}),
        201,
    )["message"]
    assert [m["id"] for m in ok(nurse.get(f"{url}/messages"))] == [message["id"]]
    assert Message.objects.filter(thread__case=case).count() == 1
    ok(nurse.post(f"{url}/messages/{message['id']}/forward", {"reason": "För kännedom"}), 201)
    moved = ok(nurse.post(f"{url}/transfer", {"to_ward": unit(OTHER_WARD).hsa_id}))
    assert moved["case"]["ward_hsa_id"] == unit(OTHER_WARD).hsa_id
    new_ward = Api(Role.WARD_NURSE, OTHER_WARD)
    died = ok(new_ward.post(f"{url}/death", {"died_at": timezone.now().isoformat()}))
    assert died["case"]["status"] == "died"


PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_attachments_documents_extracts_backups_and_paper_records_through_the_api(isolated_documents) -> None:  # type: ignore[no-untyped-def]
    from django.core.files.uploadedfile import SimpleUploadedFile

    from brygga.documents.backup import produce_snapshot

    nurse = Api(Role.WARD_NURSE, WARD)
    patient = make_person()
    involve(patient, unit(WARD), Involvement.Kind.SIP, "sip:9")

    uploaded = nurse.client.post(
        "/api/v1/documents/attachments",
        {"person_id": patient.pk, "file": SimpleUploadedFile("a.pdf", PDF_BYTES)},
    )
    assert uploaded.status_code == 201, uploaded.content
    attachment_id = uploaded.json()["id"]
    assert ok(nurse.get(f"/api/v1/documents/attachments/{attachment_id}"))["filename"] == "a.pdf"
    content = nurse.client.get(f"/api/v1/documents/attachments/{attachment_id}/content")
    assert content.status_code == 200 and b"".join(content.streaming_content) == PDF_BYTES  # type: ignore[attr-defined]
    listed = ok(nurse.get(f"/api/v1/documents/persons/{patient.pk}/attachments"))
    assert [a["id"] for a in listed] == [attachment_id]

    first = ok(
        nurse.post(
            "/api/v1/documents/documents", {"person_id": patient.pk, "title": "Epikris", "body": "Text."}
        ),
        201,
    )
    second = ok(
        nurse.post(
            f"/api/v1/documents/documents/{first['document_id']}/versions",
            {"title": "Epikris", "body": "Rättad."},
        ),
        201,
    )
    assert second["number"] == 2
    versions = ok(nurse.get(f"/api/v1/documents/documents/{first['document_id']}"))
    assert [v["number"] for v in versions] == [1, 2]
    ok(nurse.post(f"/api/v1/documents/versions/{second['id']}/signatures", {}), 201)
    pdf = nurse.client.get(f"/api/v1/documents/versions/{second['id']}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    checked = nurse.client.post(
        "/api/v1/documents/verify", {"file": SimpleUploadedFile("e.pdf", pdf.content)}
    )
    assert checked.status_code == 200 and checked.json()["valid"] is True

    reviewer = Api(Role.LOG_REVIEWER, WARD)
    registered = ok(
        reviewer.post(
            "/api/v1/documents/extract-requests",
            {
                "identifier": patient.identifier,
                "kind": "log",
                "received_on": timezone.localdate().isoformat(),
            },
        ),
        201,
    )
    assert [r["id"] for r in ok(reviewer.get("/api/v1/documents/extract-requests"))] == [registered["id"]]
    extract = reviewer.client.post(f"/api/v1/documents/extract-requests/{registered['id']}/extract")
    assert extract.status_code == 200 and extract.content.startswith(b"%PDF-")

    snapshot = produce_snapshot(unit(WARD))
    assert [s["id"] for s in ok(nurse.get("/api/v1/documents/backups"))] == [snapshot.pk]
    encrypted = nurse.client.get(f"/api/v1/documents/backups/{snapshot.pk}/content")
    assert encrypted.status_code == 200 and encrypted.content
    record = ok(
        nurse.post(
            "/api/v1/documents/paper-records",
            {
                "person_id": patient.pk,
                "occurred_at": (timezone.now() - dt.timedelta(hours=2)).isoformat(),
                "summary": "Utskrivningsklar meddelad per telefon.",
                "snapshot_id": snapshot.pk,
            },
        ),
        201,
    )
    assert record["registered_afterwards"] is True


def test_amounts_rules_closing_and_a_resolved_dispute_through_the_api() -> None:
    from brygga.organisations.models import Municipality
    from brygga.payment import services as payment
    from tests.test_payment_engine import VG_MARCH_2022

    gits = Api(Role.GITS_COORDINATOR, "GITS kansli")
    run = payment.run_settlement(
        gits.actor, Municipality.objects.get(scb_code="1480"), 2022, 3, VG_MARCH_2022
    )
    assert ok(gits.get("/api/v1/payment/rules"))
    next_year = timezone.localdate().year + 1
    amount = ok(
        gits.post(
            "/api/v1/payment/amounts",
            {"year": next_year, "amount": "9900.00", "source": "Överenskommelse (test)"},
        ),
        201,
    )
    assert amount["year"] == next_year and amount["in_force"] is True

    municipality = Api(Role.MUNICIPAL_CONTACT, CONTACT_POINT)
    line = run.lines.exclude(case_reference="").first()
    assert line is not None
    dispute = ok(
        municipality.post(
            f"/api/v1/payment/settlements/{run.pk}/disputes", {"line_id": line.pk, "comment": "Fel."}
        ),
        201,
    )
    resolved = ok(
        gits.post(
            f"/api/v1/payment/disputes/{dispute['id']}/resolution", {"accepted": False, "resolution": "Rätt."}
        )
    )
    assert resolved["status"] != "open"
    closed = ok(gits.post(f"/api/v1/payment/settlements/{run.pk}/close"))
    assert closed["id"] == run.pk


def test_organisations_are_listed() -> None:
    from brygga.organisations.models import Organisation

    listed = ok(Api(Role.SYSTEM, WARD).get("/api/v1/organisations"))
    assert len(listed) == Organisation.objects.count() > 0
