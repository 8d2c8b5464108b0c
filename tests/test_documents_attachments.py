"""Attachments (issue 7, part 1): type from content, size limits, SHA-256, clamd scanning, storage and the
access-checked, access-logged download. Every refusal leaves no row and no file behind."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import socket
import struct
import threading
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from brygga.access.models import AccessLogEntry, Involvement
from brygga.access.services import involve
from brygga.accounts.permissions import Role
from brygga.core.errors import DomainError, NotFound, PermissionDenied
from brygga.documents.attachments import add_attachment, open_attachment
from brygga.documents.models import Attachment
from tests.factories import OTHER_WARD, WARD, actor, make_person, unit

pytestmark = pytest.mark.django_db

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SAMPLES = {
    "application/pdf": PDF_BYTES,
    "image/png": b"\x89PNG\r\n\x1a\n" + b"\0" * 40,
    "image/jpeg": b"\xff\xd8\xff\xe0" + b"\0" * 40,
    "image/gif": b"GIF89a" + b"\0" * 40,
    "image/tiff": b"II*\x00" + b"\0" * 40,
    "image/bmp": b"BM" + struct.pack("<IHHI", 60, 0, 0, 54) + struct.pack("<I", 40) + b"\0" * 40,
}


@pytest.fixture(autouse=True)
def document_storage(isolated_documents: Path) -> Path:
    return isolated_documents / "documents"


def stored_files(location: Path) -> list[Path]:
    return [p for p in location.rglob("*") if p.is_file()] if location.exists() else []


@pytest.fixture
def nurse_and_person():  # type: ignore[no-untyped-def]
    nurse = actor(Role.WARD_NURSE, WARD)
    person = make_person()
    involve(person, unit(WARD), Involvement.Kind.OTHER, "test:1")
    return nurse, person


class FakeClamd:
    """A local TCP server speaking clamd's INSTREAM protocol: FOUND when the stream contains EICAR."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.received = b""
        self.command = b""
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _read(self, conn: socket.socket, n: int) -> bytes:
        data = b""
        while len(data) < n:
            part = conn.recv(n - len(data))
            if not part:
                raise ConnectionError
            data += part
        return data

    def _serve(self) -> None:
        conn, _ = self.sock.accept()
        with conn:
            self.command = self._read(conn, len(b"zINSTREAM\0"))
            while True:
                (length,) = struct.unpack(">I", self._read(conn, 4))
                if length == 0:
                    break
                self.received += self._read(conn, length)
            if b"EICAR" in self.received:
                conn.sendall(b"stream: Eicar-Test-Signature FOUND\0")
            else:
                conn.sendall(b"stream: OK\0")

    def close(self) -> None:
        self.sock.close()


def test_a_pdf_is_stored_with_its_sha256_and_the_upload_is_logged(nurse_and_person, document_storage) -> None:  # type: ignore[no-untyped-def]
    nurse, person = nurse_and_person
    upload = SimpleUploadedFile("../../utskrivning.pdf", PDF_BYTES, content_type="text/plain")
    attachment = add_attachment(nurse, person.pk, "person", str(person.pk), upload)
    assert attachment.content_type == "application/pdf"
    assert attachment.filename == "utskrivning.pdf"
    assert attachment.sha256 == hashlib.sha256(PDF_BYTES).hexdigest()
    assert attachment.size == len(PDF_BYTES) and attachment.scan == Attachment.Scan.NOT_SCANNED
    [path] = stored_files(document_storage)
    assert path.read_bytes() == PDF_BYTES and "utskrivning" not in str(path)
    entry = AccessLogEntry.objects.get(person=person, action=AccessLogEntry.Action.CREATE)
    assert entry.what == f"person:{person.pk}/bilaga" and entry.unit_label == WARD


@pytest.mark.parametrize("media_type", list(SAMPLES))
def test_every_allowed_type_is_recognised_from_its_content(nurse_and_person, media_type: str) -> None:  # type: ignore[no-untyped-def]
    """DOK-BIL-1: the type comes from the bytes, and the extension is set from it."""
    nurse, person = nurse_and_person
    attachment = add_attachment(
        nurse, person.pk, "person", str(person.pk), SimpleUploadedFile("fil.dat", SAMPLES[media_type])
    )
    assert attachment.content_type == media_type
    assert not attachment.filename.endswith(".dat")


