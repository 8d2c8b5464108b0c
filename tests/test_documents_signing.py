"""Signing (issue 7, part 2): render to PDF, PAdES by several users, frozen versions, verification, and
tampering detected."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from brygga.access.models import AccessLogEntry, Involvement
from brygga.access.services import involve
from brygga.accounts.permissions import Role
from brygga.core.errors import DomainError, NotFound, PermissionDenied
from brygga.documents.models import Document, DocumentVersion, Signature
from brygga.documents.signed import create_document, revise_document, sign_version, verify_version
from brygga.documents.signing import IneraSigner, LocalCertificateAuthority, verify_pdf
from tests.factories import CONTACT_POINT, OTHER_WARD, WARD, actor, make_person, unit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def isolated_files(isolated_documents: Path) -> Path:
    return isolated_documents


@pytest.fixture
def people():  # type: ignore[no-untyped-def]
    person = make_person()
    involve(person, unit(WARD), Involvement.Kind.SIP, "sip:1")
    involve(person, unit(CONTACT_POINT), Involvement.Kind.SIP, "sip:1")
    nurse = actor(Role.WARD_NURSE, WARD, username="nurse")
    nurse.user.first_name, nurse.user.last_name, nurse.user.hsa_id = (
        "Stina",
        "Sköterska",
        "SE2321000131-P000000000001",
    )
    nurse.user.save()
    contact = actor(Role.MUNICIPAL_CONTACT, CONTACT_POINT, username="contact")
    return person, nurse, contact


def pdf_bytes(version: DocumentVersion) -> bytes:
    version.refresh_from_db()
    with version.pdf.open("rb") as handle:
        return handle.read()


def test_sign_by_two_users_and_verify_who_signed_and_when(people) -> None:  # type: ignore[no-untyped-def]
    person, nurse, contact = people
    version = create_document(
        nurse, person.pk, "person", str(person.pk), "SIP", "Mål: trygg hemgång.\n\nInsatser: hemtjänst."
    )
    assert pdf_bytes(version).startswith(b"%PDF-")
    sign_version(nurse, version.pk)
    sign_version(contact, version.pk)
    _version, report = verify_version(nurse, version.pk)
    assert report.valid and len(report.signatures) == 2
    first, second = report.signatures
    assert first.signer_name == "Stina Sköterska" and first.signer_identifier == "SE2321000131-P000000000001"
    assert first.signer_unit == WARD and second.signer_unit == CONTACT_POINT
    assert first.signed_at is not None and all(s.valid and s.intact and s.trusted for s in report.signatures)
    assert list(Signature.objects.filter(version=version).values_list("field_name", flat=True)) == [
        "Underskrift1",
        "Underskrift2",
    ]
    assert AccessLogEntry.objects.filter(person=person, what__endswith="/underskrift").count() == 2


def test_a_changed_byte_in_a_signed_pdf_is_detected(people) -> None:  # type: ignore[no-untyped-def]
    """Tampering: every signature whose signed bytes changed is reported invalid."""
    person, nurse, contact = people
    version = create_document(nurse, person.pk, "person", str(person.pk), "SIP", "Text som ska skyddas.")
    sign_version(nurse, version.pk)
    sign_version(contact, version.pk)
    signed = pdf_bytes(version)
    assert verify_pdf(signed).valid
    tampered = bytearray(signed)
    offset = signed.index(b"/MediaBox")  # in the first revision, covered by both signatures
    tampered[offset + 12] = ord("9") if tampered[offset + 12] != ord("9") else ord("8")
    report = verify_pdf(bytes(tampered))
    assert not report.valid
    assert all(not s.valid for s in report.signatures) and all(s.problem for s in report.signatures)


def test_an_update_appended_after_signing_makes_the_signature_invalid(people) -> None:  # type: ignore[no-untyped-def]
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    person, nurse, _contact = people
    version = create_document(nurse, person.pk, "person", str(person.pk), "SIP", "Originaltext.")
    sign_version(nurse, version.pk)
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf_bytes(version)))
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    stream = generic.StreamObject(stream_data=b"BT /F1 24 Tf 100 100 Td (ANDRAD) Tj ET")
    page["/Contents"] = writer.add_object(stream)
    writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)
    report = verify_pdf(out.getvalue())
    assert not report.valid and report.signatures[0].intact and not report.signatures[0].covers_document


def test_a_signature_from_another_ca_is_not_trusted(people, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from brygga.documents.signing import LocalSigner, SignerIdentity

    person, nurse, _contact = people
    version = create_document(nurse, person.pk, "person", str(person.pk), "SIP", "Text.")
    foreign = LocalSigner(tmp_path / "foreign-ca")
    signed = foreign.sign(pdf_bytes(version), SignerIdentity("Falsk", "x", "y", "z", "o"), "Sig", "test")
    report = verify_pdf(signed)
    assert not report.valid and not report.signatures[0].trusted and report.signatures[0].intact


def test_a_signed_version_is_frozen_and_an_edit_needs_new_signatures(people) -> None:  # type: ignore[no-untyped-def]
    """DOK-SIG-2: the old version cannot be signed once a newer exists; the new one starts unsigned."""
    person, nurse, contact = people
    v1 = create_document(nurse, person.pk, "person", str(person.pk), "SIP", "Version ett.")
    sign_version(nurse, v1.pk)
    v1_bytes = pdf_bytes(v1)
    v2 = revise_document(contact, v1.document_id, "SIP", "Version två.")
    assert v2.number == 2 and not v2.frozen and v1.frozen
    assert pdf_bytes(v1) == v1_bytes  # the signed version is untouched
    with pytest.raises(DomainError) as exc:
        sign_version(contact, v1.pk)
    assert exc.value.problems[0].rule == "DOK-SIG-2"
    assert Signature.objects.filter(version=v1).count() == 1
    _v, report = verify_version(nurse, v2.pk)
    assert not report.valid and report.problem
    sign_version(contact, v2.pk)
    assert verify_version(nurse, v2.pk)[1].valid


def test_signing_twice_is_refused(people) -> None:  # type: ignore[no-untyped-def]
    """DOK-SIG-3"""
    person, nurse, _contact = people
    version = create_document(nurse, person.pk, "person", str(person.pk), "SIP", "Text.")
    sign_version(nurse, version.pk)
    before = pdf_bytes(version)
    with pytest.raises(DomainError) as exc:
        sign_version(nurse, version.pk)
    assert exc.value.problems[0].rule == "DOK-SIG-3"
    assert pdf_bytes(version) == before and Signature.objects.count() == 1


def test_a_stored_file_changed_behind_bryggas_back_is_not_signed_and_is_reported(people) -> None:  # type: ignore[no-untyped-def]
    """DOK-SIG-4"""
    person, nurse, contact = people
    version = create_document(nurse, person.pk, "person", str(person.pk), "SIP", "Text.")
    sign_version(nurse, version.pk)
    version.refresh_from_db()
    path = Path(version.pdf.path)
    path.write_bytes(path.read_bytes() + b"\n% appended\n")
    with pytest.raises(DomainError) as exc:
        sign_version(contact, version.pk)
    assert exc.value.problems[0].rule == "DOK-SIG-4"
    assert not verify_version(nurse, version.pk)[1].valid
    assert Signature.objects.count() == 1


def test_a_document_the_unit_may_not_see_cannot_be_signed_or_verified(people) -> None:  # type: ignore[no-untyped-def]
    person, nurse, _contact = people
    version = create_document(nurse, person.pk, "person", str(person.pk), "SIP", "Text.")
    stranger = actor(Role.WARD_NURSE, OTHER_WARD)
    with pytest.raises(NotFound):
        sign_version(stranger, version.pk)
    with pytest.raises(NotFound):
        verify_version(stranger, version.pk)
    with pytest.raises(NotFound):
        revise_document(stranger, version.document_id, "x", "y")
    assert not Signature.objects.exists() and DocumentVersion.objects.count() == 1


def test_roles_without_the_sign_permission_and_empty_documents_are_refused(people) -> None:  # type: ignore[no-untyped-def]
    """DOK-SIG-1"""
    person, nurse, _contact = people
    with pytest.raises(PermissionDenied):
        create_document(actor(Role.READ_ONLY, WARD), person.pk, "person", str(person.pk), "SIP", "Text.")
    with pytest.raises(DomainError) as exc:
        create_document(nurse, person.pk, "person", str(person.pk), " ", "")
    assert {p.field for p in exc.value.problems} == {"title", "body"}
    assert {p.rule for p in exc.value.problems} == {"DOK-SIG-1"}
    assert not Document.objects.exists()


def test_the_inera_adapter_refuses_instead_of_leaving_an_unsigned_document(people, settings) -> None:  # type: ignore[no-untyped-def]
    """DOK-SIG-5"""
    person, nurse, _contact = people
    version = create_document(nurse, person.pk, "person", str(person.pk), "SIP", "Text.")
    settings.BRYGGA_SIGNER = "inera"
    with pytest.raises(DomainError) as exc:
        sign_version(nurse, version.pk)
    assert exc.value.problems[0].rule == "DOK-SIG-5" and exc.value.status == 503
    assert not Signature.objects.exists() and IneraSigner().trust_roots() == []


def test_the_local_ca_is_created_once_with_a_private_key_only_the_owner_can_read(isolated_files) -> None:  # type: ignore[no-untyped-def]
    ca = LocalCertificateAuthority(isolated_files / "ca")
    first = ca.certificate()
    assert (ca.key_path.stat().st_mode & 0o777) == 0o600
    assert LocalCertificateAuthority(isolated_files / "ca").certificate() == first
