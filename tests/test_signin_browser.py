"""Done-when of issue 15, end to end in headless Chromium: a ward nurse signs in with SITHS through the local
OpenID provider (choosing her commission there), admits a person brygga has never seen — fetched from the local
population register (GetPersonsForProfile over SOAP) — and the municipality's contact point, signed in through
the local SAML IdP, sees the case in its inbox. Every party is real software on 127.0.0.1: brygga (runserver),
panva/oidc-provider (Node), a pysaml2 IdP and the PU producer."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from brygga.demo import personas
from tests.e2e.harness import (
    ROOT,
    E2EServer,
    assert_accessible_basics,
    free_port,
    prepare_database,
    screenshot,
    server_env,
    wait_for_health,
)
from tests.idp_oidc import running_oidc_provider, siths_account
from tests.idp_saml import running_saml_idp, saml_account
from tests.pu_producer import PuPerson, running_producer

pytest_plugins = ["tests.e2e.harness"]
pytestmark = pytest.mark.browser

NURSE_HSA = "SE2321000131-E000000000301"
CONTACT_HSA = "SE2321000131-E000000000302"
WARD_HSA = "SE2321000131-S000000000301"  # commissions
CONTACT_COMMISSION = "SE2321000131-S000000000302"
NEW_PERSON = personas.test_number("19420909", 984).replace("-", "")
CLIENT_ID = "brygga-e2e"
CLIENT_SECRET = "an-e2e-client-secret-that-is-long-enough-0123456789"  # noqa: S105


@pytest.fixture(scope="module")
def federation(tmp_path_factory: Any) -> Iterator[dict[str, Any]]:
    """The register, both IdPs and a brygga server configured for them; demo users get HSA-ids."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    folder = tmp_path_factory.mktemp("federation")
    # The server's database first: the IdPs need the units' HSA-ids from its reference data.
    tmp = tempfile.TemporaryDirectory(prefix="brygga-e2e-signin-")
    var_dir = Path(tmp.name)
    server = E2EServer(var_dir=var_dir, port=port, env=server_env(var_dir))
    prepare_database(server)
    ward_unit, contact_unit = server.shell(
        "import django; django.setup(); from brygga.organisations.models import Unit; "
        "print(Unit.objects.get(name='Sahlgrenska, medicinavdelning').hsa_id, "
        "Unit.objects.get(name='Göteborg kontaktpunkt').hsa_id)"
    ).split()

    def sp_metadata(idp_metadata: str, key: str, cert: str) -> str:
        from saml2.metadata import entity_descriptor

        from brygga.signin.saml import config_loader

        with override_settings(
            BRYGGA_SAML_IDP_METADATA=idp_metadata,
            BRYGGA_SAML_BASE_URL=base,
            BRYGGA_SAML_KEY_FILE=key,
            BRYGGA_SAML_CERT_FILE=cert,
        ):
            return str(entity_descriptor(config_loader()))

    oidc_accounts = {
        "nurse": siths_account(
            "Sjuksköterska, Sahlgrenska medicinavdelning", NURSE_HSA, ward_unit, WARD_HSA, given="Siri"
        )
    }
    clients = [
        {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uris": [f"{base}/inloggning/oidc/callback/"],
            "post_logout_redirect_uris": [f"{base}/konto/logga-in/"],
            "backchannel_logout_uri": f"{base}/inloggning/oidc/backchannel-logout/",
            "backchannel_logout_session_required": True,
        }
    ]
    saml_accounts = {
        "contact": saml_account("Kontaktpunkt, Göteborg", CONTACT_HSA, contact_unit, CONTACT_COMMISSION)
    }
    with (
        running_producer() as pu,
        running_oidc_provider(oidc_accounts, clients) as op,
        running_saml_idp(folder, saml_accounts, sp_metadata) as idp,
        tmp,
    ):
        pu.add(
            PuPerson(
                NEW_PERSON,
                "Elvira",
                "Registerdotter",
                street="Kontraktsgatan 7",
                postal_code=41264,
                city="Göteborg",
                county="14",
                municipality="80",
            )
        )
        env = server.env | {
            "BRYGGA_POPULATION_REGISTER": "pu",
            "BRYGGA_PU_ENDPOINT": pu.url,
            "BRYGGA_PU_LOGICAL_ADDRESS": "SE165565594230-1000",
            "BRYGGA_OIDC_ISSUER": op.issuer,
            "BRYGGA_OIDC_CLIENT_ID": CLIENT_ID,
            "BRYGGA_OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "BRYGGA_SAML_IDP_METADATA": idp.metadata_file,
            "BRYGGA_SAML_BASE_URL": base,
            "BRYGGA_SAML_KEY_FILE": idp.sp_key,
            "BRYGGA_SAML_CERT_FILE": idp.sp_cert,
        }
        server.env = env
        server.shell(
            "import django; django.setup(); from brygga.accounts.models import User; "
            f"User.objects.filter(username='sjukskoterska').update(hsa_id='{NURSE_HSA}'); "
            f"User.objects.filter(username='kontaktpunkt').update(hsa_id='{CONTACT_HSA}')"
        )
        log_path = var_dir / "server.log"
        with log_path.open("wb") as log:
            server.process = subprocess.Popen(  # noqa: S603 - our own manage.py
                [sys.executable, str(ROOT / "manage.py"), "runserver", "--noreload", f"127.0.0.1:{port}"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                wait_for_health(server, log_path)
                yield {"server": server, "pu": pu, "url": base}
            finally:
                server.process.terminate()
                try:
                    server.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    server.process.kill()


def test_siths_nurse_admits_a_person_from_the_register_and_the_contact_point_sees_it(
    browser: Any, federation: dict[str, Any]
) -> None:
    base = federation["url"]
    nurse = browser.new_context(base_url=base, locale="sv-SE", viewport={"width": 1280, "height": 900})
    nurse.set_default_timeout(30_000)
    page = nurse.new_page()
    page.goto("/konto/logga-in/")
    assert_accessible_basics(page)
    screenshot(page, "signin-login")
    with page.expect_navigation():
        page.get_by_role("link", name="Logga in med SITHS", exact=True).click()
    # At the identity provider: choose the card's commission.
    page.get_by_label("Kort och medarbetaruppdrag").select_option("nurse")
    with page.expect_navigation(url=f"{base}/**"):
        page.get_by_role("button", name="Logga in").click()
    page.wait_for_load_state()
    assert page.url.rstrip("/") == base, page.content()[:2000]
    assert "Sahlgrenska, medicinavdelning" in page.content()

    page.goto("/arenden/nytt/")
    admitted = (dt.datetime.now() - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")  # noqa: DTZ005
    page.get_by_label("Personnummer, samordningsnummer eller reservnummer").fill(NEW_PERSON)
    page.get_by_label("Inskriven (datum och tid)").fill(admitted)
    page.get_by_label("Beräknat utskrivningsdatum").fill(
        (dt.date.today() + dt.timedelta(days=4)).isoformat()  # noqa: DTZ011 - the browser's local date
    )
    with page.expect_navigation():
        page.get_by_role("button", name="Skriv in").click()
    assert "/arenden/" in page.url and "Ärendet är skapat" in page.content(), page.content()[:3000]
    assert "Elvira Registerdotter" in page.content()
    assert federation["pu"].requests and federation["pu"].requests[0]["ids"] == [NEW_PERSON]
    screenshot(page, "signin-admitted-from-register")

    contact = browser.new_context(base_url=base, locale="sv-SE", viewport={"width": 1280, "height": 900})
    contact.set_default_timeout(30_000)
    cp = contact.new_page()
    cp.goto("/konto/logga-in/")
    with cp.expect_navigation():
        cp.get_by_role("link", name="Logga in med SITHS (SAML)").click()
    cp.get_by_label("Kort och medarbetaruppdrag").select_option("contact")
    cp.get_by_role("button", name="Logga in").click()
    cp.wait_for_url(f"{base}/", timeout=30_000)
    cp.goto("/arenden/")
    assert "Registerdotter" in cp.content(), cp.content()[:3000]
    screenshot(cp, "signin-contact-point-inbox")
    nurse.close()
    contact.close()