@pytest.mark.parametrize(
    "name,content",
    [
        ("recept.pdf", b"just text pretending to be a PDF"),
        ("bild.png", b"MZ\x90\x00 an executable"),
        ("bild.bmp", b"BMW car brochure, plain text, not a bitmap"),
        ("sida.pdf", b"<html><script>alert(1)</script></html>"),
    ],
)
def test_content_that_is_not_an_allowed_type_is_refused_whatever_its_name(  # type: ignore[no-untyped-def]
    nurse_and_person, document_storage, name: str, content: bytes
) -> None:
    """DOK-BIL-1"""
    nurse, person = nurse_and_person
    with pytest.raises(DomainError) as exc:
        add_attachment(nurse, person.pk, "person", str(person.pk), SimpleUploadedFile(name, content))
    assert exc.value.problems[0].rule == "DOK-BIL-1" and exc.value.problems[0].field == "file"
    assert not Attachment.objects.exists() and stored_files(document_storage) == []


def test_an_oversize_file_is_refused(nurse_and_person, document_storage, settings) -> None:  # type: ignore[no-untyped-def]
    """DOK-BIL-2: the per-file limit is a setting (default 50 MB, MedCom)."""
    assert settings.BRYGGA_ATTACHMENT_MAX_BYTES == 50 * 1024 * 1024
    settings.BRYGGA_ATTACHMENT_MAX_BYTES = 100
    nurse, person = nurse_and_person
    with pytest.raises(DomainError) as exc:
        add_attachment(nurse, person.pk, "person", str(person.pk), SimpleUploadedFile("a.pdf", PDF_BYTES * 3))
    assert exc.value.problems[0].rule == "DOK-BIL-2"
    assert not Attachment.objects.exists() and stored_files(document_storage) == []


def test_attachments_of_one_message_together_stay_within_the_message_limit(
    nurse_and_person, settings
) -> None:  # type: ignore[no-untyped-def]
    """DOK-BIL-3"""
    settings.BRYGGA_ATTACHMENT_MAX_TOTAL_BYTES = len(PDF_BYTES) * 2
    nurse, person = nurse_and_person
    for _ in range(2):
        add_attachment(nurse, person.pk, "person", str(person.pk), SimpleUploadedFile("a.pdf", PDF_BYTES))
    with pytest.raises(DomainError) as exc:
        add_attachment(nurse, person.pk, "person", str(person.pk), SimpleUploadedFile("a.pdf", PDF_BYTES))
    assert exc.value.problems[0].rule == "DOK-BIL-3"
    assert Attachment.objects.count() == 2


def test_a_clean_scan_is_recorded_and_the_scanner_got_the_whole_file(nurse_and_person, settings) -> None:  # type: ignore[no-untyped-def]
    clamd = FakeClamd()
    settings.BRYGGA_CLAMAV_HOST, settings.BRYGGA_CLAMAV_PORT = "127.0.0.1", clamd.port
    nurse, person = nurse_and_person
    big = PDF_BYTES + b"0" * 200_000  # several INSTREAM chunks
    attachment = add_attachment(nurse, person.pk, "person", str(person.pk), SimpleUploadedFile("a.pdf", big))
    clamd.thread.join(5)
    clamd.close()
    assert clamd.command == b"zINSTREAM\0" and clamd.received == big
    assert attachment.scan == Attachment.Scan.CLEAN


def test_malware_found_by_the_scanner_is_refused(nurse_and_person, document_storage, settings) -> None:  # type: ignore[no-untyped-def]
    """DOK-BIL-4"""
    clamd = FakeClamd()
    settings.BRYGGA_CLAMAV_HOST, settings.BRYGGA_CLAMAV_PORT = "127.0.0.1", clamd.port
    nurse, person = nurse_and_person
    infected = PDF_BYTES + b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
    with pytest.raises(DomainError) as exc:
        add_attachment(nurse, person.pk, "person", str(person.pk), SimpleUploadedFile("a.pdf", infected))
    clamd.close()
    assert (
        exc.value.problems[0].rule == "DOK-BIL-4" and "Eicar-Test-Signature" in exc.value.problems[0].message
    )
    assert not Attachment.objects.exists() and stored_files(document_storage) == []


