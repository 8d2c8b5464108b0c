"""DocumentReference, Binary and Provenance (issue 19 item 1): signed documents with every version and
signature, message attachments referenced from Communication.payload; need-to-know, access log, valid R4B."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import time_machine
from asn1crypto import cms
from django.test import Client

from brygga.access.models import AccessLogEntry, Involvement
from brygga.access.services import involve
from brygga.accounts.permissions import Role
from brygga.cases.models import Participant
from brygga.documents.models import Signature
from brygga.documents.signed import create_document, revise_document, sign_version
from brygga.fhir import systems
from tests.factories import CONTACT_POINT, OTHER_WARD, WARD, actor, make_person, share_consent, unit
from tests.fhir_helpers import FHIR_JSON, encounter_body, task_body, token_for, valid

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 10, 9, 0, tzinfo=dt.UTC)
NURSE_HSA = "SE2321000131-P000000000001"


@pytest.fixture(autouse=True)
def isolated_files(isolated_documents: Path) -> Path:
    return isolated_documents


def client(role: Role, unit_name: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token_for(role, unit_name)}")


@pytest.fixture
def signed_plan():  # type: ignore[no-untyped-def]
    """A document in two versions: the first signed by the ward's nurse, the second by the nurse and the
    municipality's contact."""
    person = make_person()
    involve(person, unit(WARD), Involvement.Kind.SIP, "sip:1")
    involve(person, unit(CONTACT_POINT), Involvement.Kind.SIP, "sip:1")
    nurse = actor(Role.WARD_NURSE, WARD, username="nurse")
    nurse.user.first_name, nurse.user.last_name, nurse.user.hsa_id = "Stina", "Sköterska", NURSE_HSA
    nurse.user.save()
    contact = actor(Role.MUNICIPAL_CONTACT, CONTACT_POINT, username="contact")
    first = create_document(nurse, person.pk, "person", str(person.pk), "SIP", "Mål: trygg hemgång.")
    sign_version(nurse, first.pk)
    second = revise_document(nurse, first.document_id, "SIP", "Mål: trygg hemgång.\n\nInsatser: hemtjänst.")
    sign_version(nurse, second.pk)
    sign_version(contact, second.pk)
    return person, first, second


def test_signed_document_versions_as_document_references_each_read_logged(signed_plan) -> None:  # type: ignore[no-untyped-def]
    person, first, second = signed_plan
    municipality = client(Role.SYSTEM, CONTACT_POINT)
    before = AccessLogEntry.objects.filter(person=person).count()
    found = valid(municipality.get(f"/fhir/r4/DocumentReference?patient=Patient/{person.pk}").json())
    assert AccessLogEntry.objects.filter(person=person).count() > before  # the listing is logged
    by_id = {e["resource"]["id"]: e["resource"] for e in found["entry"]}
    old, new = by_id[f"signed-{first.pk}"], by_id[f"signed-{second.pk}"]
    assert (old["status"], new["status"]) == ("superseded", "current")
    assert new["docStatus"] == "final" and new["subject"]["reference"] == f"Patient/{person.pk}"
    assert new["relatesTo"] == [
        {"code": "replaces", "target": {"reference": f"DocumentReference/signed-{first.pk}"}}
    ]
    assert new["content"][0]["attachment"]["contentType"] == "application/pdf"
    assert new["content"][0]["attachment"]["url"].endswith(f"/fhir/r4/Binary/signed-{second.pk}")
    current = valid(
        municipality.get(f"/fhir/r4/DocumentReference?subject=Patient/{person.pk}&status=current").json()
    )
    assert [e["resource"]["id"] for e in current["entry"]] == [f"signed-{second.pk}"]
    read = municipality.get(f"/fhir/r4/DocumentReference/signed-{second.pk}")
    assert read.status_code == 200 and valid(read.json()) == new
    assert AccessLogEntry.objects.filter(
        person=person,
        what=f"dokument:{second.document_id}/v{second.number}",
        action=AccessLogEntry.Action.READ,
    ).exists()


def test_the_binary_is_the_signed_pdf_as_json_or_as_the_file(signed_plan) -> None:  # type: ignore[no-untyped-def]
    _person, _first, second = signed_plan
    second.refresh_from_db()
    with second.pdf.open("rb") as handle:
        pdf = handle.read()
    ehr = client(Role.SYSTEM, WARD)
    as_json = ehr.get(f"/fhir/r4/Binary/signed-{second.pk}", HTTP_ACCEPT=FHIR_JSON)
    body = valid(as_json.json())
    assert body["contentType"] == "application/pdf" and base64.b64decode(body["data"]) == pdf
    raw = ehr.get(f"/fhir/r4/Binary/signed-{second.pk}", HTTP_ACCEPT="application/pdf")
    assert raw["Content-Type"] == "application/pdf" and raw.content == pdf
    assert raw["Cache-Control"] == "no-store"


