"""Governance through the web client and the API: the path from a user's need to a decision on the public
roadmap, refusals shown with their rule, and the public roadmap API."""

from __future__ import annotations

import pytest
from django.test import Client

from brygga.accounts.context import Actor
from brygga.accounts.permissions import Role
from brygga.governance.models import CaseState, Decision, Forum, GovernanceCase
from brygga.governance.seeds import load_governance_reference
from tests.factories import WARD, actor

pytestmark = pytest.mark.django_db


def as_actor(client: Client, a: Actor) -> Client:
    client.force_login(a.user)
    session = client.session
    session["brygga_active_membership"] = a.membership.pk  # type: ignore[union-attr]
    session.save()
    return client


@pytest.fixture
def ref(db):  # type: ignore[no-untyped-def]
    load_governance_reference()


def test_need_to_decision_on_the_roadmap_through_the_web(ref) -> None:  # type: ignore[no-untyped-def]
    nurse, gits, member = Client(), Client(), Client()
    as_actor(nurse, actor(Role.WARD_NURSE, WARD))
    as_actor(gits, actor(Role.GITS_COORDINATOR, "GITS kansli"))
    as_actor(member, actor(Role.FORUM_MEMBER, "Borås kontaktpunkt"))

    page = nurse.get("/forvaltning/arenden/nytt/?fran=samordningsärende")
    assert page.status_code == 200 and "samordningsärende" in page.content.decode()
    response = nurse.post(
        "/forvaltning/arenden/nytt/",
        {
            "kind": "need",
            "title": "Bifoga dokument",
            "description": "Vi behöver bifoga dokument i ärendet.",
            "source_reference": "samordningsärende",
        },
    )
    case = GovernanceCase.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{case.number}/")
    url = f"/forvaltning/arenden/{case.number}/"

    assert member.post(url + "stall-bakom/", {"comment": "Viktigt"}).status_code == 302
    assert gits.post(url + "flytta/", {"to_state": "inventory"}).status_code == 302
    sitiv = Forum.objects.get(code="sitiv")
    assert (
        gits.post(url + "adressera/", {"forum": sitiv.pk, "decision_area": "within_frame"}).status_code == 302
    )
    assert gits.post(url + "flytta/", {"to_state": "preparation"}).status_code == 302
    assert gits.post(url + "remiss/", {"proposal": "Bilagor upp till 10 MB."}).status_code == 302
    own = case.consultations.get().responses.get(subregion__name="Södra Älvsborg")
    assert member.post(url + "remissvar/", {"response": own.pk, "answer": "support"}).status_code == 302
    # A decision while the consultation is open is refused and shown with its rule.
    refused = member.post(url + "beslut/", {"forum": sitiv.pk, "outcome": "approved", "text": "Bifall."})
    assert refused.status_code == 400 and "R-GOV-9" in refused.content.decode()
    assert gits.post(url + "stang-remiss/").status_code == 302
    decided = member.post(
        url + "beslut/", {"forum": sitiv.pk, "outcome": "approved", "text": "Genomförs 2026."}
    )
    assert decided.status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.DECIDED and case.endorsement_count == 1

    public = Client().get("/forvaltning/fardplan/")
    body = public.content.decode()
    assert public.status_code == 200
    assert "Bifoga dokument" in body and "Genomförs 2026." in body
    assert nurse.get(url).status_code == 200


def test_decision_in_a_forum_without_the_mandate_is_refused_on_the_page(ref) -> None:  # type: ignore[no-untyped-def]
    """R-GOV-2 through the web: 400, the rule named, nothing written."""
    gits = actor(Role.GITS_COORDINATOR, "GITS kansli")
    from brygga.governance import services

    case = services.raise_case(gits, "need", "Rubrik", "En beskrivning av behovet.")
    services.advance(gits, case, CaseState.INVENTORY)
    services.assign(gits, case, Forum.objects.get(code="vvg"), "guideline")
    services.advance(gits, case, CaseState.PREPARATION)
    member = as_actor(Client(), actor(Role.FORUM_MEMBER, "Borås kontaktpunkt"))
    sitiv = Forum.objects.get(code="sitiv")
    response = member.post(
        f"/forvaltning/arenden/{case.number}/beslut/",
        {"forum": sitiv.pk, "outcome": "approved", "text": "Ja."},
    )
    assert response.status_code == 400 and "R-GOV-2" in response.content.decode()
    assert not Decision.objects.exists()


