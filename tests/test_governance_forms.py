"""Editing forums and their seats through the pages: create and change a forum with its mandate areas
(R-GOV-2: a working forum only prepares), add and remove seats with the region/municipality balance shown as
the R-GOV-3 flag where the mandate requires it, refusals named by rule with nothing changed, only
GOVERNANCE_MANAGE changes anything, every change kept with who made it."""

from __future__ import annotations

import pytest
from django.test import Client

from brygga.accounts.permissions import Role
from brygga.core.errors import DomainError, PermissionDenied
from brygga.governance import services
from brygga.governance.models import Forum, ForumChange, ForumMember, MandateArea, Side
from brygga.governance.seeds import load_governance_reference
from brygga.organisations.models import Organisation
from tests.factories import actor
from tests.test_governance_web import as_actor

pytestmark = pytest.mark.django_db

FLAG = "Mandatet kräver jämn fördelning"


@pytest.fixture
def ref(db):  # type: ignore[no-untyped-def]
    load_governance_reference()


@pytest.fixture
def gits():  # type: ignore[no-untyped-def]
    return actor(Role.GITS_COORDINATOR, "GITS kansli")


def forum_state(forum: Forum) -> tuple:  # type: ignore[type-arg]
    forum.refresh_from_db()
    return (
        forum.name,
        forum.kind,
        forum.mandate,
        forum.requires_balance,
        sorted(forum.mandates.values_list("area", flat=True)),
        sorted(forum.members.values_list("title", "side", "role")),
    )


def test_create_a_forum_add_seats_and_see_the_balance_flag(ref, gits) -> None:  # type: ignore[no-untyped-def]
    web = as_actor(Client(), gits)
    assert web.get("/forvaltning/forum/nytt/").status_code == 200
    response = web.post(
        "/forvaltning/forum/nytt/",
        {
            "code": "ehalsa-rad",
            "name": "E-hälsoråd",
            "kind": "decision",
            "mandate": "Beslutar om gemensamma e-hälsotjänster inom ram.",
            "areas": ["within_frame"],
            "requires_balance": "on",
            "meeting_frequency": "4 ggr/år",
        },
    )
    forum = Forum.objects.get(code="ehalsa-rad")
    assert response.status_code == 302 and response["Location"].endswith("/forum/ehalsa-rad/andra/")
    assert forum.has_mandate(MandateArea.WITHIN_FRAME) and forum.requires_balance
    url = "/forvaltning/forum/ehalsa-rad/andra/"
    vgr = Organisation.objects.get(kind=Organisation.Kind.REGION)
    added = web.post(
        url,
        {
            "action": "add-member",
            "title": "Hälso- och sjukvårdsdirektör",
            "side": "region",
            "role": "chair",
            "organisation": vgr.pk,
        },
        follow=True,
    )
    body = added.content.decode()
    assert FLAG in body and "(R-GOV-3)" in body  # 1 region, 0 municipal: flagged, not refused
    assert forum.members.count() == 1
    web.post(
        url, {"action": "add-member", "title": "Socialchef, delregion", "side": "municipal", "role": "member"}
    )
    forum_obj = Forum.objects.get(pk=forum.pk)
    assert services.forum_balance(forum_obj).problem is None
    assert FLAG not in web.get(url).content.decode()
    member = forum.members.get(side=Side.MUNICIPAL)
    removed = web.post(url, {"action": "remove-member", "member": member.pk}, follow=True)
    assert FLAG in removed.content.decode() and forum.members.count() == 1
    assert list(
        ForumChange.objects.filter(forum=forum).order_by("at", "pk").values_list("action", flat=True)
    ) == [
        "created",
        "member_added",
        "member_added",
        "member_removed",
    ]
    assert set(ForumChange.objects.values_list("by", flat=True)) == {gits.user.pk}