def test_each_signature_is_a_provenance_with_the_signers_hsa_id_and_the_cms(signed_plan) -> None:  # type: ignore[no-untyped-def]
    _person, _first, second = signed_plan
    municipality = client(Role.SYSTEM, CONTACT_POINT)
    found = valid(municipality.get(f"/fhir/r4/Provenance?target=DocumentReference/signed-{second.pk}").json())
    provenances = [e["resource"] for e in found["entry"]]
    signatures = list(Signature.objects.filter(version=second).order_by("signed_at", "pk"))
    assert [p["id"] for p in provenances] == [f"signature-{s.pk}" for s in signatures]
    nurse = provenances[0]
    assert nurse["target"] == [{"reference": f"DocumentReference/signed-{second.pk}"}]
    assert nurse["agent"][0]["who"]["identifier"] == {"system": systems.HSA_ID, "value": NURSE_HSA}
    assert nurse["agent"][0]["onBehalfOf"]["identifier"]["value"] == unit(WARD).hsa_id
    signature = nurse["signature"][0]
    assert signature["who"]["identifier"]["value"] == NURSE_HSA
    assert signature["when"] == nurse["recorded"]
    # The data is the signature's own CMS SignedData, signed by the nurse's certificate.
    signed_data = cms.ContentInfo.load(base64.b64decode(signature["data"]))["content"]
    subjects = [c.chosen.subject.native for c in signed_data["certificates"]]
    assert {"common_name": "Stina Sköterska", "serial_number": NURSE_HSA}.items() <= next(
        s for s in subjects if s.get("serial_number") == NURSE_HSA
    ).items()
    assert provenances[1]["agent"][0]["onBehalfOf"]["identifier"]["value"] == unit(CONTACT_POINT).hsa_id
    read = municipality.get(f"/fhir/r4/Provenance/signature-{signatures[1].pk}")
    assert read.status_code == 200 and valid(read.json()) == provenances[1]


def test_another_units_document_binary_and_provenance_are_404_and_logged_as_denied(signed_plan) -> None:  # type: ignore[no-untyped-def]
    person, _first, second = signed_plan
    stranger = client(Role.SYSTEM, OTHER_WARD)
    signature = Signature.objects.filter(version=second).first()
    assert signature is not None
    for path in (
        f"DocumentReference/signed-{second.pk}",
        f"Binary/signed-{second.pk}",
        f"Provenance/signature-{signature.pk}",
        f"Provenance?target=DocumentReference/signed-{second.pk}",
        f"DocumentReference?patient=Patient/{person.pk}",
        "DocumentReference/signed-999999",
        "DocumentReference/nonsense",
    ):
        response = stranger.get(f"/fhir/r4/{path}")
        assert response.status_code == 404, path
        assert valid(response.json())["resourceType"] == "OperationOutcome"
    assert AccessLogEntry.objects.filter(
        person=person, unit=unit(OTHER_WARD), action=AccessLogEntry.Action.DENIED
    ).exists()
    assert (
        not AccessLogEntry.objects.filter(person=person, unit=unit(OTHER_WARD))
        .exclude(action=AccessLogEntry.Action.DENIED)
        .exists()
    )


def test_search_needs_a_patient(signed_plan) -> None:  # type: ignore[no-untyped-def]
    response = client(Role.SYSTEM, WARD).get("/fhir/r4/DocumentReference")
    assert response.status_code == 400 and valid(response.json())["issue"][0]["code"] == "required"


@time_machine.travel(NOW, tick=False)
def test_a_message_attachment_is_a_document_reference_from_communication_payload(settings: Any) -> None:
    from brygga.fhir.communication import CATEGORY

    settings.BRYGGA_REQUIRE_VIRUS_SCAN = False
    ehr, municipality = client(Role.SYSTEM, WARD), client(Role.SYSTEM, CONTACT_POINT)
    person = make_person("1480")
    created = ehr.post(
        "/fhir/r4/Encounter",
        json.dumps(encounter_body(person.identifier, NOW - dt.timedelta(hours=3))),
        content_type=FHIR_JSON,
    )
    case_id = created.json()["id"]
    ehr.post(
        "/fhir/r4/Task", json.dumps(task_body("inskrivningsmeddelande", case_id)), content_type=FHIR_JSON
    )
    share_consent(
        actor(Role.WARD_NURSE, WARD), person, [p.unit for p in Participant.objects.filter(case_id=case_id)]
    )
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    body = {
        "resourceType": "Communication",
        "status": "completed",
        "encounter": {"reference": f"Encounter/{case_id}"},
        "category": [{"coding": [{"system": CATEGORY, "code": "discharge"}]}],
        "topic": {"text": "Hemgång"},
        "payload": [
            {"contentString": "Se bifogad epikris"},
            {
                "contentAttachment": {
                    "contentType": "application/pdf",
                    "title": "epikris.pdf",
                    "data": base64.b64encode(pdf).decode(),
                }
            },
        ],
    }
    sent = ehr.post("/fhir/r4/Communication", json.dumps(body), content_type=FHIR_JSON)
    assert sent.status_code == 201, sent.content
    message = valid(sent.json())
    reference = message["payload"][1]["contentReference"]["reference"]
    assert reference.startswith("DocumentReference/attachment-")
    document = valid(municipality.get(f"/fhir/r4/{reference}").json())
    assert document["context"]["related"] == [{"reference": f"Communication/{message['id']}"}]
    assert document["subject"]["reference"] == f"Patient/{person.pk}"
    assert document["content"][0]["attachment"]["title"] == "epikris.pdf"
    binary = valid(municipality.get(f"/fhir/r4/Binary/{reference.partition('/')[2]}").json())
    assert base64.b64decode(binary["data"]) == pdf
    listed = valid(municipality.get(f"/fhir/r4/DocumentReference?patient=Patient/{person.pk}").json())
    assert [e["resource"]["id"] for e in listed["entry"]] == [reference.partition("/")[2]]
    assert client(Role.SYSTEM, OTHER_WARD).get(f"/fhir/r4/{reference}").status_code == 404
