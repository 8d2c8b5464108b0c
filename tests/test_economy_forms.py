"""Editing the economy through the pages: budget lines and their financing, financing keys (R-ECO-1), the
population year (R-ECO-3), price lists and their usage rows (R-ECO-2, R-ECO-5); refusals named by rule next to
the field with nothing changed; only ECONOMY_MANAGE changes anything; every change recorded with who made it.
Also the demo's complete population year, so demo invoicing works while a missing year is still refused."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from brygga.accounts.permissions import Role
from brygga.core.errors import DomainError
from brygga.demo.economy import load_demo_population, load_economy_demo
from brygga.economy import seeds, services
from brygga.economy.models import (
    Budget,
    BudgetLine,
    ChangeRecord,
    FinancingKey,
    Invoice,
    PriceList,
    PriceListItem,
    ResponsibilityObject,
    Subscription,
)
from brygga.organisations.models import Municipality, Organisation, PopulationFigure
from tests.factories import actor
from tests.test_economy import GITS_UNIT, complete_population_year, rules
from tests.test_governance_web import as_actor

pytestmark = pytest.mark.django_db


@pytest.fixture
def gits():  # type: ignore[no-untyped-def]
    return actor(Role.GITS_COORDINATOR, GITS_UNIT)


@pytest.fixture
def web(gits):  # type: ignore[no-untyped-def]
    return as_actor(Client(), gits)


@pytest.fixture
def seeded(db):  # type: ignore[no-untyped-def]
    seeds.load_seed_budgets()


def shvo_2023() -> Budget:
    return Budget.objects.get(responsibility_object__code="shvo", year=2023)


def snapshot(budget: Budget) -> tuple:  # type: ignore[type-arg]
    budget.refresh_from_db()
    return (
        budget.total,
        budget.population_year,
        list(budget.lines.values_list("name", "amount", "key_id", "price_list_id")),
        list(budget.lines.values_list("shares__party", "shares__amount").order_by("pk", "shares__party")),
    )


# --- Budget lines --------------------------------------------------------------------------------------------


def test_edit_a_line_through_the_page_recalculates_and_records_who(seeded, gits, web) -> None:  # type: ignore[no-untyped-def]
    budget = shvo_2023()
    line = budget.lines.get(amount=Decimal("3600000"))
    assert line.key_id is not None
    key = FinancingKey.objects.get(pk=line.key_id)
    page = web.get(f"/ekonomi/rad/{line.pk}/")
    assert page.status_code == 200 and line.name in page.content.decode()
    response = web.post(
        f"/ekonomi/rad/{line.pk}/",
        {"name": "Personal, ändrad", "amount": "3 700 000,00", "financing": f"key-{key.pk}", "note": ""},
    )
    assert response.status_code == 302
    line.refresh_from_db()
    budget.refresh_from_db()
    assert line.amount == Decimal("3700000.00") and budget.total == Decimal("14400000.00")
    assert sum(s.amount for s in line.shares.all()) == Decimal("3700000.00")
    change = ChangeRecord.objects.get(action="line_updated")
    assert change.by == gits.user and change.budget == budget and "Personal, ändrad" in change.subject
    assert "Personal, ändrad" in web.get("/ekonomi/andringar/").content.decode()


@pytest.mark.parametrize(
    ("data", "field", "rule"),
    [
        ({"name": "X", "amount": "-5"}, "amount", "R-ECO-5"),
        ({"name": "X", "amount": "12,345"}, "amount", "R-ECO-5"),
        ({"name": "", "amount": "100"}, "name", "R-ECO-LINE"),
    ],
)
def test_line_form_refusals_are_named_next_to_the_field_and_change_nothing(
    seeded, web, data, field, rule
) -> None:  # type: ignore[no-untyped-def]
    budget = shvo_2023()
    line = budget.lines.first()
    assert line is not None
    before = snapshot(budget)
    response = web.post(f"/ekonomi/rad/{line.pk}/", {**data, "financing": ""})
    body = response.content.decode()
    assert response.status_code == 400 and rule in body and f'id="error-line-{field}"' in body
    assert snapshot(budget) == before
    assert not ChangeRecord.objects.exists()


def test_r_eco_2_a_line_cannot_have_both_key_and_price_list(seeded, gits) -> None:  # type: ignore[no-untyped-def]
    budget = shvo_2023()
    line = budget.lines.first()
    assert line is not None
    before = snapshot(budget)
    with pytest.raises(DomainError) as exc:
        services.update_line(
            gits,
            line,
            line.name,
            line.amount,
            key=FinancingKey.objects.first(),
            price_list=PriceList.objects.first(),
        )
    assert "R-ECO-2" in rules(exc)
    assert snapshot(budget) == before


def test_delete_line_and_refusals_for_invoiced_or_adopted(seeded, gits, web) -> None:  # type: ignore[no-untyped-def]
    complete_population_year(2023)
    budget = shvo_2023()
    first, second = list(budget.lines.all()[:2])
    # Invoiced while adopted (R-ECO-7), then back to a proposal as data from before that rule could be.
    Budget.objects.filter(pk=budget.pk).update(status=Budget.Status.ADOPTED)
    services.create_invoices(gits, budget, 1)
    Budget.objects.filter(pk=budget.pk).update(status=Budget.Status.DRAFT)
    refused = web.post(f"/ekonomi/rad/{first.pk}/ta-bort/")
    assert refused.status_code == 400 and "R-ECO-4" in refused.content.decode()
    assert BudgetLine.objects.filter(pk=first.pk).exists()

    Invoice.objects.filter(budget=budget).delete()
    assert web.post(f"/ekonomi/rad/{second.pk}/ta-bort/").status_code == 302
    assert not BudgetLine.objects.filter(pk=second.pk).exists()
    assert ChangeRecord.objects.filter(action="line_deleted", by=gits.user).exists()

    Budget.objects.filter(pk=budget.pk).update(status=Budget.Status.ADOPTED)
    before = snapshot(budget)
    response = web.post(f"/ekonomi/rad/{first.pk}/", {"name": "Ny", "amount": "1", "financing": ""})
    assert response.status_code == 400 and "R-ECO-ADOPTED" in response.content.decode()
    assert snapshot(budget) == before


def test_permission_denied_changes_nothing(seeded) -> None:  # type: ignore[no-untyped-def]
    budget = shvo_2023()
    line = budget.lines.first()
    assert line is not None
    price_list = PriceList.objects.first()
    assert price_list is not None
    item = price_list.items.first()
    organisation = Organisation.objects.first()
    assert item is not None and organisation is not None
    before = snapshot(budget)
    usage_before = list(Subscription.objects.values_list("pk", "quantity"))
    keys_before = list(FinancingKey.objects.values_list("code", "parts__percent"))
    member = as_actor(Client(), actor(Role.FORUM_MEMBER, "Borås kontaktpunkt"))  # ECONOMY_VIEW only
    assert member.get(f"/ekonomi/rad/{line.pk}/").status_code == 200
    assert member.post(f"/ekonomi/rad/{line.pk}/", {"name": "X", "amount": "1"}).status_code == 403
    assert member.post(f"/ekonomi/rad/{line.pk}/ta-bort/").status_code == 403
    assert (
        member.post(f"/ekonomi/budget/{budget.pk}/folkmangd/", {"population_year": "2024"}).status_code == 403
    )
    assert member.post("/ekonomi/prislistor/", {"name": "X", "year": "2025"}).status_code == 403
    assert (
        member.post(
            f"/ekonomi/prislistor/{price_list.pk}/",
            {
                "action": "usage",
                "item": item.pk,
                "organisation": organisation.pk,
                "quantity": "3",
            },
        ).status_code
        == 403
    )
    assert (
        member.post(
            "/ekonomi/nycklar/", {"code": "x", "name": "X", "party-0": "region", "percent-0": "100"}
        ).status_code
        == 403
    )
    nurse = as_actor(Client(), actor(Role.WARD_NURSE))
    assert nurse.get(f"/ekonomi/rad/{line.pk}/").status_code == 403
    assert snapshot(budget) == before
    assert list(Subscription.objects.values_list("pk", "quantity")) == usage_before
    assert list(FinancingKey.objects.values_list("code", "parts__percent")) == keys_before
    assert PriceList.objects.count() == 1 and not ChangeRecord.objects.exists()


# --- Financing keys (R-ECO-1) --------------------------------------------------------------------------------


def test_r_eco_1_key_not_summing_to_100_is_refused_next_to_the_field(seeded, web) -> None:  # type: ignore[no-untyped-def]
    key = FinancingKey.objects.prefetch_related("parts").first()
    assert key is not None
    prefill = web.get(f"/ekonomi/nycklar/?kod={key.code}").content.decode()
    assert f'value="{key.code}"' in prefill and "selected" in prefill
    before = list(FinancingKey.objects.values_list("code", "parts__party", "parts__percent"))
    data = {
        "code": key.code,
        "name": key.name,
        "party-0": "region",
        "percent-0": "60",
        "party-2": "municipalities",
        "percent-2": "30",
    }
    response = web.post("/ekonomi/nycklar/", data)
    body = response.content.decode()
    assert response.status_code == 400 and "R-ECO-1" in body and "90 %" in body
    assert 'id="error-key-parts"' in body
    missing_financier = web.post(
        "/ekonomi/nycklar/", {"code": "ny", "name": "Ny", "party-1": "other", "percent-1": "100"}
    ).content.decode()
    assert 'id="error-key-financier-1"' in missing_financier  # the row the user filled, not the first
    assert list(FinancingKey.objects.values_list("code", "parts__party", "parts__percent")) == before

    data["percent-2"] = "40"
    assert web.post("/ekonomi/nycklar/", data).status_code == 302
    assert ChangeRecord.objects.filter(action="key_saved").count() == 1


# --- Population year (R-ECO-3) and the demo's complete year --------------------------------------------------


def test_r_eco_3_population_year_form_refuses_an_incomplete_year(seeded, gits, web) -> None:  # type: ignore[no-untyped-def]
    budget = shvo_2023()
    before = snapshot(budget)
    response = web.post(f"/ekonomi/budget/{budget.pk}/folkmangd/", {"population_year": "2024"})
    body = response.content.decode()
    assert (
        response.status_code == 400 and "R-ECO-3" in body and 'id="error-population-population_year"' in body
    )
    assert snapshot(budget) == before
    complete_population_year(2022)
    assert web.post(f"/ekonomi/budget/{budget.pk}/folkmangd/", {"population_year": "2022"}).status_code == 302
    budget.refresh_from_db()
    assert budget.population_year == 2022
    assert services.population_weights(2022)


def test_demo_population_makes_2024_complete_with_sources_and_the_demo_invoices(db, gits) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DomainError):
        services.population_weights(2024)  # the reference data alone has 47 of 49
    assert load_economy_demo() >= 2
    weights = services.population_weights(2024)
    assert len(weights) == 49
    tranemo = PopulationFigure.objects.get(municipality__name="Tranemo", year=2024)
    assert tranemo.reference_date.year == 2021 and "används som 2024 i demon" in tranemo.source
    gothenburg = PopulationFigure.objects.get(municipality__scb_code="1480", year=2024)
    assert gothenburg.reference_date.isoformat() == "2024-12-31" and "demon" not in gothenburg.source
    gits_2025 = Budget.objects.filter(year=2025)
    assert gits_2025.exists() and all(b.population_year == 2024 for b in gits_2025)
    shvo = Budget.objects.get(responsibility_object__code="shvo", year=2025)
    services.adopt_budget(gits, shvo)
    invoices = services.create_invoices(gits, shvo, 1)
    assert len(invoices) >= 50 and sum(i.total for i in invoices) > 0
    # a truly missing year is still refused
    assert shvo_2023().population_year == 2023
    with pytest.raises(DomainError) as exc:
        services.create_invoices(gits, shvo_2023(), 1)
    assert rules(exc) == {"R-ECO-3"}
    assert load_demo_population() == 0  # idempotent
    assert Municipality.objects.count() == 49


# --- Price lists and usage rows ------------------------------------------------------------------------------


def test_price_list_items_and_usage_rows_through_the_page(seeded, gits, web) -> None:  # type: ignore[no-untyped-def]
    obj = ResponsibilityObject.objects.first()
    assert obj is not None
    refused = web.post("/ekonomi/prislistor/", {"responsibility_object": obj.pk, "year": "2026", "name": ""})
    assert refused.status_code == 400 and "R-ECO-PRICE" in refused.content.decode()
    assert PriceList.objects.count() == 1
    response = web.post(
        "/ekonomi/prislistor/", {"responsibility_object": obj.pk, "year": "2026", "name": "Bibblix"}
    )
    bibblix = PriceList.objects.get(name="Bibblix")
    assert response.status_code == 302 and response.url.endswith(f"/{bibblix.pk}/")
    url = f"/ekonomi/prislistor/{bibblix.pk}/"
    bad_price = web.post(url, {"action": "item", "name": "Licens", "unit_price": "-1"})
    assert bad_price.status_code == 400 and "R-ECO-5" in bad_price.content.decode()
    assert not PriceListItem.objects.filter(price_list=bibblix).exists()
    assert (
        web.post(url, {"action": "item", "name": "Licens", "unit_price": "10 000", "unit": "år"}).status_code
        == 302
    )
    item = bibblix.items.get()
    boras = Organisation.objects.get(municipality__scb_code="1490")
    bad_qty = web.post(url, {"action": "usage", "item": item.pk, "organisation": boras.pk, "quantity": "-2"})
    assert bad_qty.status_code == 400 and "R-ECO-5" in bad_qty.content.decode()
    assert not Subscription.objects.filter(item=item).exists()
    assert (
        web.post(
            url, {"action": "usage", "item": item.pk, "organisation": boras.pk, "quantity": "2"}
        ).status_code
        == 302
    )
    assert Subscription.objects.get(item=item).amount == Decimal("20000.00")
    # A line financed by the list is flagged until the charges equal it (R-ECO-2), then financed exactly.
    budget = services.create_budget(gits, obj, 2026, "Test 2026")
    line = services.add_line(gits, budget, "Bibblix", "30000", price_list=bibblix)
    assert {p.rule for p in services.line_problems(line)} == {"R-ECO-2"}
    assert "R-ECO-2" in web.get(url).content.decode()
    gbg = Organisation.objects.get(municipality__scb_code="1480")
    assert (
        web.post(
            url, {"action": "usage", "item": item.pk, "organisation": gbg.pk, "quantity": "1"}
        ).status_code
        == 302
    )
    line.refresh_from_db()
    assert services.line_problems(line) == []
    assert sum(s.amount for s in line.shares.all()) == Decimal("30000.00")
    assert (
        web.post(
            url, {"action": "usage", "item": item.pk, "organisation": gbg.pk, "quantity": "0"}
        ).status_code
        == 302
    )
    assert Subscription.objects.filter(item=item).count() == 1
    assert ChangeRecord.objects.filter(action="usage_set", by=gits.user).count() == 3
