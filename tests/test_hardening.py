"""Hardening (issue 20; issue 13 item 8): no server error for any input, every documented endpoint reachable and
its errors documented as they are, denied attempts in the access log, and the small leaks closed (headers,
another unit's consent, a deactivated unit's token)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import Resolver404, resolve
from django.utils import timezone

from brygga.access.models import AccessLogEntry, DenialReason, Involvement
from brygga.access.services import involve
from brygga.accounts.models import ApiToken
from brygga.accounts.permissions import Role
from brygga.api.api import api
from brygga.cases.models import Case
from brygga.consent.models import Consent
from brygga.consent.services import record_consent
from brygga.sip.models import CareRequest, SipOffer
from tests.factories import OTHER_WARD, PRIMARY_CARE, WARD, actor, make_person, unit

pytestmark = pytest.mark.django_db

HOME = "Göteborg hemsjukvård"


def bearer(role: Role, unit_name: str, username: str | None = None) -> Client:
    a = actor(role, unit_name, username=username)
    _token, raw = ApiToken.issue(a.membership, f"{role.value}-test")  # type: ignore[arg-type]
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def involved_person(unit_name: str = WARD) -> Any:
    person = make_person()
    involve(person, unit(unit_name), Involvement.Kind.OTHER, "test:hardening")
    return person


def openapi() -> dict[str, Any]:
    return api.get_openapi_schema(path_prefix="/api/v1")


# --- 20.1: no server error for any input ------------------------------------------------------------------


@pytest.mark.parametrize(
    "role", [Role.FORUM_MEMBER, Role.STATISTICS, Role.GITS_COORDINATOR, Role.LOCAL_ADMIN, Role.LOG_REVIEWER]
)
def test_case_list_for_roles_without_an_inbox_is_empty_not_a_server_error(role: Role) -> None:
    response = bearer(role, WARD).get("/api/v1/cases/")
    assert response.status_code == 200
    assert response.json() == []
    assert response["X-Total-Count"] == "0"


def test_disclosure_without_a_receiving_unit_names_the_field() -> None:
    person = involved_person()
    response = bearer(Role.WARD_NURSE, WARD).get(
        f"/api/v1/sip/disclosure?person_id={person.pk}&to_unit=&category=health"
    )
    assert response.status_code == 400
    assert response.json()["problems"][0]["field"] == "to_unit"


def test_nul_character_in_a_query_is_refused_naming_the_parameter() -> None:
    response = bearer(Role.WARD_NURSE, WARD).get("/api/v1/cases/?q=Test%00sson")
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid",
        "problems": [
            {"field": "q", "rule": "NUL-TECKEN", "message": "Fältet innehåller ett otillåtet tecken (NUL)."}
        ],
    }


def test_nul_character_in_a_json_body_is_refused_and_nothing_is_written() -> None:
    person = make_person()
    response = bearer(Role.SYSTEM, WARD).post(
        "/api/v1/cases/",
        {
            "identifier": person.identifier,
            "admitted_at": timezone.now().isoformat(),
            "care_type": "somatic",
            "external_id": "EHR\u00001",
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert [(p["field"], p["rule"]) for p in response.json()["problems"]] == [("external_id", "NUL-TECKEN")]
    assert not Case.objects.exists()


def test_nul_character_in_a_web_search_box_gets_a_swedish_refusal(client: Client) -> None:
    nurse = actor(Role.WARD_NURSE, WARD)
    client.force_login(nurse.user)
    response = client.get("/?q=a%00b")
    assert response.status_code == 400
    assert "Fältet innehåller ett otillåtet tecken (NUL)." in response.content.decode()


@pytest.mark.parametrize("offset", ["-22:40", "+15:00", "-12:01", "+14:01"])
def test_time_with_an_unreal_utc_offset_is_refused_and_nothing_is_written(offset: str) -> None:
    person = make_person()
    admitted = (timezone.now() - dt.timedelta(hours=2)).replace(microsecond=0, tzinfo=None).isoformat()
    response = bearer(Role.SYSTEM, WARD).post(
        "/api/v1/cases/",
        {"identifier": person.identifier, "admitted_at": admitted + offset, "care_type": "somatic"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["problems"][0]["field"] == "admitted_at"
    assert response.json()["problems"][0]["rule"] == "DATUM-TIDSZON"
    assert not Case.objects.exists()


def test_the_extreme_real_offsets_are_accepted() -> None:
    from brygga.core.middleware import offset_out_of_range

    assert not offset_out_of_range("2026-11-10T06:00:00-12:00")
    assert not offset_out_of_range("2026-11-10T06:00:00+14:00")
    assert not offset_out_of_range("2026-11-10T06:00:00+01:00")
    assert offset_out_of_range("2026-11-10 06:00-22:40")


# --- 20.1 / 20.2: the OpenAPI document is true --------------------------------------------------------------


def test_every_documented_operation_reaches_a_view_that_takes_its_method() -> None:
    """Issue 20 item 2: GET /sip/{sip_id} registered before POST /sip/consents made the POST answer 405. Each
    operation's path (ids filled in) must resolve to the view that serves its method."""
    wrong = []
    for path, operations in openapi()["paths"].items():
        url = re.sub(r"\{[^}]+\}", "1", path)
        try:
            match = resolve(url)
        except Resolver404:
            wrong.append(f"{path}: no route")
            continue
        path_view = next(
            (c.cell_contents for c in match.func.__closure__ or () if hasattr(c.cell_contents, "operations")),
            None,
        )
        methods = {m for op in getattr(path_view, "operations", []) for m in op.methods}
        wrong += [f"{method.upper()} {path}" for method in operations if method.upper() not in methods]
    assert wrong == []


