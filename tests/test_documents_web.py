"""The documents pages and API: upload and access-checked download, sign and verify, extracts, and the
backup routine, through the browser's forms and through the JSON API with a token."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from brygga.access.models import AccessLogEntry, Involvement
from brygga.access.services import involve
from brygga.accounts.models import ApiToken
from brygga.accounts.permissions import Role
from brygga.documents.models import Attachment, BackupSnapshot, Document, PaperRecord, Signature
from tests.factories import OTHER_WARD, WARD, actor, make_person, unit

pytestmark = pytest.mark.django_db

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def isolated_files(isolated_documents: Path) -> Path:
    return isolated_documents


def logged_in(role: Role, unit_name: str, username: str) -> Client:
    act = actor(role, unit_name, username=username)
    client = Client()
    client.force_login(act.user)
    return client


@pytest.fixture
def person():  # type: ignore[no-untyped-def]
    p = make_person()
    involve(p, unit(WARD), Involvement.Kind.SIP, "sip:9")
    return p


def test_upload_then_download_through_the_checked_view(person) -> None:  # type: ignore[no-untyped-def]
    client = logged_in(Role.WARD_NURSE, WARD, "nurse")
    page = client.get(reverse("documents:person", args=[person.pk]))
    assert page.status_code == 200 and "Bifoga" in page.content.decode()
    response = client.post(
        reverse("documents:upload", args=[person.pk]), {"file": SimpleUploadedFile("remiss.pdf", PDF_BYTES)}
    )
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    download = client.get(reverse("documents:download", args=[attachment.pk]))
    # a streamed file; getvalue() of a streaming response joins its streaming_content
    assert download.status_code == 200 and download.streaming and download.getvalue() == PDF_BYTES
    assert download["Content-Type"] == "application/pdf" and "attachment" in download["Content-Disposition"]
    assert AccessLogEntry.objects.filter(person=person, what=f"bilaga:{attachment.pk}").exists()


def test_a_refused_upload_shows_the_rule_and_stores_nothing(person) -> None:  # type: ignore[no-untyped-def]
    client = logged_in(Role.WARD_NURSE, WARD, "nurse")
    response = client.post(
        reverse("documents:upload", args=[person.pk]), {"file": SimpleUploadedFile("x.pdf", b"plain text")}
    )
    assert response.status_code == 400 and "DOK-BIL-1" in response.content.decode()
    assert not Attachment.objects.exists()


def test_another_unit_gets_404_for_the_page_and_the_file(person) -> None:  # type: ignore[no-untyped-def]
    nurse = logged_in(Role.WARD_NURSE, WARD, "nurse")
    nurse.post(
        reverse("documents:upload", args=[person.pk]), {"file": SimpleUploadedFile("a.pdf", PDF_BYTES)}
    )
    attachment = Attachment.objects.get()
    other = logged_in(Role.WARD_NURSE, OTHER_WARD, "other")
    assert other.get(reverse("documents:download", args=[attachment.pk])).status_code == 404
    assert other.get(reverse("documents:person", args=[person.pk])).status_code == 404


def test_create_sign_and_see_a_valid_signature_then_check_a_tampered_copy(person) -> None:  # type: ignore[no-untyped-def]
    client = logged_in(Role.WARD_NURSE, WARD, "nurse")
    response = client.post(
        reverse("documents:create", args=[person.pk]), {"title": "SIP", "body": "Mål och insatser."}
    )
    document = Document.objects.get()
    assert response.status_code == 302
    version = document.current
    assert client.post(reverse("documents:sign", args=[version.pk])).status_code == 302
    page = client.get(reverse("documents:document", args=[document.pk])).content.decode()
    assert "Giltig underskrift" in page and Signature.objects.count() == 1
    signed_pdf = client.get(reverse("documents:version_pdf", args=[version.pk])).content
    ok = client.post(reverse("documents:verify"), {"file": SimpleUploadedFile("sip.pdf", signed_pdf)})
    assert "Alla underskrifter är giltiga" in ok.content.decode()
    tampered = bytearray(signed_pdf)
    offset = signed_pdf.index(b"/MediaBox") + 12
    tampered[offset] = ord("9") if tampered[offset] != ord("9") else ord("8")
    bad = client.post(reverse("documents:verify"), {"file": SimpleUploadedFile("sip.pdf", bytes(tampered))})
    assert "Ogiltig underskrift" in bad.content.decode()


def test_signing_a_superseded_version_shows_the_rule(person) -> None:  # type: ignore[no-untyped-def]
    client = logged_in(Role.WARD_NURSE, WARD, "nurse")
    client.post(reverse("documents:create", args=[person.pk]), {"title": "SIP", "body": "Ett."})
    document = Document.objects.get()
    first = document.current
    client.post(reverse("documents:revise", args=[document.pk]), {"title": "SIP", "body": "Två."})
    response = client.post(reverse("documents:sign", args=[first.pk]))
    assert response.status_code == 400 and "DOK-SIG-2" in response.content.decode()
    assert not Signature.objects.exists()


def test_extract_request_page_registers_and_produces_a_pdf(person) -> None:  # type: ignore[no-untyped-def]
    client = logged_in(Role.LOG_REVIEWER, WARD, "reviewer")
    response = client.post(
        reverse("documents:extract_requests"),
        {"person": person.identifier, "kind": "log", "received_on": timezone.localdate().isoformat()},
    )
    assert response.status_code == 302
    listing = client.get(reverse("documents:extract_requests")).content.decode()
    assert person.formatted_identifier in listing
    pdf = client.post(response.url + "pdf")  # type: ignore[attr-defined]
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    bad = client.post(
        reverse("documents:extract_requests"), {"person": "x", "kind": "log", "received_on": ""}
    )
    assert bad.status_code == 400 and "R-REG-1" in bad.content.decode()


def test_backup_page_shows_the_passphrase_and_downloads_a_fresh_snapshot(person) -> None:  # type: ignore[no-untyped-def]
    client = logged_in(Role.WARD_NURSE, WARD, "nurse")
    page = client.get(reverse("documents:backups"))
    assert page.status_code == 200 and "Enhetens lösenfras" in page.content.decode()
    response = client.post(reverse("documents:backup_now"), follow=True)
    assert response.status_code == 200 and response.content.startswith(b"%PDF-")
    snapshot = BackupSnapshot.objects.get()
    other = logged_in(Role.WARD_NURSE, OTHER_WARD, "other")
    assert other.get(reverse("documents:backup_download", args=[snapshot.pk])).status_code == 404


def test_paper_record_form_registers_and_the_person_page_marks_it(person) -> None:  # type: ignore[no-untyped-def]
    client = logged_in(Role.WARD_NURSE, WARD, "nurse")
    occurred = (timezone.localtime() - dt.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        reverse("documents:paper_record", args=[person.pk]),
        {"occurred_at": occurred, "summary": "Utskrivningsklar meddelad per telefon."},
    )
    assert response.status_code == 302 and PaperRecord.objects.count() == 1
    page = client.get(reverse("documents:person", args=[person.pk])).content.decode()
    assert "Pappersrutin" in page and "registrerat i efterhand" in page


def test_api_attach_sign_verify_with_a_token(person) -> None:  # type: ignore[no-untyped-def]
    nurse = actor(Role.WARD_NURSE, WARD, username="api-nurse")
    assert nurse.membership is not None
    _token, raw = ApiToken.issue(nurse.membership, "test")
    auth: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    client = Client()
    created = client.post(
        "/api/v1/documents/attachments",
        {"person_id": person.pk, "file": SimpleUploadedFile("a.pdf", PDF_BYTES)},
        **auth,
    )
    assert created.status_code == 201, created.content
    assert created.json()["content_type"] == "application/pdf"
    refused = client.post(
        "/api/v1/documents/attachments",
        {"person_id": person.pk, "file": SimpleUploadedFile("a.pdf", b"not a pdf")},
        **auth,
    )
    assert refused.status_code == 400 and refused.json()["problems"][0]["rule"] == "DOK-BIL-1"
    doc = client.post(
        "/api/v1/documents/documents",
        {"person_id": person.pk, "title": "Epikris", "body": "Text."},
        content_type="application/json",
        **auth,
    )
    assert doc.status_code == 201
    version_id = doc.json()["id"]
    signing = client.post(
        f"/api/v1/documents/versions/{version_id}/signatures", {}, content_type="application/json", **auth
    )
    assert signing.status_code == 201
    report = client.get(f"/api/v1/documents/versions/{version_id}/verification", **auth).json()
    assert report["valid"] and report["signatures"][0]["signer_unit"] == WARD
    stranger = actor(Role.WARD_NURSE, OTHER_WARD, username="api-other")
    _t, other_raw = ApiToken.issue(stranger.membership, "test")  # type: ignore[arg-type]
    response = client.get(
        f"/api/v1/documents/versions/{version_id}/verification", HTTP_AUTHORIZATION=f"Bearer {other_raw}"
    )
    assert response.status_code == 404