def test_r_gov_2_a_working_forum_gets_no_decision_area_and_nothing_changes(ref, gits) -> None:  # type: ignore[no-untyped-def]
    forum = Forum.objects.get(code="sitiv")
    before = forum_state(forum)
    web = as_actor(Client(), gits)
    response = web.post(
        "/forvaltning/forum/sitiv/andra/",
        {
            "action": "forum",
            "name": "SITIV",
            "kind": "working",
            "mandate": "Bereder frågor.",
            "areas": ["budget"],
        },
    )
    body = response.content.decode()
    assert response.status_code == 400 and "R-GOV-2" in body and 'id="error-forum-areas"' in body
    assert forum_state(forum) == before
    with pytest.raises(DomainError) as exc:
        services.save_forum(gits, services.ForumInput("x", "", "decision", "kort", []), None)
    assert {(p.field, p.rule) for p in exc.value.problems} == {
        ("code", "R-GOV-FORUM"),
        ("name", "R-GOV-FORUM"),
        ("mandate", "R-GOV-FORUM"),
        ("areas", "R-GOV-2"),
    }
    assert not ForumChange.objects.exists()


def test_editing_a_forum_keeps_its_code_and_changes_areas(ref, gits) -> None:  # type: ignore[no-untyped-def]
    forum = Forum.objects.get(code="sitiv")
    web = as_actor(Client(), gits)
    page = web.get("/forvaltning/forum/sitiv/andra/").content.decode()
    assert forum.name in page and 'value="budget" checked' in page
    response = web.post(
        "/forvaltning/forum/sitiv/andra/",
        {
            "action": "forum",
            "name": forum.name,
            "kind": "decision",
            "mandate": forum.mandate,
            "areas": ["budget", "within_frame"],
            "requires_balance": "on",
        },
    )
    assert response.status_code == 302
    assert sorted(forum.mandates.values_list("area", flat=True)) == ["budget", "within_frame"]


def test_member_refusals_and_permission_denied_change_nothing(ref, gits) -> None:  # type: ignore[no-untyped-def]
    forum = Forum.objects.get(code="sitiv")
    before = forum_state(forum)
    web = as_actor(Client(), gits)
    municipality = Organisation.objects.get(municipality__scb_code="1480")
    refused = web.post(
        "/forvaltning/forum/sitiv/andra/",
        {"action": "add-member", "title": "", "side": "region", "organisation": municipality.pk},
    )
    body = refused.content.decode()
    assert refused.status_code == 400 and "R-GOV-FORUM" in body and "R-GOV-3" in body
    assert 'id="error-add-member-title"' in body and 'id="error-add-member-organisation"' in body
    member_client = as_actor(Client(), actor(Role.FORUM_MEMBER, "Borås kontaktpunkt"))
    some_member = forum.members.first()
    assert some_member is not None
    assert member_client.get("/forvaltning/forum/sitiv/andra/").status_code == 403
    assert (
        member_client.post(
            "/forvaltning/forum/sitiv/andra/", {"action": "remove-member", "member": some_member.pk}
        ).status_code
        == 403
    )
    assert member_client.post("/forvaltning/forum/nytt/", {"code": "x-y", "name": "X"}).status_code == 403
    with pytest.raises(PermissionDenied):
        services.add_forum_member(actor(Role.WARD_NURSE), forum, "Ledamot", Side.REGION)
    assert forum_state(forum) == before
    assert not Forum.objects.filter(code="x-y").exists() and not ForumChange.objects.exists()
    assert ForumMember.objects.filter(forum=forum).count() == len(before[5])


def test_r_gov_10_a_case_with_a_personnummer_is_refused_and_nothing_saved(ref) -> None:  # type: ignore[no-untyped-def]
    from brygga.governance.models import GovernanceCase

    nurse = actor(Role.WARD_NURSE)
    with pytest.raises(DomainError) as exc:
        services.raise_case(nurse, "need", "Bättre sök", "Patienten 19121212-1212 syntes inte i sökningen.")
    assert {(p.field, p.rule) for p in exc.value.problems} == {("description", "R-GOV-10")}
    assert not GovernanceCase.objects.exists()
    web = as_actor(Client(), nurse)
    response = web.post(
        "/forvaltning/arenden/nytt/",
        {"kind": "need", "title": "Sök", "description": "Gäller 121212-1212 igen."},
    )
    assert response.status_code == 400 and "R-GOV-10" in response.content.decode()
    assert not GovernanceCase.objects.exists()