def test_two_request_bodies_never_share_a_schema_name() -> None:
    """Issue 20 item 1: two ``WithdrawIn`` made /discharge-ready/withdraw document ``note`` while it needs
    ``reason``."""
    doc = openapi()
    body = doc["paths"]["/api/v1/cases/{case_id}/discharge-ready/withdraw"]["post"]["requestBody"]
    name = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert doc["components"]["schemas"][name]["required"] == ["reason"]
    consent = doc["paths"]["/api/v1/sip/consents/{consent_id}/withdraw"]["post"]["requestBody"]
    assert (
        consent["content"]["application/json"]["schema"]["$ref"]
        != body["content"]["application/json"]["schema"]["$ref"]
    )


def test_every_operation_documents_its_errors_in_the_error_envelope() -> None:
    error = {"$ref": "#/components/schemas/Error"}
    for path, operations in openapi()["paths"].items():
        for method, operation in operations.items():
            for code in ("400", "401", "404", "422"):
                schema = operation["responses"][code]["content"]["application/json"]["schema"]
                assert schema == error or error in schema.get("anyOf", []), (method, path, code)


def test_a_schema_violation_is_answered_in_the_documented_envelope() -> None:
    response = bearer(Role.SYSTEM, WARD).post(
        "/api/v1/cases/", {"care_type": 3}, content_type="application/json"
    )
    assert response.status_code == 422
    body = response.json()
    assert set(body) == {"error", "problems"} and body["error"] == "invalid"
    assert {"field", "rule", "message"} == set(body["problems"][0])


# --- 20.2: the three POSTs that GET /sip/{sip_id} used to catch ---------------------------------------------


def test_consent_offer_and_care_request_can_be_posted_through_the_api() -> None:
    person = involved_person(PRIMARY_CARE)
    client = bearer(Role.CARE_COORDINATOR, PRIMARY_CARE)
    consent = client.post(
        "/api/v1/sip/consents",
        {
            "person_id": person.pk,
            "given_by": "person",
            "form": "verbal",
            "purpose": "SIP och vårdbegäran",
            "parties": [unit(HOME).hsa_id],
            "categories": ["sip", "health", "medications", "efforts"],
            "exclusions_note": "Inget",
        },
        content_type="application/json",
    )
    assert consent.status_code == 201, consent.content
    assert Consent.objects.filter(pk=consent.json()["consent_id"], person=person).exists()

    offer = client.post(
        "/api/v1/sip/offers", {"person_id": person.pk, "answer": "accepted"}, content_type="application/json"
    )
    assert offer.status_code == 201, offer.content
    assert SipOffer.objects.get(pk=offer.json()["offer_id"]).answer == "accepted"

    care_request = client.post(
        "/api/v1/sip/care-requests",
        {
            "person_id": person.pk,
            "to_unit": unit(HOME).hsa_id,
            "reason": "Behöver hjälp med sårvård i hemmet efter besök på vårdcentralen.",
            "health_summary": "Venöst bensår vänster underben, i övrigt stabil.",
            "requested_efforts": ["wound_care"],
            "medication_responsibility": "person",
            "start_on": (timezone.localdate() + dt.timedelta(days=3)).isoformat(),
            "contact_name": "Fia Fastvård",
            "contact_phone": "031-123 45 67",
        },
        content_type="application/json",
    )
    assert care_request.status_code == 201, care_request.content
    assert CareRequest.objects.get(pk=care_request.json()["care_request"]["id"]).person == person


