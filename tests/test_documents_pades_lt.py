"""Signatures valid for years (issue 16, part 2): a signed SIP plan is PAdES B-LTA — an RFC 3161 time-stamp
from a real time-stamping service and the OCSP responses for the signer's and the TSA's certificates embedded —
and validates as such in a second, independent validator (OpenSSL and cryptography, tests/independent_pades.py)
as well as in pyHanko. A time-stamping service that does not answer refuses the signature (DOK-SIG-5): nothing
is signed without the time-stamp it claims."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.utils import timezone

from brygga.accounts.permissions import Role
from brygga.core.errors import DomainError
from brygga.documents.models import Signature
from brygga.documents.signed import sign_version, verify_version
from brygga.documents.signing import LocalCertificateAuthority, dss_only_status, installation_trust_roots
from brygga.sip import signing
from tests import independent_pades
from tests.factories import actor, make_person, unit
from tests.services import require_program
from tests.services.pki import LocalPki
from tests.test_documents_sip_plan import PRIMARY_CARE, T0, Involvement, established_sip, involve

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPki]:
    services = LocalPki(tmp_path_factory.mktemp("pki"))
    yield services
    services.stop()


@pytest.fixture
def timestamping(settings, pki: LocalPki, isolated_documents: Path) -> LocalPki:  # type: ignore[no-untyped-def]
    settings.BRYGGA_TSA_URL = pki.tsa_url
    settings.BRYGGA_TSA_TIMEOUT = 30  # generous: a shared CI machine can be slow
    settings.BRYGGA_SIGNING_TRUST_ROOTS = [str(pki.root_pem)]
    pki.answering = True
    return pki


@pytest.fixture
def signed_plan(timestamping: LocalPki):  # type: ignore[no-untyped-def]
    person = make_person("1480")
    involve(
        person, unit(PRIMARY_CARE), Involvement.Kind.OTHER, "test:listning", at=T0 - dt.timedelta(days=30)
    )
    vc = actor(Role.CARE_COORDINATOR, PRIMARY_CARE, username="vc-signer")
    sip = established_sip(vc, person)
    version = signing.plan_document(vc, sip.pk)
    sign_version(vc, version.pk)
    version.refresh_from_db()
    return vc, version


def test_a_signed_sip_plan_is_b_lta_in_an_independent_validator(  # type: ignore[no-untyped-def]
    signed_plan, timestamping: LocalPki, isolated_documents: Path, tmp_path: Path
) -> None:
    require_program("openssl", "openssl", "BRYGGA_REQUIRE_OPENSSL")
    vc, version = signed_plan
    with version.pdf.open("rb") as handle:
        data = handle.read()
    ca_pem = LocalCertificateAuthority(isolated_documents / "signing").cert_path
    findings = independent_pades.validate(data, tmp_path, ca_pem, timestamping.root_pem)
    [finding] = findings.signatures
    # The CMS signature over the signed byte ranges, chained to the signing CA.
    assert "Verification successful" in finding.cms_verified, finding.cms_verified
    assert f"Common Name: {vc.user.get_full_name()}" in finding.signer_subject
    # The RFC 3161 token from the time-stamping service covers this signature's value.
    assert "Verification: OK" in finding.timestamp_verified, finding.timestamp_verified
    # Revocation data embedded for the signer's certificate and for the TSA's (the latter from the OCSP
    # responder the TSA certificate names, served by certomancer), each response verified by OpenSSL.
    assert {finding.signer_serial, finding.tsa_serial} <= findings.ocsp_good_serials
    assert findings.ocsp_openssl and all("Response verify OK" in out for out in findings.ocsp_openssl)
    # B-LTA: a document time-stamp from the same service over the signature and the DSS written after it
    # (pyHanko appends the time-stamp's own validation data in one more revision).
    [archive] = findings.document_timestamps
    assert "Verification: OK" in archive.verified, archive.verified
    assert 0 < data.find(b"/DSS") < archive.offset < len(data)


def test_pyhanko_also_validates_it_as_pades_lt_and_brygga_reports_the_level(signed_plan) -> None:  # type: ignore[no-untyped-def]
    from pyhanko.pdf_utils.reader import PdfFileReader

    vc, version = signed_plan
    with version.pdf.open("rb") as handle:
        data = handle.read()
    [embedded] = PdfFileReader(io.BytesIO(data)).embedded_regular_signatures
    status = dss_only_status(embedded, installation_trust_roots())  # the DSS alone, no fetching
    assert status.bottom_line and status.timestamp_validity is not None and status.timestamp_validity.trusted
    _version, report = verify_version(vc, version.pk)
    [check] = report.signatures
    assert check.valid and check.level == "B-LTA"
    assert check.timestamped_at is not None
    assert abs(check.timestamped_at - timezone.now()) < dt.timedelta(minutes=5)


def test_dok_sig_5_a_time_stamping_service_that_does_not_answer_refuses_the_signature(  # type: ignore[no-untyped-def]
    timestamping: LocalPki,
) -> None:
    person = make_person("1480")
    involve(
        person, unit(PRIMARY_CARE), Involvement.Kind.OTHER, "test:listning", at=T0 - dt.timedelta(days=30)
    )
    vc = actor(Role.CARE_COORDINATOR, PRIMARY_CARE, username="vc-signer")
    version = signing.plan_document(vc, established_sip(vc, person).pk)
    before = version.sha256
    timestamping.answering = False
    with pytest.raises(DomainError) as refused:
        sign_version(vc, version.pk)
    assert refused.value.problems[0].rule == "DOK-SIG-5" and refused.value.status == 503
    version.refresh_from_db()
    assert version.sha256 == before and not Signature.objects.exists()


def test_the_yearly_renewal_adds_a_second_archive_time_stamp_and_the_document_stays_b_lta(  # type: ignore[no-untyped-def]
    signed_plan,
    timestamping: LocalPki,
    isolated_documents: Path,
    tmp_path: Path,
    django_capture_on_commit_callbacks,
) -> None:
    from django.core.management import call_command

    from brygga.documents.archive import renew_archive_timestamps

    require_program("openssl", "openssl", "BRYGGA_REQUIRE_OPENSSL")
    vc, version = signed_plan
    # The TSA certificate is valid for years: nothing to renew within a month.
    assert renew_archive_timestamps(dt.timedelta(days=30)) == (0, 0)
    before = version.sha256
    with django_capture_on_commit_callbacks(execute=True):
        call_command("renew_archive_timestamps", "--within-days", str(100 * 365))
    version.refresh_from_db()
    assert version.sha256 != before
    with version.pdf.open("rb") as handle:
        data = handle.read()
    ca_pem = LocalCertificateAuthority(isolated_documents / "signing").cert_path
    findings = independent_pades.validate(data, tmp_path, ca_pem, timestamping.root_pem)
    first, second = sorted(findings.document_timestamps, key=lambda f: f.offset)
    assert all("Verification: OK" in f.verified for f in (first, second))
    assert first.offset < second.offset
    [finding] = findings.signatures
    assert "Verification successful" in finding.cms_verified
    _version, report = verify_version(vc, version.pk)
    [check] = report.signatures
    assert check.valid and check.level == "B-LTA"
    # A TSA that does not answer: nothing changes, the command says so and exits 1.
    timestamping.answering = False
    stored = version.sha256
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("renew_archive_timestamps", "--within-days", str(100 * 365))
    version.refresh_from_db()
    assert version.sha256 == stored
