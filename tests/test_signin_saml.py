"""SITHS sign-in with SAML 2.0 against a real pysaml2 identity provider on 127.0.0.1 (tests/idp_saml.py, keys
and certificates generated at start): commission → membership, wrong audience, replayed response, logout and
single logout from the IdP."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from django.test import Client, override_settings

from brygga.accounts.models import Membership
from brygga.accounts.permissions import Role
from brygga.organisations.models import Unit
from brygga.signin.models import IdpSession
from tests.factories import CONTACT_POINT, WARD, UserFactory
from tests.idp_saml import SamlIdp, running_saml_idp, saml_account

pytestmark = pytest.mark.django_db

NURSE = "SE2321000131-E000000000201"
DOCTOR = "SE2321000131-E000000000202"
SP_BASE = "http://testserver"


def sp_settings(idp_metadata: str, key: str, cert: str) -> dict[str, str]:
    return {
        "BRYGGA_SAML_IDP_METADATA": idp_metadata,
        "BRYGGA_SAML_BASE_URL": SP_BASE,
        "BRYGGA_SAML_KEY_FILE": key,
        "BRYGGA_SAML_CERT_FILE": cert,
    }


def sp_metadata(idp_metadata: str, key: str, cert: str) -> str:
    from saml2.metadata import entity_descriptor

    from brygga.signin.saml import config_loader

    with override_settings(**sp_settings(idp_metadata, key, cert)):
        return str(entity_descriptor(config_loader()))


@pytest.fixture(scope="module")
def idp(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[SamlIdp]:  # type: ignore[no-untyped-def]
    with django_db_blocker.unblock():
        ward = Unit.objects.get(name=WARD).hsa_id
        contact = Unit.objects.get(name=CONTACT_POINT).hsa_id
    accounts = {
        "nurse": saml_account("Sjuksköterska", NURSE, ward, "SE2321000131-S000000000201", given="Saga"),
        "doctor": saml_account("Läkare", DOCTOR, ward, "SE2321000131-S000000000202", licences=("LK",)),
        "nurse-no-commission": saml_account("Utan uppdrag", NURSE, ward, None),
        "contact": saml_account("Kontaktpunkt", "SE2321000131-E000000000203", contact, "SE2321-S203"),
    }
    folder: Path = tmp_path_factory.mktemp("saml")
    with running_saml_idp(folder, accounts, sp_metadata) as running:
        yield running


@pytest.fixture
def configured(settings, idp: SamlIdp) -> Iterator[SamlIdp]:  # type: ignore[no-untyped-def]
    for name, value in sp_settings(idp.metadata_file, idp.sp_key, idp.sp_cert).items():
        setattr(settings, name, value)
    idp.audience_override = None
    yield idp
    idp.audience_override = None


def grant(hsa_id: str, unit_name: str, role: Role, **extra: Any) -> Membership:
    user = UserFactory.create(username=f"s-{hsa_id[-4:]}", hsa_id=hsa_id)
    return Membership.objects.create(
        user=user,
        unit=Unit.objects.get(name=unit_name),
        role=role.value,
        valid_from=extra.pop("valid_from", dt.date(2000, 1, 1)),
        **extra,
    )


def idp_response(client: Client, browser: requests.Session, account: str) -> dict[str, str]:
    """Start at brygga, sign in at the IdP; returns the auto-posted form (SAMLResponse, RelayState)."""
    start = client.get("/saml2/login/?next=/")
    assert start.status_code == 302, start.content
    page = browser.get(start["Location"])
    assert page.status_code == 200, page.text
    key = re.search(r'name="key" value="([^"]+)"', page.text)
    assert key is not None
    posted = browser.post(
        f"{page.url.split('/sso')[0]}/sso/login", data={"key": key.group(1), "account": account}
    )
    assert posted.status_code == 200, posted.text
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', posted.text))
    return {k: unescape(v) for k, v in fields.items() if k in ("SAMLResponse", "RelayState")}


def sign_in(client: Client, account: str, browser: requests.Session | None = None):  # type: ignore[no-untyped-def]
    return client.post("/saml2/acs/", idp_response(client, browser or requests.Session(), account))


def test_ward_nurse_signs_in_with_a_commission(configured: SamlIdp) -> None:
    membership = grant(NURSE, WARD, Role.WARD_NURSE)
    client = Client()
    response = sign_in(client, "nurse")
    assert response.status_code == 302, response.content.decode()
    home = client.get("/")
    assert home.status_code == 200
    assert home.wsgi_request.actor.membership == membership  # type: ignore[attr-defined]
    assert home.wsgi_request.actor.auth_method == "siths-saml"  # type: ignore[attr-defined]
    membership.user.refresh_from_db()
    assert (membership.user.first_name, membership.user.last_name) == ("Saga", "Testsson")
    session = IdpSession.objects.get(user=membership.user)
    assert session.method == "siths-saml" and session.subject == "nurse" and session.idp_session_id


def test_physician_from_the_licence(configured: SamlIdp) -> None:
    doctor = grant(DOCTOR, WARD, Role.WARD_NURSE)
    assert sign_in(Client(), "doctor").status_code == 302
    doctor.refresh_from_db()
    assert doctor.role == Role.PHYSICIAN.value


def test_no_commission_no_access(configured: SamlIdp) -> None:
    grant(NURSE, WARD, Role.WARD_NURSE)
    client = Client()
    response = sign_in(client, "nurse-no-commission")
    assert response.status_code == 403 and "MEDARBETARUPPDRAG" in response.content.decode()
    assert client.get("/").status_code == 302


def test_expired_membership_no_access(configured: SamlIdp) -> None:
    yesterday = dt.date.today() - dt.timedelta(days=1)  # noqa: DTZ011 - compared with localdate() in the code
    grant(NURSE, WARD, Role.WARD_NURSE, valid_from=yesterday - dt.timedelta(days=9), valid_until=yesterday)
    response = sign_in(Client(), "nurse")
    assert response.status_code == 403 and "BEHORIGHET-UTGANGEN" in response.content.decode()


def test_assertion_for_another_audience_is_refused(configured: SamlIdp) -> None:
    grant(NURSE, WARD, Role.WARD_NURSE)
    configured.audience_override = "https://another-service.example.se/sp"
    client = Client()
    response = sign_in(client, "nurse")
    assert response.status_code == 403 and "SAML" in response.content.decode()
    assert client.get("/").status_code == 302 and not IdpSession.objects.exists()


def test_replayed_response_is_refused(configured: SamlIdp) -> None:
    grant(NURSE, WARD, Role.WARD_NURSE)
    client = Client()
    form = idp_response(client, requests.Session(), "nurse")
    assert client.post("/saml2/acs/", form).status_code == 302
    # The same response again: in another browser (no request of its own) and in the same one.
    assert Client().post("/saml2/acs/", form).status_code == 403
    assert client.post("/saml2/acs/", form).status_code == 403
    assert IdpSession.objects.count() == 1


def test_tampered_response_is_refused(configured: SamlIdp) -> None:
    import base64

    grant(NURSE, WARD, Role.WARD_NURSE)
    client = Client()
    form = idp_response(client, requests.Session(), "nurse")
    xml = base64.b64decode(form["SAMLResponse"]).decode()
    forged = xml.replace("SE2321000131-E000000000201", "SE2321000131-E000000000202")
    assert forged != xml
    form["SAMLResponse"] = base64.b64encode(forged.encode()).decode()
    assert client.post("/saml2/acs/", form).status_code == 403
    assert not IdpSession.objects.exists()


def test_session_end_at_the_idp_single_logout(configured: SamlIdp) -> None:
    grant(NURSE, WARD, Role.WARD_NURSE)
    client = Client()
    assert sign_in(client, "nurse").status_code == 302
    assert client.get("/").status_code == 200
    location = configured.logout_request_url("nurse", f"{SP_BASE}/saml2/ls/", f"{SP_BASE}/saml2/metadata/")
    parts = urlsplit(location)
    response = client.get(f"{parts.path}?{parts.query}")
    assert response.status_code == 302 and response["Location"].startswith(configured.url)
    assert client.get("/").status_code == 302
    assert IdpSession.objects.get().ended_at is not None


def test_logout_goes_through_the_idp(configured: SamlIdp) -> None:
    grant(NURSE, WARD, Role.WARD_NURSE)
    client = Client()
    browser = requests.Session()
    assert sign_in(client, "nurse", browser).status_code == 302
    step = client.post("/inloggning/logga-ut/")
    assert step.status_code == 302
    step = client.get(step["Location"])  # djangosaml2 builds the LogoutRequest
    assert step.status_code == 302 and step["Location"].startswith(configured.url)
    back = browser.get(step["Location"], allow_redirects=False)  # the IdP answers
    assert back.status_code == 302
    parts = urlsplit(back.headers["Location"])
    done = client.get(f"{parts.path}?{parts.query}")
    assert done.status_code == 302
    assert client.get("/").status_code == 302
    assert IdpSession.objects.get().ended_at is not None