# --- issue 13 item 8: denied attempts are logged ------------------------------------------------------------


def test_asking_for_another_units_person_is_404_and_logged_as_denied_with_who_what_why() -> None:
    person = involved_person(WARD)
    stranger = bearer(Role.WARD_NURSE, OTHER_WARD, username="nyfiken")
    response = stranger.get(f"/api/v1/persons/{person.pk}")
    assert response.status_code == 404
    assert person.identifier not in response.content.decode()
    entry = AccessLogEntry.objects.get(action=AccessLogEntry.Action.DENIED)
    assert entry.user_label.endswith("(nyfiken)")
    assert entry.unit_label == OTHER_WARD
    assert entry.what == f"GET /api/v1/persons/{person.pk}"
    assert entry.reason == DenialReason.NO_INVOLVEMENT
    assert entry.person == person and entry.had_involvement is False
    # Nothing else of the refused request remains: the denial is the only entry.
    assert AccessLogEntry.objects.count() == 1


def test_a_refused_web_page_is_logged_too_and_a_missing_object_says_so(client: Client) -> None:
    from brygga.cases import services

    person = make_person()
    case = services.admit(
        actor(Role.WARD_NURSE, WARD), person, admitted_at=timezone.now(), care_type="somatic"
    )
    stranger = actor(Role.WARD_NURSE, OTHER_WARD)
    client.force_login(stranger.user)
    assert client.get(f"/arenden/{case.pk}/").status_code == 404
    assert client.get(f"/arenden/{case.pk + 1000}/").status_code == 404
    denied = list(AccessLogEntry.objects.filter(action=AccessLogEntry.Action.DENIED).order_by("id"))
    assert [(e.reason, e.person_id) for e in denied] == [
        (DenialReason.NO_INVOLVEMENT, person.pk),
        (DenialReason.NOT_FOUND, None),
    ]


def test_denied_entries_are_sealed_and_verified_like_every_other_entry() -> None:
    from brygga.access.services import seal_access_log, verify_access_log

    person = involved_person(WARD)
    bearer(Role.WARD_NURSE, OTHER_WARD).get(f"/api/v1/persons/{person.pk}")
    assert seal_access_log(now=timezone.now() + dt.timedelta(minutes=5)) is not None
    assert verify_access_log() == []


def test_the_log_review_filters_denied_attempts_and_counts_them_per_user(client: Client) -> None:
    person = involved_person(WARD)
    prober = bearer(Role.WARD_NURSE, OTHER_WARD, username="sonderare")
    for _ in range(3):
        prober.get(f"/api/v1/persons/{person.pk}")
    reviewer = actor(Role.LOG_REVIEWER, OTHER_WARD)
    client.force_login(reviewer.user)
    page = client.get("/logg/?denied=1")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Nekade försök per användare" in html
    rows = page.context["denied_by_user"]
    assert [(r["user_label"].endswith("(sonderare)"), r["count"]) for r in rows] == [(True, 3)]
    assert page.context["page"].paginator.count == 3
    assert "Enheten medverkar inte i personens vård" in html


# --- 20.5: small leaks ----------------------------------------------------------------------------------------


def test_withdrawing_another_units_consent_is_404_like_one_that_does_not_exist() -> None:
    person = involved_person(PRIMARY_CARE)
    recorder = actor(Role.CARE_COORDINATOR, PRIMARY_CARE)
    consent = record_consent(
        recorder,
        person,
        given_by="person",
        form="verbal",
        purpose="SIP",
        parties=[unit(HOME)],
        categories=["sip"],
        exclusions_note="Inget",
    )
    for role in (Role.WARD_NURSE, Role.STATISTICS):
        stranger = bearer(role, OTHER_WARD)
        existing = stranger.post(
            f"/api/v1/sip/consents/{consent.pk}/withdraw", {}, content_type="application/json"
        )
        missing = stranger.post(
            f"/api/v1/sip/consents/{consent.pk + 999}/withdraw", {}, content_type="application/json"
        )
        assert existing.status_code == missing.status_code == 404
        assert existing.json() == missing.json()
    consent.refresh_from_db()
    assert consent.withdrawn_at is None