def test_a_configured_but_unreachable_scanner_refuses_the_upload(
    nurse_and_person, document_storage, settings
) -> None:  # type: ignore[no-untyped-def]
    """DOK-BIL-5: refusal, not silent acceptance."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    settings.BRYGGA_CLAMAV_HOST, settings.BRYGGA_CLAMAV_PORT, settings.BRYGGA_CLAMAV_TIMEOUT = (
        "127.0.0.1",
        port,
        2,
    )
    nurse, person = nurse_and_person
    with pytest.raises(DomainError) as exc:
        add_attachment(nurse, person.pk, "person", str(person.pk), SimpleUploadedFile("a.pdf", PDF_BYTES))
    assert exc.value.problems[0].rule == "DOK-BIL-5" and exc.value.status == 503
    assert not Attachment.objects.exists() and stored_files(document_storage) == []


def test_an_unknown_owner_or_another_persons_owner_is_refused(nurse_and_person) -> None:  # type: ignore[no-untyped-def]
    nurse, person = nurse_and_person
    for owner_type, owner_id in [("okand", "1"), ("person", str(person.pk + 1000))]:
        with pytest.raises(DomainError) as exc:
            add_attachment(nurse, person.pk, owner_type, owner_id, SimpleUploadedFile("a.pdf", PDF_BYTES))
        assert exc.value.problems[0].rule == "DOK-AGARE"
    assert not Attachment.objects.exists()


def test_a_unit_without_involvement_can_neither_attach_nor_download(nurse_and_person) -> None:  # type: ignore[no-untyped-def]
    nurse, person = nurse_and_person
    attachment = add_attachment(
        nurse, person.pk, "person", str(person.pk), SimpleUploadedFile("a.pdf", PDF_BYTES)
    )
    stranger = actor(Role.WARD_NURSE, OTHER_WARD)
    with pytest.raises(NotFound):
        add_attachment(stranger, person.pk, "person", str(person.pk), SimpleUploadedFile("b.pdf", PDF_BYTES))
    with pytest.raises(NotFound):
        open_attachment(stranger, attachment.pk)
    with pytest.raises(NotFound):
        open_attachment(nurse, attachment.pk + 999)
    assert Attachment.objects.count() == 1
    assert not AccessLogEntry.objects.filter(unit=unit(OTHER_WARD)).exists()


def test_a_read_only_role_may_not_attach(nurse_and_person) -> None:  # type: ignore[no-untyped-def]
    _nurse, person = nurse_and_person
    reader = actor(Role.READ_ONLY, WARD)
    with pytest.raises(PermissionDenied):
        add_attachment(reader, person.pk, "person", str(person.pk), SimpleUploadedFile("a.pdf", PDF_BYTES))
    assert not Attachment.objects.exists()


def test_opening_an_attachment_is_access_logged(nurse_and_person) -> None:  # type: ignore[no-untyped-def]
    nurse, person = nurse_and_person
    attachment = add_attachment(
        nurse, person.pk, "person", str(person.pk), SimpleUploadedFile("a.pdf", PDF_BYTES)
    )
    opened = open_attachment(nurse, attachment.pk)
    assert opened.file.read() == PDF_BYTES
    assert (
        AccessLogEntry.objects.filter(person=person, what=f"bilaga:{attachment.pk}", action="read").count()
        == 1
    )


def test_owners_from_the_cases_and_sip_apps_are_checked_against_the_person(nurse_and_person) -> None:  # type: ignore[no-untyped-def]
    """An existing owner of another person is refused, just like an unknown one (DOK-AGARE)."""
    from brygga.documents.owners import _OWNERS

    nurse, person = nurse_and_person
    assert {"person", "case", "message", "sip", "care_request"} <= set(_OWNERS)
    for owner_type in ("case", "message", "sip", "care_request"):
        with pytest.raises(DomainError) as exc:
            add_attachment(nurse, person.pk, owner_type, "999999", SimpleUploadedFile("a.pdf", PDF_BYTES))
        assert exc.value.problems[0].rule == "DOK-AGARE"
    assert not Attachment.objects.exists()


def test_files_left_behind_by_a_rolled_back_transaction_are_cleaned_up(
    nurse_and_person, document_storage
) -> None:  # type: ignore[no-untyped-def]
    from django.db import transaction

    from brygga.documents.storage import orphaned_files, remove_orphans

    nurse, person = nurse_and_person
    kept = add_attachment(nurse, person.pk, "person", str(person.pk), SimpleUploadedFile("a.pdf", PDF_BYTES))
    with pytest.raises(RuntimeError), transaction.atomic():
        add_attachment(nurse, person.pk, "person", str(person.pk), SimpleUploadedFile("b.pdf", PDF_BYTES))
        raise RuntimeError("the request failed after the upload")
    assert Attachment.objects.count() == 1 and len(stored_files(document_storage)) == 2
    [orphan] = orphaned_files()
    assert orphan != kept.file.name
    # The file's time comes from the kernel; under CI's shifted clock (faketime) it would look 400 days old.
    written = timezone.now().timestamp()
    os.utime(document_storage / orphan, (written, written))
    assert remove_orphans() == []  # within the grace period: maybe a transaction still in flight
    assert remove_orphans(now=timezone.now() + dt.timedelta(hours=2)) == [orphan]
    assert kept.file.name is not None
    assert [p.name for p in stored_files(document_storage)] == [Path(kept.file.name).name]
