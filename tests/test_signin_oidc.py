"""SITHS sign-in with OpenID Connect against a real OpenID provider (panva/oidc-provider under Node, started on
127.0.0.1 by tests/idp_oidc.py with keys generated at start): commission → membership (R-SAMSA-AUTH-1), the
physician role from the licence, LoA, replay, wrong audience, logout and the IdP's back-channel logout."""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from django.test import Client, override_settings

from brygga.access.models import AccessLogEntry
from brygga.accounts.models import Membership
from brygga.accounts.permissions import Role
from brygga.organisations.models import Unit
from brygga.signin.models import IdpSession
from tests.factories import CONTACT_POINT, WARD, UserFactory, make_person
from tests.idp_oidc import LOA3, OidcProvider, running_oidc_provider, siths_account

pytestmark = pytest.mark.django_db

CLIENT_ID = "brygga-test"
CLIENT_SECRET = "a-test-secret-that-is-long-enough-for-hs256-0123456789"  # noqa: S105
NURSE = "SE2321000131-E000000000101"
DOCTOR = "SE2321000131-E000000000102"
CONTACT = "SE2321000131-E000000000103"


class _Capture(BaseHTTPRequestHandler):
    tokens: list[str] = []

    def do_POST(self) -> None:  # noqa: N802 - the base class's name
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        self.tokens.append(parse_qs(body).get("logout_token", [""])[0])
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


@pytest.fixture(scope="module")
def backchannel() -> Iterator[tuple[str, list[str]]]:
    """Where the provider posts its logout tokens; the test hands them on to brygga's endpoint."""
    server = HTTPServer(("127.0.0.1", 0), _Capture)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/backchannel", _Capture.tokens
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def op(django_db_setup, django_db_blocker, backchannel) -> Iterator[OidcProvider]:  # type: ignore[no-untyped-def]
    with django_db_blocker.unblock():
        ward = Unit.objects.get(name=WARD).hsa_id
        contact = Unit.objects.get(name=CONTACT_POINT).hsa_id
    accounts = {
        "nurse": siths_account("Sjuksköterska", NURSE, ward, "SE2321000131-S000000000101", given="Sara"),
        "doctor": siths_account(
            "Läkare", DOCTOR, ward, "SE2321000131-S000000000102", licences=("LK",), given="Lars"
        ),
        "nurse-no-commission": siths_account("Utan uppdrag", NURSE, ward, None),
        "nurse-statistics": siths_account(
            "Statistikuppdrag", NURSE, ward, "SE2321000131-S000000000109", purpose="Statistik"
        ),
        "nurse-loa2": siths_account(
            "LoA2", NURSE, ward, "SE2321000131-S000000000101", acr="http://id.sambi.se/loa/loa2"
        ),
        "contact": siths_account("Kontaktpunkt", CONTACT, contact, "SE2321000131-S000000000103"),
    }
    clients = [
        {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uris": ["http://testserver/inloggning/oidc/callback/"],
            "post_logout_redirect_uris": ["http://testserver/konto/logga-in/"],
            "backchannel_logout_uri": backchannel[0],
            "backchannel_logout_session_required": True,
        },
        {
            "client_id": "another-service",
            "client_secret": CLIENT_SECRET + "-other",
            "redirect_uris": ["http://testserver/inloggning/oidc/callback/"],
            "backchannel_logout_uri": backchannel[0],
            "backchannel_logout_session_required": True,
        },
    ]
    with running_oidc_provider(accounts, clients) as provider:
        yield provider


@pytest.fixture
def configured(settings, op: OidcProvider) -> OidcProvider:  # type: ignore[no-untyped-def]
    settings.BRYGGA_OIDC_ISSUER = op.issuer
    settings.BRYGGA_OIDC_CLIENT_ID = CLIENT_ID
    settings.BRYGGA_OIDC_CLIENT_SECRET = CLIENT_SECRET
    return op


def grant(hsa_id: str, unit_name: str, role: Role, **membership: Any) -> Membership:
    user = UserFactory.create(username=f"u-{hsa_id[-4:]}", hsa_id=hsa_id)
    return Membership.objects.create(
        user=user,
        unit=Unit.objects.get(name=unit_name),
        role=role.value,
        valid_from=membership.pop("valid_from", dt.date(2000, 1, 1)),
        **membership,
    )


def idp_round_trip(client: Client, browser: requests.Session, account: str) -> str:
    """Start at brygga, sign in at the provider as ``account``; returns brygga's callback URL (path + query)."""
    start = client.get("/inloggning/oidc/")
    assert start.status_code == 302, start.content
    page = browser.get(start["Location"])
    assert page.status_code == 200, page.text
    action = re.search(r'action="([^"]+)"', page.text)
    assert action is not None, page.text
    response = browser.post(
        urljoin(page.url, action.group(1)), data={"account": account}, allow_redirects=False
    )
    while not response.headers.get("Location", "").startswith("http://testserver"):
        assert response.status_code in (302, 303), response.text
        response = browser.get(urljoin(response.url, response.headers["Location"]), allow_redirects=False)
    parts = urlsplit(response.headers["Location"])
    return f"{parts.path}?{parts.query}"