def test_an_api_token_stops_working_when_its_unit_is_deactivated() -> None:
    client = bearer(Role.SYSTEM, WARD)
    assert client.get("/api/v1/cases/").status_code == 200
    ward = unit(WARD)
    ward.is_active = False
    ward.save(update_fields=["is_active"])
    response = client.get("/api/v1/cases/")
    assert response.status_code == 401
    assert response.json()["error"] == "unauthenticated"


def test_pages_carry_a_strict_content_security_policy(client: Client) -> None:
    response = client.get("/konto/logga-in/")
    policy = response["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    # Only the site's own script files run (counter, htmx): nothing inline, nothing from elsewhere.
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy and "form-action 'self'" in policy


def test_personal_data_responses_are_never_stored(client: Client) -> None:
    person = involved_person(WARD)
    api_response = bearer(Role.WARD_NURSE, WARD).get(f"/api/v1/persons/{person.pk}")
    assert api_response.status_code == 200
    assert "no-store" in api_response["Cache-Control"]
    nurse = actor(Role.WARD_NURSE, WARD)
    client.force_login(nurse.user)
    page = client.get("/")
    assert "no-store" in page["Cache-Control"]


# --- 20.3: a double submit of a web form has one effect ------------------------------------------------------


def _form_token(page: str, action_url: str) -> str:
    """The one-time token of the page's form that posts to ``action_url``."""
    form = page.split(f'action="{action_url}"', 1)[1].split("</form>", 1)[0]
    match = re.search(r'name="form_token" value="([0-9a-f]{32})"', form)
    assert match is not None, "the form has no one-time token"
    return match.group(1)


def test_every_post_form_on_a_page_gets_its_own_one_time_token() -> None:
    from brygga.core.once import add_tokens

    html = add_tokens(b'<form method="post" action="/a"></form><form method="get"></form><FORM METHOD=POST>')
    tokens = re.findall(rb'name="form_token" value="([0-9a-f]{32})"', html)
    assert len(tokens) == 2 and tokens[0] != tokens[1]


def test_a_double_sent_message_is_one_message_and_one_event() -> None:
    from django.urls import reverse

    from brygga.cases.models import CaseEvent
    from brygga.messaging.models import Message
    from tests.factories import share_consent
    from tests.test_messaging import noticed_case

    nurse = actor(Role.WARD_NURSE, WARD)
    case = noticed_case(nurse)
    receivers = case.participants.filter(status="active").exclude(role="ward").select_related("unit")
    share_consent(nurse, case.person, [p.unit for p in receivers], categories=["health"])
    client = Client()
    client.force_login(nurse.user)
    action = reverse("cases:action", args=[case.pk, "message"])
    token = _form_token(client.get(reverse("cases:detail", args=[case.pk])).content.decode(), action)
    data = {
        "category": "healthcare",
        "subject": "Läkemedel",
        "body": "Ny dos från i morgon.",
        "form_token": token,
    }
    first = client.post(action, data)
    second = client.post(action, data)  # the double-click
    assert first.status_code == 302 and second.status_code == 302
    assert second["Location"] == first["Location"]
    assert Message.objects.filter(thread__case=case).count() == 1
    assert CaseEvent.objects.filter(case=case, kind="message_sent").count() == 1


def test_a_double_acknowledgement_is_one_event() -> None:
    from django.urls import reverse

    from brygga.cases.models import CaseEvent
    from tests.factories import CONTACT_POINT
    from tests.test_messaging import noticed_case

    case = noticed_case(actor(Role.WARD_NURSE, WARD))
    contact = actor(Role.MUNICIPAL_CONTACT, CONTACT_POINT)
    client = Client()
    client.force_login(contact.user)
    action = reverse("cases:action", args=[case.pk, "acknowledge"])
    token = _form_token(client.get(reverse("cases:detail", args=[case.pk])).content.decode(), action)
    for _ in range(2):
        assert client.post(action, {"form_token": token}).status_code == 302
    assert CaseEvent.objects.filter(case=case, kind="acknowledged").count() == 1


def test_a_refused_submission_releases_its_token() -> None:
    from django.urls import reverse

    from brygga.core.models import IdempotencyRecord
    from brygga.messaging.models import Message
    from tests.test_messaging import noticed_case

    nurse = actor(Role.WARD_NURSE, WARD)
    case = noticed_case(nurse)
    client = Client()
    client.force_login(nurse.user)
    action = reverse("cases:action", args=[case.pk, "message"])
    token = _form_token(client.get(reverse("cases:detail", args=[case.pk])).content.decode(), action)
    refused = client.post(action, {"category": "other", "subject": "x", "body": "y", "form_token": token})
    assert refused.status_code >= 400
    assert not IdempotencyRecord.objects.filter(key=f"form:{token}").exists()
    assert not Message.objects.exists()


def test_a_body_that_is_not_json_is_answered_in_the_documented_envelope() -> None:
    response = bearer(Role.WARD_NURSE, WARD).post(
        "/api/v1/persons/lookup", "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid",
        "problems": [{"field": "body", "rule": "JSON", "message": "Anropets innehåll är inte giltig JSON."}],
    }


# --- 20.6: the person search is need-to-know too --------------------------------------------------------------


def _lookup(client: Client, identifier: str, purpose: str | None = None) -> Any:
    body: dict[str, Any] = {"identifier": identifier}
    if purpose is not None:
        body["purpose"] = purpose
    return client.post("/api/v1/persons/lookup", body, content_type="application/json")


def test_a_ward_finds_a_person_not_yet_theirs_only_with_a_stated_purpose_and_it_is_logged() -> None:
    person = make_person()
    nurse = bearer(Role.WARD_NURSE, WARD)
    assert _lookup(nurse, person.identifier).status_code == 404  # no purpose: "not found"
    found = _lookup(nurse, person.identifier, "stay")
    assert found.status_code == 200 and found.json()["name"] == "Testa Testsson"
    entry = AccessLogEntry.objects.get(action=AccessLogEntry.Action.LOOKUP)
    assert entry.what == "person/uppslag:inskrivning" and entry.had_involvement is False


def test_an_involved_unit_finds_its_person_without_a_purpose() -> None:
    person = involved_person(WARD)
    assert _lookup(bearer(Role.WARD_NURSE, WARD), person.identifier).status_code == 200


def test_a_municipal_system_token_does_not_find_a_person_not_yet_theirs() -> None:
    """Issue 20.6: another municipality's system token got name and address of anyone."""
    person = make_person()
    system = bearer(Role.SYSTEM, "Borås kontaktpunkt")
    refused = _lookup(system, person.identifier, "stay")  # a contact point starts no inpatient stay
    missing = _lookup(system, "19121212-1212", "stay")
    assert refused.status_code == missing.status_code == 404
    assert refused.json() == missing.json()
    assert "Testa" not in refused.content.decode()
    denied = AccessLogEntry.objects.get(action=AccessLogEntry.Action.DENIED, person=person)
    assert denied.reason == DenialReason.ROLE
    assert not AccessLogEntry.objects.filter(action=AccessLogEntry.Action.LOOKUP).exists()


def test_a_purpose_the_role_cannot_act_on_finds_nothing() -> None:
    person = make_person()
    ehr = bearer(Role.SYSTEM, WARD)
    assert _lookup(ehr, person.identifier, "sip").status_code == 404  # an EHR system starts no SIP
    assert _lookup(ehr, person.identifier, "stay").status_code == 200


def test_person_searches_outside_the_unit_are_limited_per_hour(settings) -> None:  # type: ignore[no-untyped-def]
    settings.BRYGGA_LOOKUP_LIMIT_PER_HOUR = 2
    nurse = bearer(Role.WARD_NURSE, WARD)
    for _ in range(2):
        assert _lookup(nurse, make_person().identifier, "stay").status_code == 200
    refused = _lookup(nurse, make_person().identifier, "stay")
    assert refused.status_code == 429
    assert refused.json()["problems"][0]["rule"] == "UPPSLAG-GRANS"
    assert AccessLogEntry.objects.filter(action=AccessLogEntry.Action.LOOKUP).count() == 2


def test_a_broken_multipart_body_is_a_client_error_not_a_traceback(client: Client, caplog) -> None:  # type: ignore[no-untyped-def]
    """Found by the API fuzzer: the input check read request.POST of a multipart body without a boundary, and
    Django logged the parser's exception with its traceback."""
    response = client.post("/api/v1/documents/verify", data=b"x", content_type="multipart/form-data")
    assert 400 <= response.status_code < 500
    assert not [r for r in caplog.records if r.exc_info]
