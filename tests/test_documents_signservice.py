"""The signing-service adapter (issue 16, ADR 0408): a SIP plan signed through the Swedish eID signservice
protocol (Sweden Connect's DSS extension) against a local service that speaks it (tests/services/signservice.py:
XML-signed SignRequest/SignResponse over the browser's form posts, a one-time certificate from its own CA
with an OCSP responder) and certomancer's time-stamping service. The result is PAdES B-LTA in the independent
validator. A response that is not the service's, not for this request, an error, too late or signing
something else is refused (DOK-SIG-5): nothing is signed."""

from __future__ import annotations

import datetime as dt
import html
import re
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from brygga.accounts.permissions import Role
from brygga.documents.models import Signature, SignServiceRequest
from brygga.documents.signed import RemoteSigningForm, start_remote_signing, verify_version
from brygga.sip import signing
from tests import independent_pades
from tests.factories import actor, make_person, unit
from tests.services import require_program
from tests.services.pki import LocalPki
from tests.services.signservice import CSIG, ENTITY_ID, HSA_ATTRIBUTE, NS, SignService, requester_keys
from tests.test_documents_sip_plan import PRIMARY_CARE, T0, Involvement, established_sip, involve

pytestmark = pytest.mark.django_db

HSA_ID = "SE2321000016-15TS"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPki]:
    services = LocalPki(tmp_path_factory.mktemp("pki"))
    yield services
    services.stop()


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SignService, Path, Path]]:
    folder = tmp_path_factory.mktemp("signservice")
    keys = requester_keys(folder)
    running = SignService(folder, keys.cert)
    yield running, keys.key, keys.cert
    running.stop()


@pytest.fixture
def signservice(settings, pki: LocalPki, service, isolated_documents: Path) -> SignService:  # type: ignore[no-untyped-def]
    running, key, cert = service
    running.mode = "ok"
    running.return_url = "http://testserver" + reverse("documents:signservice_response")
    settings.BRYGGA_SIGNER = "inera"
    settings.BRYGGA_SIGNSERVICE_URL = running.sign_url
    settings.BRYGGA_SIGNSERVICE_ENTITY_ID = ENTITY_ID
    settings.BRYGGA_SIGNSERVICE_REQUESTER_ID = "https://brygga.test.invalid/signservice"
    settings.BRYGGA_SIGNSERVICE_KEY = str(key)
    settings.BRYGGA_SIGNSERVICE_CERT = str(cert)
    settings.BRYGGA_SIGNSERVICE_SERVICE_CERT = str(running.service_pem)
    settings.BRYGGA_SIGNSERVICE_IDP = "https://idp.test.invalid/siths"
    settings.BRYGGA_SIGNSERVICE_REQUEST_SECONDS = 300
    settings.BRYGGA_TSA_URL = pki.tsa_url
    settings.BRYGGA_TSA_TIMEOUT = 30
    settings.BRYGGA_SIGNING_TRUST_ROOTS = [str(pki.root_pem), str(running.ca_pem)]
    pki.answering = True
    return running


@pytest.fixture
def plan(signservice: SignService):  # type: ignore[no-untyped-def]
    person = make_person("1480")
    involve(
        person, unit(PRIMARY_CARE), Involvement.Kind.OTHER, "test:listning", at=T0 - dt.timedelta(days=30)
    )
    vc = actor(Role.CARE_COORDINATOR, PRIMARY_CARE, username="vc-signer")
    vc.user.hsa_id = HSA_ID
    vc.user.first_name, vc.user.last_name = "Test", "Testsson"
    vc.user.save()
    version = signing.plan_document(vc, established_sip(vc, person).pk)
    return vc, version


def _to_service(form: RemoteSigningForm) -> dict[str, str]:
    """What the browser does with the auto-submitting form, then the fields of the service's answer page."""
    body = urllib.parse.urlencode(
        {"Binding": form.binding, "RelayState": form.request_id, "EidSignRequest": form.sign_request}
    ).encode()
    with urllib.request.urlopen(urllib.request.Request(form.url, data=body), timeout=30) as answer:  # noqa: S310
        page = answer.read().decode()
    return {k: html.unescape(v) for k, v in re.findall(r'name="(\w+)" value="([^"]*)"', page)}


def _back_to_brygga(fields: dict[str, str]):  # type: ignore[no-untyped-def]
    # Without brygga's session: the service's page posts cross-site.
    return Client().post(reverse("documents:signservice_response"), fields)