def sign_in(client: Client, account: str, browser: requests.Session | None = None):  # type: ignore[no-untyped-def]
    return client.get(idp_round_trip(client, browser or requests.Session(), account))


def test_ward_nurse_signs_in_with_a_commission_r_samsa_auth_1(configured: OidcProvider) -> None:
    membership = grant(NURSE, WARD, Role.WARD_NURSE)
    client = Client()
    response = sign_in(client, "nurse")
    assert response.status_code == 302 and response["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert home.wsgi_request.actor.membership == membership  # type: ignore[attr-defined]
    membership.refresh_from_db()
    assert membership.commission_hsa_id == "SE2321000131-S000000000101"
    assert membership.user.first_name == "Sara"  # names from the assertion
    session = IdpSession.objects.get(user=membership.user)
    assert session.method == "siths-oidc" and session.idp_session_id


def test_physician_role_comes_from_the_licence_not_a_local_switch(configured: OidcProvider) -> None:
    doctor = grant(DOCTOR, WARD, Role.WARD_NURSE)
    assert sign_in(Client(), "doctor").status_code == 302
    doctor.refresh_from_db()
    assert doctor.role == Role.PHYSICIAN.value
    # A membership set to physician by hand, for a user without LK in the assertion, is a nurse after sign-in.
    nurse = grant(NURSE, WARD, Role.PHYSICIAN)
    assert sign_in(Client(), "nurse").status_code == 302
    nurse.refresh_from_db()
    assert nurse.role == Role.WARD_NURSE.value


@pytest.mark.parametrize(
    ("account", "rule"),
    [
        ("nurse-no-commission", "MEDARBETARUPPDRAG"),
        ("nurse-statistics", "UPPDRAG-SYFTE"),
        ("nurse-loa2", "LOA"),
    ],
)
def test_no_commission_for_care_no_access(configured: OidcProvider, account: str, rule: str) -> None:
    grant(NURSE, WARD, Role.WARD_NURSE)
    client = Client()
    response = sign_in(client, account)
    assert response.status_code == 403 and rule in response.content.decode()
    assert client.get("/").status_code == 302  # still not signed in
    assert not IdpSession.objects.exists()


def test_expired_membership_no_access(configured: OidcProvider) -> None:
    yesterday = dt.date.today() - dt.timedelta(days=1)  # noqa: DTZ011 - compared with localdate() in the code
    grant(NURSE, WARD, Role.WARD_NURSE, valid_from=yesterday - dt.timedelta(days=30), valid_until=yesterday)
    response = sign_in(Client(), "nurse")
    assert response.status_code == 403 and "BEHORIGHET-UTGANGEN" in response.content.decode()


def test_user_without_a_brygga_grant_has_no_access(configured: OidcProvider) -> None:
    response = sign_in(Client(), "nurse")
    assert response.status_code == 403 and "BEHORIGHET" in response.content.decode()


def test_replayed_callback_is_refused(configured: OidcProvider) -> None:
    grant(NURSE, WARD, Role.WARD_NURSE)
    client = Client()
    callback = idp_round_trip(client, requests.Session(), "nurse")
    assert client.get(callback).status_code == 302
    # The same code and state again, in another browser (an attacker) and in the same one.
    assert Client().get(callback).status_code == 403
    assert client.get(callback).status_code == 403
    assert IdpSession.objects.count() == 1


def test_token_for_another_client_is_refused_wrong_audience(settings, configured: OidcProvider) -> None:  # type: ignore[no-untyped-def]
    grant(NURSE, WARD, Role.WARD_NURSE)
    client = Client()
    callback = idp_round_trip(client, requests.Session(), "nurse")
    # brygga now presents itself as another registered client: the code was issued to brygga-test, so the
    # provider refuses the exchange, and nothing signs in.
    settings.BRYGGA_OIDC_CLIENT_ID = "another-service"
    settings.BRYGGA_OIDC_CLIENT_SECRET = CLIENT_SECRET + "-other"
    assert client.get(callback).status_code == 403
    assert not IdpSession.objects.exists()


def test_logout_token_for_another_audience_is_refused(configured: OidcProvider, backchannel) -> None:  # type: ignore[no-untyped-def]
    grant(NURSE, WARD, Role.WARD_NURSE)
    browser = requests.Session()
    client = Client()
    assert sign_in(client, "nurse", browser).status_code == 302
    # A genuine logout token from the provider, signed with its key, addressed to brygga-test: presented to a
    # brygga configured as another client, the audience is wrong and nothing ends.
    backchannel[1].clear()
    _end_idp_session(configured, browser)
    tokens = list(backchannel[1])
    assert len(tokens) == 1
    settings_client = Client()
    with override_settings(BRYGGA_OIDC_CLIENT_ID="another-service"):
        refused = settings_client.post("/inloggning/oidc/backchannel-logout/", {"logout_token": tokens[0]})
    assert refused.status_code == 400
    assert IdpSession.objects.filter(ended_at__isnull=True).count() == 1


def _end_idp_session(op: OidcProvider, browser: requests.Session) -> None:
    """The user logs out at the IdP itself (its end-session page, confirmed)."""
    page = browser.get(f"{op.issuer}/session/end")
    assert page.status_code == 200, page.text
    form = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', page.text))
    action = re.search(r'action="([^"]+)"', page.text)
    assert action is not None
    done = browser.post(
        urljoin(page.url, action.group(1)), data={**form, "logout": "yes"}, allow_redirects=False
    )
    assert done.status_code in (302, 303), (done.status_code, done.text, page.text)


def test_session_end_at_the_idp_ends_the_brygga_session(configured: OidcProvider, backchannel) -> None:  # type: ignore[no-untyped-def]
    grant(NURSE, WARD, Role.WARD_NURSE)
    browser = requests.Session()
    client = Client()
    assert sign_in(client, "nurse", browser).status_code == 302
    assert client.get("/").status_code == 200
    backchannel[1].clear()
    _end_idp_session(configured, browser)
    assert len(backchannel[1]) == 1
    response = Client().post("/inloggning/oidc/backchannel-logout/", {"logout_token": backchannel[1][0]})
    assert response.status_code == 200
    assert client.get("/").status_code == 302  # the brygga session is gone
    assert IdpSession.objects.get().ended_at is not None


def test_forged_logout_token_is_refused(configured: OidcProvider) -> None:
    response = Client().post(
        "/inloggning/oidc/backchannel-logout/", {"logout_token": "eyJhbGciOiJub25lIn0.e30."}
    )
    assert response.status_code == 400


def test_logout_goes_to_the_idp_end_session(configured: OidcProvider) -> None:
    grant(NURSE, WARD, Role.WARD_NURSE)
    client = Client()
    assert sign_in(client, "nurse").status_code == 302
    response = client.post("/inloggning/logga-ut/")
    assert response.status_code == 302
    target = response["Location"]
    assert target.startswith(configured.issuer) and "id_token_hint=" in target
    assert client.get("/").status_code == 302  # signed out in brygga


def test_access_log_records_how_the_user_authenticated(configured: OidcProvider) -> None:
    grant(NURSE, WARD, Role.WARD_NURSE)
    client = Client()
    assert sign_in(client, "nurse").status_code == 302
    person = make_person("1480")
    client.post("/personer/sok/", {"identifier": person.identifier})
    entry = AccessLogEntry.objects.get(person=person)
    assert entry.auth_method == "siths-oidc"


def test_loa3_is_the_default_accepted_level() -> None:
    from brygga.signin.services import accepted_loa

    assert LOA3 in accepted_loa() and "http://id.sambi.se/loa/loa2" not in accepted_loa()


def test_log_review_filters_on_how_users_authenticated(configured: OidcProvider) -> None:
    grant(NURSE, WARD, Role.WARD_NURSE)
    client = Client()
    assert sign_in(client, "nurse").status_code == 302
    siths_person, local_person = make_person("1480"), make_person("1480")
    client.post("/personer/sok/", {"identifier": siths_person.identifier})
    local = Client()
    local_user = UserFactory.create(username="lokal-sjukskoterska")
    Membership.objects.create(
        user=local_user,
        unit=Unit.objects.get(name=WARD),
        role=Role.WARD_NURSE.value,
        valid_from=dt.date(2000, 1, 1),
    )
    local.post("/konto/logga-in/", {"username": "lokal-sjukskoterska", "password": "ett-langt-testlosenord"})
    local.post("/personer/sok/", {"identifier": local_person.identifier})
    assert AccessLogEntry.objects.get(person=local_person).auth_method == "local"
    reviewer = Client()
    reviewer_user = UserFactory.create(username="granskare")
    Membership.objects.create(
        user=reviewer_user,
        unit=Unit.objects.get(name=WARD),
        role=Role.LOG_REVIEWER.value,
        valid_from=dt.date(2000, 1, 1),
    )
    reviewer.force_login(reviewer_user)
    page = reviewer.get("/logg/", {"auth": "siths-oidc"}).content.decode()
    assert siths_person.identifier in page and local_person.identifier not in page
    assert "SITHS via OpenID Connect" in page
    page = reviewer.get("/logg/", {"auth": "local"}).content.decode()
    assert local_person.identifier in page and siths_person.identifier not in page


def test_access_log_mac_covers_the_auth_method_and_old_entries_still_verify(configured: OidcProvider) -> None:
    from brygga.access.services import entry_mac

    grant(NURSE, WARD, Role.WARD_NURSE)
    client = Client()
    assert sign_in(client, "nurse").status_code == 302
    person = make_person("1480")
    client.post("/personer/sok/", {"identifier": person.identifier})
    entry = AccessLogEntry.objects.get(person=person)
    assert entry.mac == entry_mac(entry)
    entry.auth_method = "local"
    assert entry.mac != entry_mac(entry)  # changing how someone signed in is detected
