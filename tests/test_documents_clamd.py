"""Virus scanning against the real ClamAV daemon (issue 16, part 1): clean, infected, scanner down, time-out,
and the fail-closed default outside debug (DOK-BIL-4, DOK-BIL-5). Every refusal stores no row and no file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from brygga.access.models import Involvement
from brygga.access.services import involve
from brygga.accounts.permissions import Role
from brygga.core.errors import DomainError
from brygga.documents.attachments import add_attachment
from brygga.documents.models import Attachment
from brygga.documents.scanning import ScannerUnavailable, scan_stream
from tests.factories import WARD, actor, make_person, unit
from tests.services.clamd import EICAR, SIGNATURE, Clamd

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
# A PDF that carries the EICAR test string in a comment: of an allowed type, so only the scanner stops it.
INFECTED_PDF = b"%PDF-1.4\n%" + EICAR + b"\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(scope="module")
def clamd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clamd]:
    daemon = Clamd(tmp_path_factory.mktemp("clamd"))
    yield daemon
    daemon.stop()


@pytest.fixture
def scanning(settings, clamd: Clamd, isolated_documents: Path) -> Clamd:  # type: ignore[no-untyped-def]
    settings.BRYGGA_CLAMAV_SOCKET = clamd.socket
    settings.BRYGGA_CLAMAV_TIMEOUT = 10
    settings.BRYGGA_REQUIRE_VIRUS_SCAN = True
    return clamd


@pytest.fixture
def nurse_and_person():  # type: ignore[no-untyped-def]
    nurse = actor(Role.WARD_NURSE, WARD)
    person = make_person()
    involve(person, unit(WARD), Involvement.Kind.OTHER, "test:1")
    return nurse, person


def stored_files(folder: Path) -> list[Path]:
    location = folder / "documents"
    return [p for p in location.rglob("*") if p.is_file()] if location.exists() else []


def test_clamd_answers_ok_for_a_clean_stream_and_found_for_eicar(scanning: Clamd) -> None:
    assert scan_stream([PDF]).clean
    result = scan_stream([b"%PDF-1.4\n", EICAR[:20], EICAR[20:]])  # split across chunks
    assert not result.clean and result.signature.startswith(SIGNATURE)


def test_a_clean_pdf_is_stored_marked_scanned_clean(scanning: Clamd, nurse_and_person) -> None:  # type: ignore[no-untyped-def]
    nurse, person = nurse_and_person
    attachment = add_attachment(
        nurse, person.pk, "person", str(person.pk), SimpleUploadedFile("epikris.pdf", PDF * 2000)
    )
    assert attachment.scan == Attachment.Scan.CLEAN


def test_dok_bil_4_an_infected_pdf_is_refused_and_nothing_is_stored(  # type: ignore[no-untyped-def]
    scanning: Clamd, nurse_and_person, isolated_documents: Path
) -> None:
    nurse, person = nurse_and_person
    with pytest.raises(DomainError) as refused:
        add_attachment(nurse, person.pk, "person", str(person.pk), SimpleUploadedFile("x.pdf", INFECTED_PDF))
    problem = refused.value.problems[0]
    assert problem.rule == "DOK-BIL-4" and SIGNATURE in problem.message
    assert not Attachment.objects.exists() and stored_files(isolated_documents) == []


def test_dok_bil_5_a_scanner_that_is_down_refuses_the_upload(  # type: ignore[no-untyped-def]
    settings, scanning: Clamd, nurse_and_person, isolated_documents: Path, tmp_path: Path
) -> None:
    settings.BRYGGA_CLAMAV_SOCKET = str(tmp_path / "no-clamd-here.sock")
    nurse, person = nurse_and_person
    with pytest.raises(DomainError) as refused:
        add_attachment(nurse, person.pk, "person", str(person.pk), SimpleUploadedFile("x.pdf", PDF))
    assert refused.value.problems[0].rule == "DOK-BIL-5" and refused.value.status == 503
    assert not Attachment.objects.exists() and stored_files(isolated_documents) == []


def test_dok_bil_5_a_scanner_that_does_not_answer_in_time_refuses_the_upload(  # type: ignore[no-untyped-def]
    settings, scanning: Clamd, nurse_and_person, isolated_documents: Path
) -> None:
    settings.BRYGGA_CLAMAV_TIMEOUT = 0.5
    nurse, person = nurse_and_person
    scanning.pause()  # clamd accepts nothing and answers nothing: as a hung daemon
    try:
        with pytest.raises(ScannerUnavailable):
            scan_stream([PDF])
        with pytest.raises(DomainError) as refused:
            add_attachment(nurse, person.pk, "person", str(person.pk), SimpleUploadedFile("x.pdf", PDF))
    finally:
        scanning.resume()
    assert refused.value.problems[0].rule == "DOK-BIL-5"
    assert not Attachment.objects.exists() and stored_files(isolated_documents) == []
    assert scan_stream([PDF]).clean  # and it works again once the daemon answers


def test_dok_bil_5_outside_debug_no_scanner_configured_means_nothing_is_accepted(  # type: ignore[no-untyped-def]
    settings, nurse_and_person, isolated_documents: Path
) -> None:
    settings.BRYGGA_REQUIRE_VIRUS_SCAN = True  # the default when BRYGGA_DEBUG is off
    nurse, person = nurse_and_person
    with pytest.raises(DomainError) as refused:
        add_attachment(nurse, person.pk, "person", str(person.pk), SimpleUploadedFile("x.pdf", PDF))
    assert refused.value.problems[0].rule == "DOK-BIL-5"
    assert not Attachment.objects.exists() and stored_files(isolated_documents) == []


def test_the_production_default_requires_a_scan() -> None:
    import subprocess
    import sys

    code = "import brygga.settings as s; print(s.BRYGGA_REQUIRE_VIRUS_SCAN)"
    env = {"PATH": "/usr/bin:/bin", "BRYGGA_DEBUG": "0", "BRYGGA_SECRET_KEY": "x" * 50}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    assert done.stdout.strip() == "True", done.stderr