def test_a_nurse_gets_403_for_coordinator_actions(ref) -> None:  # type: ignore[no-untyped-def]
    nurse_actor = actor(Role.WARD_NURSE, WARD)
    from brygga.governance import services

    case = services.raise_case(nurse_actor, "need", "Rubrik", "En beskrivning av behovet.")
    nurse = as_actor(Client(), nurse_actor)
    response = nurse.post(f"/forvaltning/arenden/{case.number}/flytta/", {"to_state": "inventory"})
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.state == CaseState.INITIATIVE


def test_governance_pages_render(ref) -> None:  # type: ignore[no-untyped-def]
    gits = as_actor(Client(), actor(Role.GITS_COORDINATOR, "GITS kansli"))
    for url in (
        "/forvaltning/",
        "/forvaltning/forum/",
        "/forvaltning/forum/sitiv/",
        "/forvaltning/objekt/",
        "/forvaltning/beslutslogg/",
    ):
        response = gits.get(url)
        assert response.status_code == 200, url
    assert "R-GOV-3" in gits.get("/forvaltning/forum/sitiv/").content.decode()


def test_meeting_page_publishes_late_only_with_reason(ref) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    from django.utils import timezone

    gits = as_actor(Client(), actor(Role.GITS_COORDINATOR, "GITS kansli"))
    starts = (timezone.localtime() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = gits.post("/forvaltning/forum/sitiv/", {"starts_at": starts, "location": "Vänersborg"})
    assert response.status_code == 302
    url = response["Location"]
    gits.post(url, {"action": "add", "kind": "information", "title": "Lägesrapport"})
    refused = gits.post(url, {"action": "publish"})
    assert refused.status_code == 400 and "R-GOV-4" in refused.content.decode()
    assert gits.post(url, {"action": "publish", "late_reason": "Extrainsatt möte."}).status_code == 302
    assert "Extrainsatt möte." in gits.get(url).content.decode()


def test_roadmap_api_is_public_and_cases_api_is_not(ref, client: Client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/governance/roadmap")
    assert response.status_code == 200
    assert set(response.json()) == {"decided", "underway", "done", "rejected", "parked", "in_progress"}
    assert client.get("/api/v1/governance/cases").status_code == 401
    as_actor(client, actor(Role.WARD_NURSE, WARD))
    assert client.get("/api/v1/governance/cases").status_code == 200


def test_goal_follow_up_and_object_status_through_the_pages(ref) -> None:  # type: ignore[no-untyped-def]
    from brygga.governance.models import ManagedObject, ManagementPlan

    gits = as_actor(Client(), actor(Role.GITS_COORDINATOR, "GITS kansli"))
    plan = ManagementPlan.objects.get(managed_object__code="shvo", year=2025)
    goal = plan.goals.first()
    assert goal is not None
    response = gits.post(
        f"/forvaltning/planer/{plan.pk}/", {"goal": goal.pk, "status": "ongoing", "note": "Pågår"}
    )
    assert response.status_code == 302
    goal.refresh_from_db()
    assert (goal.status, goal.follow_ups.count()) == ("ongoing", 1)
    iot = ManagedObject.objects.get(code="iot")
    refused = gits.post(
        "/forvaltning/objekt/", {"object": iot.pk, "status": "current", "since": "2020-01-01"}
    )
    assert refused.status_code == 400
    iot.refresh_from_db()
    assert iot.status == "possible"
    ok = gits.post("/forvaltning/objekt/", {"object": iot.pk, "status": "current", "since": "2026-06-01"})
    assert ok.status_code == 302
    nurse = as_actor(Client(), actor(Role.WARD_NURSE, WARD))
    assert (
        nurse.post(f"/forvaltning/planer/{plan.pk}/", {"goal": goal.pk, "status": "done"}).status_code == 403
    )
    goal.refresh_from_db()
    assert goal.status == "ongoing"


def test_meeting_page_builds_the_agenda_from_cases(ref) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    from django.utils import timezone

    from brygga.governance import services

    gits_actor = actor(Role.GITS_COORDINATOR, "GITS kansli")
    case = services.raise_case(gits_actor, "need", "Ärende till SITIV", "En beskrivning av behovet.")
    services.advance(gits_actor, case, CaseState.INVENTORY)
    services.assign(gits_actor, case, Forum.objects.get(code="sitiv"), "within_frame")
    meeting = services.plan_meeting(
        gits_actor, Forum.objects.get(code="sitiv"), timezone.now() + dt.timedelta(days=9)
    )
    gits = as_actor(Client(), gits_actor)
    assert gits.post(f"/forvaltning/moten/{meeting.pk}/", {"action": "from_cases"}).status_code == 302
    assert list(meeting.items.values_list("case_id", "kind")) == [(case.pk, "preparation")]
