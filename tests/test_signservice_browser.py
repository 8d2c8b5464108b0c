"""The signing-service round trip in headless Chromium (issue 16, ADR 0408): the ward nurse writes a document
and presses "Underteckna"; brygga's page (autosubmit.js, CSP form-action widened to the service alone) posts
the signed SignRequest to the local signing service (tests/services/signservice.py), whose answer page posts
the SignResponse back; the document shows a valid PAdES B-LTA signature by the nurse's name and HSA-id. Every
party is real software on 127.0.0.1: brygga (runserver), the signing service with its CA and OCSP responder,
and certomancer's time-stamping service."""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import (
    ROOT,
    E2EServer,
    assert_accessible_basics,
    free_port,
    login,
    prepare_database,
    server_env,
    wait_for_health,
)
from tests.services.pki import LocalPki
from tests.services.signservice import ENTITY_ID, SignService, requester_keys

pytest_plugins = ["tests.e2e.harness"]
pytestmark = pytest.mark.browser

MEDICINE = "Sahlgrenska, medicinavdelning"
NURSE_HSA = "SE2321000131-E000000000401"


@pytest.fixture(scope="module")
def signing(tmp_path_factory: Any) -> Iterator[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("signservice-e2e")
    pki = LocalPki(folder / "pki")
    keys = requester_keys(folder)
    service = SignService(folder, keys.cert)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    service.return_url = f"{base}/dokument/underskriftstjanst/svar"
    tmp = tempfile.TemporaryDirectory(prefix="brygga-e2e-signservice-")
    var_dir = Path(tmp.name)
    server = E2EServer(var_dir=var_dir, port=port, env=server_env(var_dir, port))
    server.env |= {
        "BRYGGA_SIGNER": "inera",
        "BRYGGA_SIGNSERVICE_URL": service.sign_url,
        "BRYGGA_SIGNSERVICE_ENTITY_ID": ENTITY_ID,
        "BRYGGA_SIGNSERVICE_REQUESTER_ID": f"{base}/signservice",
        "BRYGGA_SIGNSERVICE_KEY": str(keys.key),
        "BRYGGA_SIGNSERVICE_CERT": str(keys.cert),
        "BRYGGA_SIGNSERVICE_SERVICE_CERT": str(service.service_pem),
        "BRYGGA_TSA_URL": pki.tsa_url,
        "BRYGGA_TSA_TIMEOUT": "30",
        "BRYGGA_SIGNING_TRUST_ROOTS": f"{pki.root_pem}:{service.ca_pem}",
    }
    prepare_database(server)
    server.shell(
        "import django; django.setup(); from brygga.accounts.models import User; "
        f"User.objects.filter(username='sjukskoterska').update(hsa_id='{NURSE_HSA}')"
    )
    log_path = var_dir / "server.log"
    try:
        with log_path.open("wb") as log:
            server.process = subprocess.Popen(  # noqa: S603 - our own manage.py
                [sys.executable, str(ROOT / "manage.py"), "runserver", "--noreload", f"127.0.0.1:{port}"],
                cwd=ROOT,
                env=server.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                wait_for_health(server, log_path)
                yield {"server": server, "service": service, "url": base, "log": log_path}
            finally:
                server.process.terminate()
                try:
                    server.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    server.process.kill()
    finally:
        service.stop()
        pki.stop()
        tmp.cleanup()


def test_a_document_is_signed_through_the_signing_service_in_the_browser(
    browser: Any, signing: dict[str, Any]
) -> None:
    server, service = signing["server"], signing["service"]
    person_id, case_id = server.shell(
        "import django; django.setup(); from brygga.cases.models import Case; "
        f"c = Case.objects.filter(ward__name='{MEDICINE}').first(); print(c.person_id, c.pk)"
    ).split()[-2:]
    context = browser.new_context(
        base_url=signing["url"], locale="sv-SE", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(30_000)
    page = context.new_page()
    login(page, "sjukskoterska")
    if page.url.endswith("/enhet/"):
        page.get_by_label(re.compile(re.escape(MEDICINE))).check()
        with page.expect_navigation():
            page.get_by_role("button", name="Fortsätt").click()
    page.goto(f"/dokument/person/{person_id}/?owner_type=case&owner_id={case_id}")
    page.get_by_label("Rubrik").fill("Vårdplan vid utskrivning")
    page.get_by_label("Innehåll").fill("Mål: trygg hemgång.")
    with page.expect_navigation():
        page.get_by_role("button", name="Skapa dokument").click()
    document_url = page.url
    # brygga's page sends the browser on by itself (autosubmit.js); the service answers with its own page.
    with page.expect_navigation(url=f"{service.url}/**"):
        page.get_by_role("button", name="Underteckna version 1").click()
    assert len(service.requests) == 1
    with page.expect_navigation(url=f"{signing['url']}/**"):
        page.get_by_role("button", name="OK").click()
    page.wait_for_load_state()
    assert page.url == document_url, page.content()[:3000]
    main = page.inner_text("main")
    assert "Giltig underskrift" in main and "PAdES B-LTA" in main and NURSE_HSA in main, main
    assert "Ogiltig" not in main
    assert_accessible_basics(page)
    context.close()