def test_a_sip_plan_signed_through_the_signing_service_is_b_lta_in_the_independent_validator(  # type: ignore[no-untyped-def]
    plan, signservice: SignService, pki: LocalPki, tmp_path: Path
) -> None:
    require_program("openssl", "openssl", "BRYGGA_REQUIRE_OPENSSL")
    vc, version = plan
    form = start_remote_signing(vc, version.pk)
    assert not Signature.objects.exists()  # nothing signed before the service answers
    answer = _back_to_brygga(_to_service(form))
    assert answer.status_code == 302, answer.content.decode()[:2000]
    # The request the service verified: the signer's HSA-id, brygga as requester, one PDF sign task.
    request = signservice.requests[-1]
    ext = request.find("dss:OptionalInputs/csig:SignRequestExtension", NS)
    assert ext.findtext(f"csig:Signer/*[@Name='{HSA_ATTRIBUTE}']/*", namespaces=NS) == HSA_ID
    assert ext.findtext("csig:SignRequester", namespaces=NS) == "https://brygga.test.invalid/signservice"
    assert len(request.findall(f".//{{{CSIG}}}SignTaskData")) == 1

    version.refresh_from_db()
    with version.pdf.open("rb") as handle:
        data = handle.read()
    findings = independent_pades.validate(data, tmp_path, signservice.ca_pem, pki.root_pem)
    [finding] = findings.signatures
    assert "Verification successful" in finding.cms_verified, finding.cms_verified
    assert "Common Name: Test Testsson" in finding.signer_subject and HSA_ID in finding.signer_subject
    assert "Verification: OK" in finding.timestamp_verified, finding.timestamp_verified
    # The service's one-time certificate's OCSP answer (from its responder) and the TSA's are in the DSS.
    assert {finding.signer_serial, finding.tsa_serial} <= findings.ocsp_good_serials
    assert all("Response verify OK" in out for out in findings.ocsp_openssl), findings.ocsp_openssl
    [archive] = findings.document_timestamps
    assert "Verification: OK" in archive.verified, archive.verified

    _version, report = verify_version(vc, version.pk)
    [check] = report.signatures
    assert check.valid and check.level == "B-LTA" and check.signer_identifier == HSA_ID
    [signature] = Signature.objects.all()
    assert signature.backend == "inera" and signature.signer == vc.user and HSA_ID in signature.signer_label
    answered = SignServiceRequest.objects.get()
    assert answered.state == SignServiceRequest.State.SIGNED and bytes(answered.prepared_pdf) == b""
    # The document page and the check of a received copy show the level.
    client = Client()
    client.force_login(vc.user)
    page = client.get(reverse("documents:document", args=[version.document_id])).content.decode()
    assert "PAdES B-LTA" in page and "Test Testsson" in page
    upload = SimpleUploadedFile("plan.pdf", data, content_type="application/pdf")
    checked = client.post(reverse("documents:verify"), {"file": upload}).content.decode()
    assert "giltig, PAdES B-LTA" in checked
    # The same response again is refused: a request is answered once.
    again = _back_to_brygga({"RelayState": form.request_id, "EidSignResponse": "eA=="})
    assert again.status_code == 409 and Signature.objects.count() == 1


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("error", "Användaren avbröt underskriften"),
        ("unsigned", "inte undertecknat av tjänsten"),
        ("tampered", "inte undertecknat av tjänsten"),
        ("foreign", "inte undertecknat av tjänsten"),
        ("other_request", "gäller en annan begäran"),
        ("other_digest", "undertecknade något annat än dokumentet"),
    ],
)
def test_dok_sig_5_a_response_that_cannot_be_trusted_signs_nothing(  # type: ignore[no-untyped-def]
    plan, signservice: SignService, mode: str, message: str
) -> None:
    vc, version = plan
    before = version.sha256
    signservice.mode = mode
    form = start_remote_signing(vc, version.pk)
    answer = _back_to_brygga(_to_service(form))
    assert answer.status_code in (400, 409, 503)
    body = answer.content.decode()
    assert "DOK-SIG-5" in body and message in html.unescape(body), body[:3000]
    version.refresh_from_db()
    assert version.sha256 == before and not Signature.objects.exists()
    refused = SignServiceRequest.objects.get()
    assert refused.state == SignServiceRequest.State.REFUSED and bytes(refused.prepared_pdf) == b""


def test_dok_sig_5_an_expired_request_signs_nothing(plan, signservice: SignService) -> None:  # type: ignore[no-untyped-def]
    vc, version = plan
    before = version.sha256
    form = start_remote_signing(vc, version.pk)
    fields = _to_service(form)
    SignServiceRequest.objects.update(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    answer = _back_to_brygga(fields)
    assert answer.status_code == 400 and "har gått ut" in answer.content.decode()
    version.refresh_from_db()
    assert version.sha256 == before and not Signature.objects.exists()
    # A request never answered (with its copy of the document) goes a day after it expired.
    SignServiceRequest.objects.update(
        state=SignServiceRequest.State.PENDING, expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
    )
    stale = SignServiceRequest.objects.get().pk
    start_remote_signing(vc, version.pk)
    assert not SignServiceRequest.objects.filter(pk=stale).exists()
    assert SignServiceRequest.objects.count() == 1


def test_an_unknown_request_id_is_not_found(signservice: SignService) -> None:
    assert _back_to_brygga({"RelayState": "nothing-like-it", "EidSignResponse": "eA=="}).status_code == 404


def test_the_sign_button_sends_the_browser_to_the_service_with_a_signed_request(  # type: ignore[no-untyped-def]
    plan, signservice: SignService
) -> None:
    vc, version = plan
    client = Client()
    client.force_login(vc.user)
    page = client.post(reverse("documents:sign", args=[version.pk]))
    assert page.status_code == 200
    content = page.content.decode()
    assert f'action="{signservice.sign_url}"' in content and 'name="EidSignRequest"' in content
    assert "autosubmit.js" in content and "<script>" not in content
    # CSP lets this one form go to the service's origin, and still no inline script.
    csp = page["Content-Security-Policy"]
    assert signservice.url in csp.split("form-action")[1].split(";")[0] and "'unsafe-inline'" not in csp
    assert not Signature.objects.exists()
