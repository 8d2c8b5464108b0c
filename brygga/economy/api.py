"""Economy API: budgets with lines, party columns and flags (ECONOMY_VIEW)."""

from __future__ import annotations

from decimal import Decimal

from ninja import Router, Schema

from brygga.accounts.context import AuthedRequest
from brygga.accounts.permissions import Perm
from brygga.core.errors import NotFound
from brygga.economy import services
from brygga.economy.models import Budget, Party

router = Router(tags=["Ekonomi"])


class BudgetProblemOut(Schema):
    field: str
    rule: str
    message: str


class BudgetLineOut(Schema):
    id: int
    name: str
    amount: Decimal
    key: str | None
    price_list: str | None
    shares: dict[str, Decimal]


class BudgetOut(Schema):
    id: int
    responsibility_object: str
    year: int
    title: str
    status: str
    total: Decimal
    population_year: int
    columns: dict[str, Decimal]
    problems: list[BudgetProblemOut]


class BudgetDetailOut(BudgetOut):
    lines: list[BudgetLineOut]


def _budget_out(budget: Budget) -> dict[str, object]:
    return {
        "id": budget.pk,
        "responsibility_object": budget.responsibility_object.code,
        "year": budget.year,
        "title": budget.title,
        "status": budget.status,
        "total": budget.total,
        "population_year": budget.population_year,
        "columns": services.party_columns(budget),
        "problems": [p.as_dict() for p in services.budget_problems(budget)],
    }


@router.get("/budgets", response=list[BudgetOut], summary="Budgetar med partsfördelning och flaggor")
def budgets(request: AuthedRequest, year: int | None = None) -> list[dict[str, object]]:
    request.actor.require(Perm.ECONOMY_VIEW)
    qs = Budget.objects.select_related("responsibility_object")
    if year:
        qs = qs.filter(year=year)
    return [_budget_out(b) for b in qs]


@router.get("/budgets/{budget_id}", response=BudgetDetailOut, summary="En budget med rader och andelar")
def budget(request: AuthedRequest, budget_id: int) -> dict[str, object]:
    request.actor.require(Perm.ECONOMY_VIEW)
    found = Budget.objects.select_related("responsibility_object").filter(pk=budget_id).first()
    if found is None:
        raise NotFound
    lines = []
    for line in found.lines.select_related("key", "price_list").prefetch_related("shares"):
        shares = {p.value: Decimal("0.00") for p in Party}
        for s in line.shares.all():
            shares[s.party] += s.amount
        lines.append(
            {
                "id": line.pk,
                "name": line.name,
                "amount": line.amount,
                "key": line.key.code if line.key else None,
                "price_list": line.price_list.name if line.price_list else None,
                "shares": shares,
            }
        )
    return {**_budget_out(found), "lines": lines}
