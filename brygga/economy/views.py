"""Economy pages: budgets with their lines, keys, party shares and flags; monthly invoices; the seed tables
checked against themselves. Views look up, call a service and render; the rules live in services."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from brygga.accounts.context import Actor, AuthedRequest
from brygga.accounts.decorators import actor_required, run_action
from brygga.accounts.permissions import Perm
from brygga.core.errors import DomainError
from brygga.core.paging import html_page
from brygga.economy import seeds, services
from brygga.economy.models import (
    Budget,
    BudgetLine,
    ChangeRecord,
    FinancingKey,
    Invoice,
    InvoiceLine,
    InvoicePeriod,
    Party,
    PriceList,
    ResponsibilityObject,
)
from brygga.organisations.models import Organisation


@require_GET
@actor_required(Perm.ECONOMY_VIEW)
def budget_list(request: HttpRequest) -> HttpResponse:
    budgets = list(
        Budget.objects.select_related("responsibility_object").order_by("-year", "responsibility_object")
    )
    rows = [(b, services.budget_problems(b)) for b in budgets]
    years: dict[int, list] = {}
    for budget, problems in rows:
        years.setdefault(budget.year, []).append((budget, problems))
    totals = {year: sum(b.total for b, _p in items) for year, items in years.items()}
    return render(request, "economy/budget_list.html", {"years": years, "totals": totals})


def _budget_context(budget: Budget) -> dict[str, object]:
    lines = []
    for line in budget.lines.select_related("key", "price_list").prefetch_related("key__parts", "shares"):
        shares = {p.value: sum((s.amount for s in line.shares.all() if s.party == p.value), 0) for p in Party}
        lines.append({"line": line, "shares": shares, "problems": services.line_problems(line)})
    problems = services.budget_problems(budget)
    municipal_split = None
    population_problem = None
    try:
        weights = services.population_weights(budget.population_year)
        municipal_split = weights
    except DomainError as exc:
        population_problem = exc.problems[0]
    periods = {p.month: p for p in InvoicePeriod.objects.filter(year=budget.year)}
    invoiced = {
        row["period__month"]
        for row in Invoice.objects.filter(budget=budget).values("period__month").distinct()
    }
    months = [
        {"month": m, "closed": periods.get(m) is not None and periods[m].is_closed, "invoiced": m in invoiced}
        for m in range(1, 13)
    ]
    return {
        "budget": budget,
        "lines": lines,
        "columns": services.party_columns(budget),
        "problems": problems,
        "population_problem": population_problem,
        "population_ok": municipal_split is not None,
        "months": months,
        "follow_up": services.outcome_against_budget(budget),
        "keys": FinancingKey.objects.all(),
        "price_lists": PriceList.objects.filter(year=budget.year),
        "complete_years": services.complete_population_years(),
        "changes": budget.changes.select_related("by")[:20],
    }


@require_GET
@actor_required(Perm.ECONOMY_VIEW)
def budget_detail(request: HttpRequest, budget_id: int) -> HttpResponse:
    budget = get_object_or_404(Budget.objects.select_related("responsibility_object"), pk=budget_id)
    return render(request, "economy/budget_detail.html", _budget_context(budget))


# --- Budget actions: one dispatcher (accounts.decorators.run_action), as the cases and SIP pages use ------
# Each handler takes (actor, budget, POST) and returns the success message; a refusal re-renders the budget
# page with the error at its field (status as the service says: 409 for a state conflict), and the whole
# action is one transaction (issue 14).


def _month(data: QueryDict) -> int:
    raw = data.get("month", "")
    if not raw.isdecimal():
        raise DomainError.single("month", "R-ECO-6", _("Välj en månad."))
    return int(raw)


def _create_invoices(actor: Actor, budget: Budget, data: QueryDict) -> str:
    month = _month(data)
    created = services.create_invoices(actor, budget, month)
    return _("%(n)d fakturor skapade för månad %(m)d.") % {"n": len(created), "m": month}


def _close_period(actor: Actor, budget: Budget, data: QueryDict) -> str:
    services.close_period(actor, budget.year, _month(data))
    return _("Perioden är stängd.")


def _add_line(actor: Actor, budget: Budget, data: QueryDict) -> str:
    key, price_list = _financing_choice(data.get("financing", ""))
    services.add_line(
        actor,
        budget,
        data.get("name", ""),
        data.get("amount", ""),
        key=key,
        price_list=price_list,
        note=data.get("note", ""),
    )
    return _("Budgetraden är tillagd.")


def _adopt(actor: Actor, budget: Budget, data: QueryDict) -> str:
    services.adopt_budget(actor, budget)
    return _("Budgeten är beslutad.")


def _population_year(actor: Actor, budget: Budget, data: QueryDict) -> str:
    services.set_population_year(actor, budget, data.get("population_year", ""))
    return _("Folkmängdsåret är ändrat och budgeten omräknad.")


BUDGET_HANDLERS: dict[str, Callable[..., str]] = {
    "invoices": _create_invoices,
    "close-period": _close_period,
    "add-line": _add_line,
    "adopt": _adopt,
    "population": _population_year,
}


def _open_budget(budget_id: int) -> Budget:
    return get_object_or_404(Budget.objects.select_related("responsibility_object"), pk=budget_id)


def _budget_action(
    request: AuthedRequest, budget_id: int, name: str, success_url: Callable[[Budget], str] | None = None
) -> HttpResponse:
    return run_action(
        request,
        name,
        handlers=BUDGET_HANDLERS,
        open_object=lambda _what: _open_budget(budget_id),
        context=_budget_context,
        template="economy/budget_detail.html",
        success_url=success_url or (lambda budget: reverse("economy:budget", args=[budget.pk])),
    )


@require_POST
@actor_required(Perm.ECONOMY_MANAGE)
def create_invoices(request: AuthedRequest, budget_id: int) -> HttpResponse:
    return _budget_action(
        request,
        budget_id,
        "invoices",
        lambda budget: reverse("economy:invoices", args=[budget.pk, int(request.POST["month"])]),
    )


@require_POST
@actor_required(Perm.ECONOMY_MANAGE)
def close_period(request: AuthedRequest, budget_id: int) -> HttpResponse:
    return _budget_action(request, budget_id, "close-period")


@require_GET
@actor_required(Perm.ECONOMY_VIEW)
def invoices(request: HttpRequest, budget_id: int, month: int) -> HttpResponse:
    budget = get_object_or_404(Budget.objects.select_related("responsibility_object"), pk=budget_id)
    if not 1 <= month <= 12:
        raise Http404
    rows = list(
        Invoice.objects.filter(budget=budget, period__month=month, period__year=budget.year)
        .select_related("period", "organisation")
        .prefetch_related("lines__budget_line")
        .order_by("party", "recipient")
    )
    period = InvoicePeriod.objects.filter(year=budget.year, month=month).first()
    return render(
        request,
        "economy/invoices.html",
        {
            "budget": budget,
            "month": month,
            "invoices": rows,
            "total": sum(i.total for i in rows),
            "period": period,
        },
    )


@require_GET
@actor_required(Perm.ECONOMY_VIEW)
def seed_check(request: HttpRequest) -> HttpResponse:
    tables = []
    for table in (seeds.SHVO_2023, seeds.GITS_2025):
        loaded = Budget.objects.filter(
            year=table.year, responsibility_object__code=table.rows[0].code
        ).exists()
        tables.append(
            {"table": table, "loaded": loaded, "findings": seeds.reconcile(table) if loaded else []}
        )
    return render(request, "economy/seed_check.html", {"tables": tables})


@require_POST
@actor_required(Perm.ECONOMY_MANAGE)
def add_line(request: AuthedRequest, budget_id: int) -> HttpResponse:
    return _budget_action(request, budget_id, "add-line")


@require_POST
@actor_required(Perm.ECONOMY_MANAGE)
def adopt(request: AuthedRequest, budget_id: int) -> HttpResponse:
    return _budget_action(request, budget_id, "adopt")


KEY_ROWS = 4


@actor_required(Perm.ECONOMY_VIEW)
def keys(request: AuthedRequest) -> HttpResponse:
    form: dict[str, str] = {k: str(v) for k, v in request.POST.items()}
    editing = FinancingKey.objects.filter(code=request.GET.get("kod", "")).prefetch_related("parts").first()
    if request.method == "GET" and editing is not None:
        form = {"code": editing.code, "name": editing.name, "description": editing.description}
        for i, part in enumerate(editing.parts.all()[:KEY_ROWS]):
            form |= {
                f"party-{i}": part.party,
                f"percent-{i}": str(part.percent),
                f"financier-{i}": part.financier,
            }
    context: dict[str, object] = {
        "keys": FinancingKey.objects.prefetch_related("parts"),
        "parties": Party.choices,
        "rows": range(KEY_ROWS),
        "form": form,
        "editing": editing,
        "action": "key",
    }
    if request.method == "POST":
        request.actor.require(Perm.ECONOMY_MANAGE)
        parts = [
            services.KeyPartInput(
                request.POST.get(f"party-{i}", ""),
                request.POST.get(f"percent-{i}", "").strip() or "0",
                request.POST.get(f"financier-{i}", ""),
            )
            for i in range(KEY_ROWS)
            if request.POST.get(f"party-{i}")
        ]
        try:
            services.save_financing_key(
                request.actor,
                request.POST.get("code", "").strip(),
                request.POST.get("name", "").strip(),
                parts,
                request.POST.get("description", "").strip(),
            )
        except DomainError as exc:
            # parts.N refers to the N-th filled row; map it back to the form's row numbers
            filled = [i for i in range(KEY_ROWS) if request.POST.get(f"party-{i}")]
            field_errors: dict[str, str] = {}
            for p in exc.problems:
                name = p.field
                if name.startswith("parts.") and name.count(".") == 2:
                    _parts, n, attr = name.split(".")
                    name = f"{attr}-{filled[int(n)]}" if int(n) < len(filled) else "parts"
                field_errors[name] = str(p.message)
            return render(
                request,
                "economy/keys.html",
                {**context, "errors": exc.problems, "field_errors": field_errors},
                status=400,
            )
        messages.success(request, _("Fördelningsnyckeln är sparad."))
        return redirect("economy:keys")
    return render(request, "economy/keys.html", context)


# --- Editing: lines, population year, price lists and usage rows, the change log ----------------------------


def _errors(exc: DomainError, action: str) -> dict[str, object]:
    """Refusal context: the summary at the top and each message next to its field (cases_tags.field_error)."""
    return {
        "errors": exc.problems,
        "field_errors": {p.field: str(p.message) for p in exc.problems},
        "action": action,
    }


def _financing_choice(raw: str) -> tuple[FinancingKey | None, PriceList | None]:
    key = (
        FinancingKey.objects.filter(pk=raw[4:]).first()
        if raw.startswith("key-") and raw[4:].isdecimal()
        else None
    )
    price_list = (
        PriceList.objects.filter(pk=raw[5:]).first()
        if raw.startswith("list-") and raw[5:].isdecimal()
        else None
    )
    return key, price_list


@require_POST
@actor_required(Perm.ECONOMY_MANAGE)
def population_year(request: AuthedRequest, budget_id: int) -> HttpResponse:
    return _budget_action(request, budget_id, "population")


def _line_context(line: BudgetLine) -> dict[str, object]:
    return {
        "line": line,
        "budget": line.budget,
        "keys": FinancingKey.objects.all(),
        "price_lists": PriceList.objects.filter(year=line.budget.year),
        "problems": services.line_problems(line),
        "invoiced": InvoiceLine.objects.filter(budget_line=line).exists(),
    }


@actor_required(Perm.ECONOMY_VIEW)
def line_edit(request: AuthedRequest, line_id: int) -> HttpResponse:
    line = get_object_or_404(
        BudgetLine.objects.select_related("budget__responsibility_object", "key", "price_list"), pk=line_id
    )
    context = _line_context(line)
    if request.method == "POST":
        request.actor.require(Perm.ECONOMY_MANAGE)
        key, price_list = _financing_choice(request.POST.get("financing", ""))
        try:
            services.update_line(
                request.actor,
                line,
                request.POST.get("name", ""),
                request.POST.get("amount", ""),
                key=key,
                price_list=price_list,
                note=request.POST.get("note", ""),
            )
        except DomainError as exc:
            line.refresh_from_db()
            return render(
                request,
                "economy/line_edit.html",
                {**_line_context(line), **_errors(exc, "line"), "form": request.POST},
                status=400,
            )
        messages.success(request, _("Budgetraden är ändrad."))
        return redirect("economy:budget", budget_id=line.budget_id)
    return render(request, "economy/line_edit.html", context)


@require_POST
@actor_required(Perm.ECONOMY_MANAGE)
def line_delete(request: AuthedRequest, line_id: int) -> HttpResponse:
    line = get_object_or_404(BudgetLine.objects.select_related("budget"), pk=line_id)
    budget_id = line.budget_id
    try:
        services.delete_line(request.actor, line)
    except DomainError as exc:
        return render(
            request, "economy/line_edit.html", {**_line_context(line), **_errors(exc, "delete")}, status=400
        )
    messages.success(request, _("Budgetraden är borttagen."))
    return redirect("economy:budget", budget_id=budget_id)


@actor_required(Perm.ECONOMY_VIEW)
def price_lists(request: AuthedRequest) -> HttpResponse:
    context: dict[str, object] = {
        "price_lists": PriceList.objects.select_related("responsibility_object").prefetch_related(
            "items__subscriptions", "lines__budget"
        ),
        "objects": ResponsibilityObject.objects.all(),
        "form": request.POST,
    }
    if request.method == "POST":
        request.actor.require(Perm.ECONOMY_MANAGE)
        obj_id = request.POST.get("responsibility_object", "")
        try:
            price_list = services.create_price_list(
                request.actor,
                ResponsibilityObject.objects.filter(pk=obj_id).first() if obj_id.isdecimal() else None,
                request.POST.get("year", ""),
                request.POST.get("name", ""),
                request.POST.get("note", ""),
            )
        except DomainError as exc:
            return render(
                request, "economy/price_lists.html", {**context, **_errors(exc, "create")}, status=400
            )
        messages.success(request, _("Prislistan är skapad."))
        return redirect("economy:price_list", price_list_id=price_list.pk)
    return render(request, "economy/price_lists.html", context)


def _price_list_context(price_list: PriceList) -> dict[str, object]:
    items = list(price_list.items.prefetch_related("subscriptions__organisation"))
    lines = list(price_list.lines.select_related("budget__responsibility_object", "price_list"))
    return {
        "price_list": price_list,
        "items": items,
        "charged": sum((s.amount for i in items for s in i.subscriptions.all()), Decimal(0)),
        "lines": [(line, services.line_problems(line)) for line in lines],
        "organisations": Organisation.objects.filter(
            kind__in=[
                Organisation.Kind.MUNICIPALITY,
                Organisation.Kind.REGION,
                Organisation.Kind.PRIVATE_PROVIDER,
            ]
        ).order_by("kind", "name"),
    }


@actor_required(Perm.ECONOMY_VIEW)
def price_list_detail(request: AuthedRequest, price_list_id: int) -> HttpResponse:
    price_list = get_object_or_404(
        PriceList.objects.select_related("responsibility_object"), pk=price_list_id
    )
    if request.method == "POST":
        actor = request.actor
        actor.require(Perm.ECONOMY_MANAGE)
        action = request.POST.get("action", "")
        item_id = request.POST.get("item", "")
        item = price_list.items.filter(pk=item_id).first() if item_id.isdecimal() else None
        try:
            if action == "item":
                services.save_price_item(
                    actor,
                    price_list,
                    request.POST.get("name", ""),
                    request.POST.get("unit_price", ""),
                    request.POST.get("unit", ""),
                    item=item,
                )
            elif action == "delete-item" and item is not None:
                services.delete_price_item(actor, item)
            elif action == "usage" and item is not None:
                org_id = request.POST.get("organisation", "")
                services.set_usage(
                    actor,
                    item,
                    Organisation.objects.filter(pk=org_id).first() if org_id.isdecimal() else None,
                    request.POST.get("quantity", ""),
                )
            else:
                raise Http404
        except DomainError as exc:
            return render(
                request,
                "economy/price_list_detail.html",
                {
                    **_price_list_context(price_list),
                    **_errors(exc, f"{action}-{item.pk if item else 'new'}"),
                    "form": request.POST,
                },
                status=400,
            )
        messages.success(request, _("Prislistan är uppdaterad."))
        return redirect("economy:price_list", price_list_id=price_list.pk)
    return render(request, "economy/price_list_detail.html", _price_list_context(price_list))


@require_GET
@actor_required(Perm.ECONOMY_VIEW)
def changes(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "economy/changes.html",
        {
            "changes": html_page(
                request,
                ChangeRecord.objects.select_related("by", "budget__responsibility_object").order_by(
                    "-at", "-pk"
                ),
            )
        },
    )
