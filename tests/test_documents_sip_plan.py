"""Signing a SIP (issue 7 part 2 with issue 4): the established plan for the person is frozen as a document
version and signed (PAdES) by the participants; a new SIP version needs new signatures; only an established
plan can be signed; a unit outside the SIP gets "not found" and nothing is written. Also the links from the
person, case, SIP and care-request pages to the person's documents."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest
import time_machine
from django.test import Client

from brygga.access.models import Involvement
from brygga.access.services import involve
from brygga.accounts.permissions import Role
from brygga.core.errors import DomainError, NotFound
from brygga.documents.models import Document, DocumentVersion, Signature
from brygga.documents.signed import sign_version, verify_version
from brygga.sip import pdf, services, signing
from brygga.sip.models import Sip
from tests.factories import OTHER_WARD, PRIMARY_CARE, actor, make_person, unit
from tests.test_sip import HOME, T0, draft_content, established_sip, prepared_sip

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def isolated_files(isolated_documents: Path) -> Path:
    return isolated_documents


@pytest.fixture
def person():  # type: ignore[no-untyped-def]
    p = make_person("1480")
    involve(p, unit(PRIMARY_CARE), Involvement.Kind.OTHER, "test:listning", at=T0 - dt.timedelta(days=30))
    return p


@pytest.fixture
def vc():  # type: ignore[no-untyped-def]
    return actor(Role.CARE_COORDINATOR, PRIMARY_CARE, username="vc-signer")


@pytest.fixture
def home():  # type: ignore[no-untyped-def]
    return actor(Role.HOME_CARE_NURSE, HOME, username="home-signer")


def _stored(version: DocumentVersion) -> bytes:
    version.refresh_from_db()
    with version.pdf.open("rb") as handle:
        return handle.read()


def test_a_draft_plan_cannot_be_signed_and_nothing_is_written(vc, person) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(T0, tick=False):
        sip = prepared_sip(vc, person)
    with pytest.raises(DomainError) as exc:
        signing.plan_document(vc, sip.pk)
    assert exc.value.problems[0].rule == "DOK-SIG-7" and exc.value.problems[0].field == "version"
    assert not Document.objects.exists() and not DocumentVersion.objects.exists()


def test_established_plan_is_frozen_as_the_persons_pdf_and_signed_by_two_participants(  # type: ignore[no-untyped-def]
    vc, home, person
) -> None:
    sip = established_sip(vc, person)
    version = signing.plan_document(vc, sip.pk)
    document = version.document
    assert (document.owner_type, document.owner_id, document.person_id) == (
        "sip_plan",
        str(sip.pk),
        person.pk,
    )
    # The frozen PDF is the plan for the person, not a text rendering of it.
    rendered = pdf.render_plan(sip, sip.current_version())
    assert version.unsigned_sha256 == hashlib.sha256(rendered).hexdigest()
    assert "Det här är viktigt för dig" in version.body and "Sårvård två gånger i veckan" in version.body
    # A retry (double click, reload) returns the same version, never a second copy.
    assert signing.plan_document(vc, sip.pk).pk == version.pk
    assert Document.objects.count() == 1 and DocumentVersion.objects.count() == 1

    sign_version(vc, version.pk)
    sign_version(home, version.pk)
    _version, report = verify_version(home, version.pk)
    assert report.valid and [s.signer_unit for s in report.signatures] == [PRIMARY_CARE, HOME]
    status = signing.plan_signatures(Sip.objects.get(pk=sip.pk))
    assert status is not None and status.covers_current and status.signers == 2


def test_a_new_sip_version_needs_new_signatures_and_the_old_stays_valid(vc, home, person) -> None:  # type: ignore[no-untyped-def]
    sip = established_sip(vc, person)
    first = signing.plan_document(vc, sip.pk)
    sign_version(vc, first.pk)
    signed_first = _stored(first)
    with time_machine.travel(T0 + dt.timedelta(days=10), tick=False):
        services.start_revision(vc, sip)
        content = draft_content(sip, what_matters="Att kunna gå i trappan själv.")
        services.save_draft(vc, sip, **content, change_reason="Nytt mål efter uppföljning")
        services.establish(vc, sip)
    sip.refresh_from_db()
    before = signing.plan_signatures(sip)
    assert before is not None and not before.covers_current and before.signers == 1

    second = signing.plan_document(home, sip.pk)
    assert second.document_id == first.document_id and second.number == 2
    assert "Att kunna gå i trappan själv." in second.body
    assert not second.signatures.exists()
    # The earlier version can no longer be signed, and its file and signature are untouched.
    with pytest.raises(DomainError) as exc:
        sign_version(home, first.pk)
    assert exc.value.problems[0].rule == "DOK-SIG-2"
    assert _stored(first) == signed_first and Signature.objects.filter(version=first).count() == 1
    _v, report = verify_version(vc, first.pk)
    assert report.valid


def test_the_plan_document_is_not_edited_as_free_text_dok_sig_8(vc, person) -> None:  # type: ignore[no-untyped-def]
    from brygga.documents.signed import revise_document

    sip = established_sip(vc, person)
    version = signing.plan_document(vc, sip.pk)
    with pytest.raises(DomainError) as exc:
        revise_document(vc, version.document_id, "Annan rubrik", "Annan text")
    assert exc.value.problems[0].rule == "DOK-SIG-8"
    assert DocumentVersion.objects.filter(document_id=version.document_id).count() == 1


def test_a_unit_outside_the_sip_gets_not_found_and_nothing_is_written(vc, person) -> None:  # type: ignore[no-untyped-def]
    sip = established_sip(vc, person)
    stranger = actor(Role.WARD_NURSE, OTHER_WARD, username="stranger")
    with pytest.raises(NotFound):
        signing.plan_document(stranger, sip.pk)
    assert not Document.objects.exists()


def test_sip_page_offers_signing_and_the_button_leads_to_the_signable_document(  # type: ignore[no-untyped-def]
    vc, person
) -> None:
    sip = established_sip(vc, person)
    client = Client()
    client.force_login(vc.user)
    page = client.get(f"/sip/{sip.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Underteckna planen" in html and "Gällande version är inte undertecknad" in html
    assert f"/dokument/person/{person.pk}/?owner_type=sip&amp;owner_id={sip.pk}" in html

    response = client.post(f"/sip/{sip.pk}/underteckna/")
    document = Document.objects.get(owner_type="sip_plan", owner_id=str(sip.pk))
    assert response.status_code == 302 and response["Location"] == f"/dokument/{document.pk}/"
    document_page = client.get(response["Location"])
    assert document_page.status_code == 200 and "Underteckna version 1" in document_page.content.decode()


def test_person_page_links_to_documents_and_consents(vc, person) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(vc.user)
    html = client.get(f"/personer/{person.pk}/").content.decode()
    assert f'href="/dokument/person/{person.pk}/"' in html
    assert f'href="/sip/samtycke/{person.pk}/"' in html


def test_case_and_care_request_pages_link_to_their_documents(vc, person) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import WARD
    from tests.test_sip import _discharge_case, care_request_fields, give_consent

    case = _discharge_case(person)
    nurse = actor(Role.WARD_NURSE, WARD, username="ward-linker")
    client = Client()
    client.force_login(nurse.user)
    html = client.get(f"/arenden/{case.pk}/").content.decode()
    assert f"/dokument/person/{person.pk}/?owner_type=case&amp;owner_id={case.pk}" in html

    with time_machine.travel(T0, tick=False):
        give_consent(vc, person)
        request = services.send_care_request(vc, person, **care_request_fields())
    client.force_login(vc.user)
    html = client.get(f"/sip/vardbegaran/{request.pk}/").content.decode()
    assert f"/dokument/person/{person.pk}/?owner_type=care_request&amp;owner_id={request.pk}" in html
