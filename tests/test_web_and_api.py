"""The web shell and the API: login with lock-out and TOTP, the unit switcher, health check, OpenAPI,
token auth, structured errors, and access-logged person reads through both channels."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from unittest.mock import ANY

import pyotp
import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from brygga.access.models import AccessLogEntry, Involvement
from brygga.access.services import involve
from brygga.accounts.models import ApiToken, Membership, User
from brygga.accounts.permissions import Role
from brygga.accounts.services import store_totp_secret
from brygga.demo.personas import DEMO_PASSWORD, PERSONAS
from tests.factories import CONTACT_POINT, OTHER_WARD, WARD, UserFactory, actor, make_person, unit

pytestmark = pytest.mark.django_db


def login(client: Client, username: str, password: str = DEMO_PASSWORD):  # type: ignore[no-untyped-def]
    return client.post(reverse("accounts:login"), {"username": username, "password": password})


def test_healthz_reports_database_state(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok" and response.json()["database"] == "ok"


def test_healthz_answers_head_for_load_balancers_and_refuses_writes(client: Client) -> None:
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405
    assert client.post("/readyz").status_code == 405


def test_healthz_is_one_select_whatever_the_session_and_readyz_checks_migrations(  # type: ignore[no-untyped-def]
    client: Client, django_assert_max_num_queries
) -> None:
    """ADR 0701: a probe costs one SELECT 1 even with a logged-in session's cookie (no session, user or
    membership look-up, no transaction), and /readyz is ready only when every migration is applied."""
    from brygga.web import health

    user = UserFactory.create(username="probe-user")
    client.force_login(user)
    with django_assert_max_num_queries(1):
        response = client.get("/healthz")
    assert response.status_code == 200 and response.json()["database"] == "ok"
    health._migrated = False
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "database": "ok", "migrations": "applied", "vendor": ANY}


def test_probes_answer_503_when_the_database_is_down_or_migrations_are_pending(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db.migrations.executor import MigrationExecutor

    from brygga.web import health

    monkeypatch.setattr(health, "_migrated", False)
    monkeypatch.setattr(MigrationExecutor, "migration_plan", lambda self, targets: [("cases", "9999")])
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json()["migrations"] == "pending"
    assert client.get("/healthz").status_code == 200  # alive, just not ready
    monkeypatch.setattr(health, "_database_ok", lambda: False)
    for path in ("/healthz", "/readyz"):
        response = client.get(path)
        assert response.status_code == 503 and response.json()["database"] == "unavailable"


def test_every_demo_persona_can_log_in_and_sees_the_active_unit(demo, client: Client) -> None:  # type: ignore[no-untyped-def]
    for username, *_rest, grants in PERSONAS:
        client.logout()
        response = login(client, username)
        assert response.status_code == 302, username
        if len(grants) > 1:
            assert client.get("/").status_code == 302  # several units: choose first
            membership = Membership.objects.filter(user__username=username).first()
            client.post(reverse("web:choose_unit"), {"membership": membership.pk})  # type: ignore[union-attr]
        page = client.get("/")
        assert page.status_code == 200, username
        assert grants[0][0] in page.content.decode() or len(grants) > 1


def test_wrong_passwords_pause_that_user_name_from_that_client_only(client: Client) -> None:
    """Issue 20 item 5 (django-axes, ADR 0807): five failures lock the pair (user name, client address) for 15
    minutes; the same user signs in from another address meanwhile, so nobody can lock a known user out."""
    User.objects.create_user("lasbar", password="ett-langt-testlosenord")
    start = timezone.now()
    attacker = Client(REMOTE_ADDR="198.51.100.7")
    with time_machine.travel(start, tick=False):
        for _ in range(5):
            assert login(attacker, "lasbar", "fel").status_code == 400
        response = login(attacker, "lasbar", "ett-langt-testlosenord")
        assert response.status_code == 400
        assert "För många misslyckade inloggningar" in response.content.decode()
        assert login(Client(REMOTE_ADDR="192.0.2.10"), "lasbar", "ett-langt-testlosenord").status_code == 302
    with time_machine.travel(start + dt.timedelta(minutes=16), tick=False):
        assert login(attacker, "lasbar", "ett-langt-testlosenord").status_code == 302


def test_the_pause_does_not_tell_whether_the_user_name_exists() -> None:
    User.objects.create_user("finns2", password="ett-langt-testlosenord")
    pages = {}
    for username in ("finns2", "finnsinte2"):
        client = Client(REMOTE_ADDR="198.51.100.8")
        for _ in range(6):
            response = login(client, username, "fel")
        pages[username] = (response.status_code, response.content.decode().replace(username, "NAMN"))
    assert pages["finns2"][0] == pages["finnsinte2"][0] == 400
    assert "För många misslyckade inloggningar" in pages["finns2"][1]
    strip = re.compile(r'name="(csrfmiddlewaretoken|form_token)" value="[^"]*"')
    assert strip.sub("", pages["finns2"][1]) == strip.sub("", pages["finnsinte2"][1])


def test_unknown_user_gets_the_same_message_as_a_wrong_password(client: Client) -> None:
    User.objects.create_user("finns", password="ett-langt-testlosenord")
    a = login(client, "finns", "fel").content.decode()
    b = login(client, "finnsinte", "fel").content.decode()
    assert "Fel användarnamn eller lösenord" in a and "Fel användarnamn eller lösenord" in b


def test_totp_second_factor_is_required_once_enrolled(client: Client) -> None:
    user = User.objects.create_user("totp", password="ett-langt-testlosenord")
    secret = pyotp.random_base32()
    store_totp_secret(user, secret, confirmed=True)
    response = login(client, "totp", "ett-langt-testlosenord")
    assert response.url == reverse("accounts:totp")  # type: ignore[attr-defined]
    assert "_auth_user_id" not in client.session
    assert client.post(reverse("accounts:totp"), {"code": "000000"}).status_code == 400
    assert "_auth_user_id" not in client.session
    response = client.post(reverse("accounts:totp"), {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(user.pk)
    assert client.session["brygga_auth_method"] == "local-totp"


def test_totp_secret_is_sealed_at_rest_and_a_code_works_once(client: Client) -> None:
    from brygga.accounts.services import verify_totp
    from brygga.core.errors import DomainError

    user = User.objects.create_user("totp2", password="ett-langt-testlosenord")
    secret = pyotp.random_base32()
    store_totp_secret(user, secret, confirmed=True)
    user.refresh_from_db()
    assert secret not in user.totp_secret  # not in clear in the database
    now = timezone.now()
    code = pyotp.TOTP(secret).at(now)
    verify_totp(user, code, now=now)
    with pytest.raises(DomainError):  # the same code again: a replay
        verify_totp(user, code, now=now + dt.timedelta(seconds=5))
    previous = pyotp.TOTP(secret).at(now - dt.timedelta(seconds=30))
    with pytest.raises(DomainError):  # an older code within the drift window is refused too
        verify_totp(user, previous, now=now)


def test_wrong_totp_codes_lock_the_account(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    from brygga.accounts.services import verify_totp
    from brygga.core.errors import DomainError

    user = User.objects.create_user("totp3", password="ett-langt-testlosenord")
    secret = pyotp.random_base32()
    store_totp_secret(user, secret, confirmed=True)
    for _attempt in range(settings.BRYGGA_LOCKOUT_THRESHOLD):
        with pytest.raises(DomainError):
            verify_totp(user, "000000")
    user.refresh_from_db()
    assert user.is_locked()
    with pytest.raises(DomainError) as exc:  # now even the right code is refused until the lock ends
        verify_totp(user, pyotp.TOTP(secret).now())
    assert exc.value.problems[0].rule == "KONTO-LAST"


def test_local_login_is_off_by_default_in_production(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    import brygga.settings as production

    assert production.DEBUG is False and production.BRYGGA_LOCAL_LOGIN is False
    settings.BRYGGA_LOCAL_LOGIN = False
    User.objects.create_user("lokal", password="ett-langt-testlosenord")
    response = login(client, "lokal", "ett-langt-testlosenord")
    assert response.status_code == 403 and "_auth_user_id" not in client.session
    # The message, not the internal code (issue 13: pages show only rule codes a user can look up).
    assert "Lokala konton är avstängda. Logga in med SITHS." in response.content.decode()


def test_production_hashes_passwords_with_argon2() -> None:
    from django.contrib.auth.hashers import check_password, make_password

    import brygga.settings as production

    assert production.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    encoded = make_password("ett-langt-testlosenord", hasher="argon2")
    assert encoded.startswith("argon2$argon2id$")
    assert check_password("ett-langt-testlosenord", encoded)


def test_unit_switcher_accepts_only_own_memberships(client: Client) -> None:
    nurse = actor(Role.WARD_NURSE, WARD, username="flera")
    Membership.objects.create(user=nurse.user, unit=unit(OTHER_WARD), role=Role.WARD_NURSE.value)
    foreign = actor(Role.WARD_NURSE, CONTACT_POINT, username="annan").membership
    client.force_login(nurse.user)
    response = client.post(reverse("web:choose_unit"), {"membership": foreign.pk})  # type: ignore[union-attr]
    assert response.status_code == 400
    assert "brygga_active_membership" not in client.session
    client.post(reverse("web:choose_unit"), {"membership": nurse.membership.pk})  # type: ignore[union-attr]
    assert client.session["brygga_active_membership"] == nurse.membership.pk  # type: ignore[union-attr]


def test_person_page_is_not_found_for_units_without_involvement(client: Client) -> None:
    nurse = actor(Role.WARD_NURSE, WARD, username="nurse")
    other = actor(Role.WARD_NURSE, OTHER_WARD, username="other")
    person = make_person()
    involve(person, unit(WARD), Involvement.Kind.INPATIENT_CASE, "case:1")
    client.force_login(other.user)
    assert client.get(reverse("web:person_detail", args=[person.pk])).status_code == 404
    client.force_login(nurse.user)
    page = client.get(reverse("web:person_detail", args=[person.pk]))
    assert page.status_code == 200 and "Testa Testsson" in page.content.decode()
    assert AccessLogEntry.objects.filter(user=nurse.user, person=person, action="read").count() == 1
    # The refused unit read nothing; its attempt is logged as denied (issue 13 item 8, ADR 0801).
    assert not AccessLogEntry.objects.filter(user=other.user).exclude(action="denied").exists()
    assert AccessLogEntry.objects.filter(user=other.user, action="denied", person=person).count() == 1


def test_web_lookup_shows_a_clear_swedish_error_for_a_bad_number(client: Client) -> None:
    nurse = actor(Role.WARD_NURSE, WARD, username="nurse")
    client.force_login(nurse.user)
    page = client.post(reverse("web:person_lookup"), {"identifier": "19121212-1213"})
    assert page.status_code == 400
    assert "fel kontrollsiffra" in page.content.decode()
    assert AccessLogEntry.objects.count() == 0


def test_statistics_role_is_refused_person_lookup(client: Client) -> None:
    stats = actor(Role.STATISTICS, WARD, username="stats")
    client.force_login(stats.user)
    assert client.post(reverse("web:person_lookup"), {"identifier": "191212121212"}).status_code == 403


# --- API ------------------------------------------------------------------------------------------------------


def _token(role: Role = Role.SYSTEM, unit_name: str = WARD) -> str:
    system = actor(role, unit_name, username=f"system-{role.value}")
    _obj, raw = ApiToken.issue(system.membership, "journal")  # type: ignore[arg-type]
    return raw


def test_openapi_document_lists_the_endpoints(client: Client) -> None:
    doc = client.get("/api/v1/openapi.json").json()
    assert doc["info"]["version"] == "1"
    for path in (
        "/api/v1/organisations",
        "/api/v1/municipalities",
        "/api/v1/units",
        "/api/v1/persons/lookup",
    ):
        assert path in doc["paths"]


def test_api_requires_authentication(client: Client) -> None:
    response = client.get("/api/v1/municipalities")
    assert response.status_code == 401
    assert response.json()["error"] == "unauthenticated"


def test_api_municipalities_with_population(client: Client) -> None:
    response = client.get("/api/v1/municipalities", HTTP_AUTHORIZATION=f"Bearer {_token()}")
    assert response.status_code == 200
    data = response.json()
    assert len(data) == 49
    gbg = next(m for m in data if m["scb_code"] == "1480")
    assert gbg["subregion"] == "Göteborgsområdet" and gbg["populations"][0]["year"] == 2024


def test_api_units_filter(client: Client) -> None:
    response = client.get("/api/v1/units?kind=municipal_contact", HTTP_AUTHORIZATION=f"Bearer {_token()}")
    assert len(response.json()) == 49


def test_api_revoked_token_is_refused(client: Client) -> None:
    raw = _token()
    ApiToken.objects.update(revoked_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    assert client.get("/api/v1/units", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401


def test_api_lookup_is_logged_and_bad_numbers_get_structured_errors(client: Client) -> None:
    person = make_person()
    auth: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {_token()}"}
    ok = client.post(
        "/api/v1/persons/lookup",
        {"identifier": person.identifier, "purpose": "stay"},  # not yet the unit's: the purpose is stated
        content_type="application/json",
        **auth,
    )
    assert ok.status_code == 200 and ok.json()["name"] == "Testa Testsson"
    entry = AccessLogEntry.objects.get()
    assert entry.channel == "api" and entry.action == "lookup"
    bad = client.post(
        "/api/v1/persons/lookup", {"identifier": "19121212-1213"}, content_type="application/json", **auth
    )
    assert bad.status_code == 400
    assert bad.json() == {
        "error": "invalid",
        "problems": [
            {
                "field": "identifier",
                "rule": "PNR-KONTROLLSIFFRA",
                "message": "Personnumret har fel kontrollsiffra.",
            }
        ],
    }
    missing = client.post("/api/v1/persons/lookup", {}, content_type="application/json", **auth)
    assert missing.status_code == 422
    assert missing.json()["problems"][0]["field"] == "identifier"
    assert AccessLogEntry.objects.count() == 1


def test_api_person_read_needs_involvement_and_masks_protected_identity(client: Client) -> None:
    person = make_person(protected=True)
    auth: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {_token()}"}
    assert client.get(f"/api/v1/persons/{person.pk}", **auth).status_code == 404
    involve(person, unit(WARD), Involvement.Kind.INPATIENT_CASE, "case:1")
    data = client.get(f"/api/v1/persons/{person.pk}", **auth).json()
    assert data["name"] == "Skyddad identitet" and "Provgatan" not in data["address"]
    assert AccessLogEntry.objects.filter(person=person, channel="api", action="read").count() == 1
    assert AccessLogEntry.objects.filter(person=person, channel="api", action="denied").count() == 1


def test_api_session_auth_uses_the_active_unit(client: Client) -> None:
    nurse = actor(Role.WARD_NURSE, WARD, username="nurse")
    person = make_person()
    involve(person, unit(WARD), Involvement.Kind.INPATIENT_CASE, "case:1")
    client.force_login(nurse.user)
    assert client.get(f"/api/v1/persons/{person.pk}").status_code == 200
