"""SIP, consent and care requests through the web pages and /api/v1/sip: Swedish errors next to fields with
the rule, need-to-know (404), the list page's inbox items, the plan PDF, idempotent API writes and the FHIR
CarePlan."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from brygga.access.models import AccessLogEntry, Involvement
from brygga.access.services import involve
from brygga.accounts.context import Actor
from brygga.accounts.models import ApiToken
from brygga.accounts.permissions import Role
from brygga.consent.models import Consent
from brygga.consent.services import record_consent
from brygga.sip import services
from brygga.sip.models import CareRequest, Sip
from brygga.sip.selectors import inbox_items
from tests.factories import PRIMARY_CARE, actor, make_person, unit
from tests.fhir_helpers import valid

pytestmark = pytest.mark.django_db

HOME = "Göteborg hemsjukvård"


@pytest.fixture
def person():  # type: ignore[no-untyped-def]
    p = make_person("1480")
    involve(p, unit(PRIMARY_CARE), Involvement.Kind.OTHER, "test:listning")
    return p


def client_for(a) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(a.user)
    return client


def consent(vc, person):  # type: ignore[no-untyped-def]
    return record_consent(
        vc,
        person,
        given_by="person",
        form="verbal",
        purpose="SIP",
        parties=[unit(HOME)],
        categories=["sip", "health", "medications", "efforts"],
        exclusions_note="Inget",
    )


def established(vc, person) -> Sip:  # type: ignore[no-untyped-def]
    consent(vc, person)
    sip = services.start_sip(vc, person, need_description="Behov av hemsjukvård")
    services.add_participant(vc, sip, kind="unit", unit=unit(HOME))
    services.summon(vc, sip, meeting_at=timezone.now() + dt.timedelta(minutes=1))
    Sip.objects.filter(pk=sip.pk).update(summoned_at=timezone.now() - dt.timedelta(hours=1))
    sip.refresh_from_db()
    services.record_meeting(vc, sip)
    services.save_draft(
        vc,
        sip,
        what_matters="Att få bo kvar hemma.",
        needs="Sårvård och läkemedel.",
        other_efforts="Inga",
        overall_responsible_unit=unit(PRIMARY_CARE),
        efforts=[
            {"need": "Sår", "effort": "Sårvård", "responsible_unit": unit(HOME).pk},
            {"need": "Läkemedel", "effort": "Genomgång", "responsible_unit": unit(PRIMARY_CARE).pk},
        ],
    )
    services.establish(vc, sip, follow_up_on=timezone.localdate() + dt.timedelta(days=30))
    return sip


def test_new_sip_form_shows_the_error_next_to_the_field_and_creates_nothing(vc, person) -> None:  # type: ignore[no-untyped-def]
    client = client_for(vc)
    response = client.post(reverse("sip:new"), {"person": person.pk, "need_description": ""})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="error-need_description"' in html and "R-VG-SIP-2" in html
    assert not Sip.objects.exists()
    response = client.post(reverse("sip:new"), {"person": person.pk, "need_description": "Behov"})
    assert response.status_code == 302
    assert Sip.objects.filter(person=person).count() == 1


def test_summons_without_participants_is_refused_on_the_page_r_sip_1(vc, person) -> None:  # type: ignore[no-untyped-def]
    sip = services.start_sip(vc, person, need_description="Behov")
    client = client_for(vc)
    response = client.post(reverse("sip:action", args=[sip.pk, "summon"]), {"meeting_at": "2030-01-01T10:00"})
    assert response.status_code == 400
    assert "R-SIP-1" in response.content.decode()
    assert Sip.objects.get(pk=sip.pk).status == Sip.Status.NEED


def test_sip_page_shows_legal_basis_and_is_404_for_other_units(vc, person) -> None:  # type: ignore[no-untyped-def]
    sip = established(vc, person)
    html = client_for(vc).get(reverse("sip:detail", args=[sip.pk])).content.decode()
    assert "Vad får delas" in html and "Samtycke lämnat" in html and "R-SEK-2" in html  # social: refused
    assert "Version 1" in html
    outsider = client_for(actor(Role.HOME_CARE_NURSE, "Borås hemsjukvård"))
    assert outsider.get(reverse("sip:detail", args=[sip.pk])).status_code == 404


def test_list_page_shows_inbox_items_and_logs_the_list(vc, person) -> None:  # type: ignore[no-untyped-def]
    sip = established(vc, person)
    home = actor(Role.HOME_CARE_NURSE, HOME)
    html = client_for(home).get(reverse("sip:index")).content.decode()
    assert "Testa Testsson" in html and reverse("sip:detail", args=[sip.pk]) in html
    assert AccessLogEntry.objects.filter(
        person=person, what__startswith="sip-lista:", user=home.user
    ).exists()


def test_plan_pdf_for_the_person_is_logged_as_export(vc, person) -> None:  # type: ignore[no-untyped-def]
    sip = established(vc, person)
    response = client_for(vc).get(reverse("sip:pdf", args=[sip.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert AccessLogEntry.objects.filter(person=person, action="export", what=f"sip:{sip.pk}/pdf/1").exists()


def test_consent_page_records_and_refuses_without_exclusions_answer_r_sek_4(vc, person) -> None:  # type: ignore[no-untyped-def]
    client = client_for(vc)
    url = reverse("sip:consents", args=[person.pk])
    data = {
        "action": "consent",
        "given_by": "person",
        "consent_form": "verbal",
        "purpose": "SIP",
        "parties": [unit(HOME).pk],
        "categories": ["sip"],
        "exclusions_note": "",
    }
    refused = client.post(url, data)
    assert refused.status_code == 400 and "R-SEK-4" in refused.content.decode()
    assert not Consent.objects.exists()
    assert client.post(url, {**data, "exclusions_note": "Inget"}).status_code == 302
    consent_obj = Consent.objects.get(person=person)
    assert client.post(url, {"action": "withdraw", "consent": consent_obj.pk}).status_code == 302
    consent_obj.refresh_from_db()
    assert consent_obj.withdrawn_at is not None


def test_care_request_through_the_pages(vc, person) -> None:  # type: ignore[no-untyped-def]
    consent(vc, person)
    response = client_for(vc).post(
        reverse("sip:new_care_request"),
        {
            "person": person.pk,
            "to_unit": unit(HOME).pk,
            "reason": "Sårvård",
            "health_summary": "Stabil",
            "requested_efforts": ["wound_care"],
            "medication_responsibility": "person",
            "start_on": (timezone.localdate() + dt.timedelta(days=1)).isoformat(),
            "contact_name": "Fia",
            "contact_phone": "031-1",
        },
    )
    assert response.status_code == 302, response.content.decode()
    cr = CareRequest.objects.get(person=person)
    home = client_for(actor(Role.HOME_CARE_NURSE, HOME))
    page = home.get(reverse("sip:care_request", args=[cr.pk])).content.decode()
    assert "Rättslig grund" in page and "Samtycke lämnat" in page
    assert (
        home.post(
            reverse("sip:care_request_action", args=[cr.pk, "answer"]), {"answer": "accepted"}
        ).status_code
        == 302
    )
    cr.refresh_from_db()
    assert cr.status == CareRequest.Status.ACCEPTED


# --- API ----------------------------------------------------------------------------------------------------


def _auth(a: Actor) -> dict[str, Any]:
    assert a.membership is not None
    _obj, raw = ApiToken.issue(a.membership, "test")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_api_start_is_idempotent_and_a_reused_key_with_another_body_is_refused(vc, person) -> None:  # type: ignore[no-untyped-def]
    client, auth = Client(), _auth(vc)
    body = {"person_id": person.pk, "need_description": "Behov"}
    first = client.post(
        "/api/v1/sip/", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k1", **auth
    )
    again = client.post(
        "/api/v1/sip/", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k1", **auth
    )
    assert first.status_code == 201 and again.status_code == 201
    assert first.json()["sip"]["id"] == again.json()["sip"]["id"] and again.json()["replayed"] is True
    assert Sip.objects.filter(person=person).count() == 1
    other = client.post(
        "/api/v1/sip/",
        {**body, "need_description": "Annat"},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k1",
        **auth,
    )
    assert other.status_code == 422 and other.json()["problems"][0]["rule"] == "IDEMPOTENS"


def test_api_refusal_names_the_rule_and_is_replayed_not_repeated(vc, person) -> None:  # type: ignore[no-untyped-def]
    sip = services.start_sip(vc, person, need_description="Behov")
    client, auth = Client(), _auth(vc)
    body = {"meeting_at": "2030-01-01T10:00:00+01:00"}
    url = f"/api/v1/sip/{sip.pk}/summons"
    first = client.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="s1", **auth)
    assert first.status_code == 400 and first.json()["problems"][0]["rule"] == "R-SIP-1"
    again = client.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="s1", **auth)
    assert again.status_code == 400 and again.json()["replayed"] is True


def test_api_careplan_is_fhir_shaped(vc, person) -> None:  # type: ignore[no-untyped-def]
    sip = established(vc, person)
    response = Client().get(f"/api/v1/sip/{sip.pk}/careplan", **_auth(vc))
    assert response.status_code == 200
    plan = response.json()
    assert plan["resourceType"] == "CarePlan" and plan["status"] == "active" and plan["intent"] == "plan"
    assert plan["subject"]["identifier"]["value"] == person.identifier
    assert plan["author"]["identifier"]["value"] == unit(PRIMARY_CARE).hsa_id
    performers = [a["detail"]["performer"][0]["display"] for a in plan["activity"]]
    assert unit(HOME).name in performers and unit(PRIMARY_CARE).name in performers
    assert any(a["detail"].get("kind") == "Task" for a in plan["activity"])  # the follow-up
    assert plan["careTeam"] == [{"reference": "#sip-team"}]  # R4: a reference, the team contained
    team = plan["contained"][0]
    assert team["resourceType"] == "CareTeam" and team["id"] == "sip-team"
    members = [p["member"]["display"] for p in team["participant"]]
    assert unit(HOME).name in members
    assert plan["period"]["start"] and plan["goal"][0]["display"] == "Att få bo kvar hemma."
    assert plan["author"]["identifier"]["system"] == "urn:oid:1.2.752.29.4.19"  # HL7 Sweden's HSA-id system
    assert "null" not in response.content.decode() and "[]" not in response.content.decode()
    valid(plan)  # fhir.resources R4B
    outsider = actor(Role.HOME_CARE_NURSE, "Borås hemsjukvård")
    assert Client().get(f"/api/v1/sip/{sip.pk}/careplan", **_auth(outsider)).status_code == 404
    # The same CarePlan from the FHIR endpoint, application/fhir+json; another unit gets 404 there too.
    fhir = Client().get(f"/fhir/r4/CarePlan/{sip.pk}", **_auth(vc))
    assert fhir.status_code == 200 and fhir["Content-Type"].startswith("application/fhir+json")
    assert valid(fhir.json())["careTeam"] == [{"reference": "#sip-team"}]
    assert Client().get(f"/fhir/r4/CarePlan/{sip.pk}", **_auth(outsider)).status_code == 404


def test_api_disclosure_decision(vc, person) -> None:  # type: ignore[no-untyped-def]
    client, auth = Client(), _auth(vc)
    url = f"/api/v1/sip/disclosure?person_id={person.pk}&to_unit={unit(HOME).hsa_id}&category=health"
    refused = client.get(url, **auth)
    assert refused.status_code == 403 and refused.json()["problems"][0]["rule"] == "R-SEK-2"
    consent(vc, person)
    allowed = client.get(url, **auth)
    assert allowed.status_code == 200 and allowed.json()["basis"] == "consent"


def test_demo_sip_and_care_request_load_idempotently(demo) -> None:  # type: ignore[no-untyped-def]
    from brygga.demo.sip import load_sip_demo

    sip = Sip.objects.get()
    assert sip.case is not None and sip.status == Sip.Status.PREPARE
    assert sip.case.sip_summons_due_at is not None  # R-SIP-K-1 shows on the case and on the SIP
    assert CareRequest.objects.get().status == CareRequest.Status.SENT
    assert load_sip_demo() == 0 and Sip.objects.count() == 1 and CareRequest.objects.count() == 1
    # Göteborg hemsjukvård is a planned participant of the SIP, not yet summoned: it sees only the request.
    items = inbox_items(unit(HOME))
    assert [(i.kind, i.state) for i in items] == [("care_request", "new")]
    assert [i.kind for i in inbox_items(unit(PRIMARY_CARE))] == ["sip"]
