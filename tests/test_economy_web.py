"""Economy through the web client and the API."""

from __future__ import annotations

import pytest
from django.test import Client

from brygga.accounts.permissions import Role
from brygga.economy import seeds, services
from brygga.economy.models import Budget, Invoice
from tests.factories import WARD, actor
from tests.test_economy import complete_population_year
from tests.test_governance_web import as_actor

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(db):  # type: ignore[no-untyped-def]
    seeds.load_seed_budgets()


def test_budget_pages_show_splits_flags_and_the_seed_check(seeded) -> None:  # type: ignore[no-untyped-def]
    gits = as_actor(Client(), actor(Role.GITS_COORDINATOR, "GITS kansli"))
    listing = gits.get("/ekonomi/").content.decode()
    assert "SITIV Utvecklingsportfölj" in listing and "R-ECO-2" in listing
    shvo = Budget.objects.get(responsibility_object__code="shvo", year=2023)
    detail = gits.get(f"/ekonomi/budget/{shvo.pk}/").content.decode()
    assert "5\u00a0010\u00a0000,00" in detail and "9\u00a0290\u00a0000,00" in detail
    assert "R-ECO-3" in detail  # population 2023 is not imported
    check = gits.get("/ekonomi/avstamning/").content.decode()
    assert "37 513 000" in check and "Gemensam utgivning (SITHS)" in check


def test_invoices_through_the_page_and_closed_period_refused(seeded) -> None:  # type: ignore[no-untyped-def]
    complete_population_year(2025)
    gits_actor = actor(Role.GITS_COORDINATOR, "GITS kansli")
    gits = as_actor(Client(), gits_actor)
    budget = Budget.objects.get(responsibility_object__code="shvo", year=2025)
    proposal = gits.post(f"/ekonomi/budget/{budget.pk}/fakturera/", {"month": "2"})
    # a state conflict answers 409, as on the case and SIP pages (one dispatcher, issue 14)
    assert proposal.status_code == 409 and "R-ECO-7" in proposal.content.decode()  # still a proposal
    assert not Invoice.objects.filter(budget=budget).exists()
    services.adopt_budget(gits_actor, budget)
    response = gits.post(f"/ekonomi/budget/{budget.pk}/fakturera/", {"month": "2"})
    assert response.status_code == 302
    assert Invoice.objects.filter(budget=budget, period__month=2).count() == 51
    assert "VGR" in gits.get(response["Location"]).content.decode()
    services.close_period(gits_actor, 2025, 2)
    refused = gits.post(f"/ekonomi/budget/{budget.pk}/fakturera/", {"month": "2"})
    assert refused.status_code == 400 and "R-ECO-4" in refused.content.decode()


def test_economy_needs_the_permission(seeded) -> None:  # type: ignore[no-untyped-def]
    nurse = as_actor(Client(), actor(Role.WARD_NURSE, WARD))
    assert nurse.get("/ekonomi/").status_code == 403
    assert nurse.get("/api/v1/economy/budgets").status_code == 403


def test_budget_api_lists_columns_and_problems(seeded) -> None:  # type: ignore[no-untyped-def]
    client = as_actor(Client(), actor(Role.FORUM_MEMBER, "Borås kontaktpunkt"))
    data = client.get("/api/v1/economy/budgets?year=2023").json()
    assert [(b["responsibility_object"], b["columns"]["municipalities"]) for b in data] == [
        ("shvo", "5010000.00")
    ]
    portfolio = Budget.objects.get(responsibility_object__code="sitiv-utvecklingsportfolj")
    detail = client.get(f"/api/v1/economy/budgets/{portfolio.pk}").json()
    assert [p["rule"] for p in detail["problems"]] == ["R-ECO-2"]
    assert client.get("/api/v1/economy/budgets/999999").status_code == 404


def test_key_form_refuses_parts_not_summing_to_100_and_writes_nothing(seeded) -> None:  # type: ignore[no-untyped-def]
    """R-ECO-1 through the page."""
    from brygga.economy.models import FinancingKey

    gits = as_actor(Client(), actor(Role.GITS_COORDINATOR, "GITS kansli"))
    before = FinancingKey.objects.count()
    form = {
        "code": "ny",
        "name": "Ny",
        "party-0": "region",
        "percent-0": "60",
        "party-1": "municipalities",
        "percent-1": "30",
    }
    refused = gits.post("/ekonomi/nycklar/", form)
    assert refused.status_code == 400 and "R-ECO-1" in refused.content.decode()
    assert FinancingKey.objects.count() == before
    assert gits.post("/ekonomi/nycklar/", {**form, "percent-1": "40"}).status_code == 302
    assert FinancingKey.objects.get(code="ny").percent_total == 100


def test_add_line_and_adopt_through_the_page(seeded) -> None:  # type: ignore[no-untyped-def]
    from brygga.economy.models import FinancingKey, ResponsibilityObject

    gits_actor = actor(Role.GITS_COORDINATOR, "GITS kansli")
    gits = as_actor(Client(), gits_actor)
    obj = ResponsibilityObject.objects.create(code="ny", name="Nytt objekt")
    budget = services.create_budget(gits_actor, obj, 2027, "Nytt objekt 2027")
    url = f"/ekonomi/budget/{budget.pk}/"
    assert gits.post(url + "rad/", {"name": "Utan nyckel", "amount": "1 000"}).status_code == 302
    refused = gits.post(url + "besluta/")
    assert refused.status_code == 400 and "R-ECO-2" in refused.content.decode()
    budget.refresh_from_db()
    assert budget.status == Budget.Status.DRAFT and budget.total == 1000
    key = FinancingKey.objects.get(code="vgr-100")
    budget.lines.all().delete()
    assert (
        gits.post(
            url + "rad/", {"name": "Drift", "amount": "1 000,50", "financing": f"key-{key.pk}"}
        ).status_code
        == 302
    )
    assert gits.post(url + "besluta/").status_code == 302
    budget.refresh_from_db()
    assert budget.status == Budget.Status.ADOPTED
    assert (
        gits.post(url + "rad/", {"name": "Sent", "amount": "5", "financing": f"key-{key.pk}"}).status_code
        == 400
    )


def test_a_malformed_financing_choice_is_not_a_server_error(seeded) -> None:  # type: ignore[no-untyped-def]
    """A tampered form value ("key-abc") gives an unfunded line, flagged as such, never a 500."""
    from brygga.economy.models import ResponsibilityObject

    gits_actor = actor(Role.GITS_COORDINATOR, "GITS kansli")
    gits = as_actor(Client(), gits_actor)
    obj = ResponsibilityObject.objects.create(code="trasig", name="Objekt")
    budget = services.create_budget(gits_actor, obj, 2027, "Objekt 2027")
    response = gits.post(
        f"/ekonomi/budget/{budget.pk}/rad/", {"name": "Drift", "amount": "100", "financing": "key-abc"}
    )
    assert response.status_code == 302
    line = budget.lines.get()
    assert line.key_id is None and line.price_list_id is None
