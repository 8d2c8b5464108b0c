"""Economy pages: budgets with their lines, keys, party shares and flags; monthly invoices; the seed tables
checked against themselves. Views look up, call a service and render; the rules live in services."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from brygga.accounts.permissions import Perm
from brygga.core.errors import DomainError
from brygga.core.views import actor_required
from brygga.economy import seeds, services
from brygga.economy.models import Budget, FinancingKey, Invoice, InvoicePeriod, Party, PriceList


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
    }


@require_GET
@actor_required(Perm.ECONOMY_VIEW)
def budget_detail(request: HttpRequest, budget_id: int) -> HttpResponse:
    budget = get_object_or_404(Budget.objects.select_related("responsibility_object"), pk=budget_id)
    return render(request, "economy/budget_detail.html", _budget_context(budget))


@require_POST
@actor_required(Perm.ECONOMY_MANAGE)
def create_invoices(request: HttpRequest, budget_id: int) -> HttpResponse:
    budget = get_object_or_404(Budget, pk=budget_id)
    try:
        month = int(request.POST.get("month", "0"))
        invoices = services.create_invoices(request.actor, budget, month)  # type: ignore[attr-defined]
    except ValueError:
        month, invoices = 0, []
        errors = [DomainError.single("month", "R-ECO-6", _("Välj en månad.")).problems[0]]
        return render(
            request, "economy/budget_detail.html", {**_budget_context(budget), "errors": errors}, status=400
        )
    except DomainError as exc:
        return render(
            request,
            "economy/budget_detail.html",
            {**_budget_context(budget), "errors": exc.problems},
            status=400,
        )
    messages.success(request, _("%(n)d fakturor skapade för månad %(m)d.") % {"n": len(invoices), "m": month})
    return redirect("economy:invoices", budget_id=budget.pk, month=month)


@require_POST
@actor_required(Perm.ECONOMY_MANAGE)
def close_period(request: HttpRequest, budget_id: int) -> HttpResponse:
    budget = get_object_or_404(Budget, pk=budget_id)
    try:
        month = int(request.POST.get("month", "0"))
        services.close_period(request.actor, budget.year, month)  # type: ignore[attr-defined]
    except (ValueError, DomainError) as exc:
        problems = exc.problems if isinstance(exc, DomainError) else []
        return render(
            request, "economy/budget_detail.html", {**_budget_context(budget), "errors": problems}, status=400
        )
    messages.success(request, _("Perioden är stängd."))
    return redirect("economy:budget", budget_id=budget.pk)


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
def add_line(request: HttpRequest, budget_id: int) -> HttpResponse:
    budget = get_object_or_404(Budget, pk=budget_id)
    financing = request.POST.get("financing", "")
    key = FinancingKey.objects.filter(pk=financing[4:]).first() if financing.startswith("key-") else None
    price_list = PriceList.objects.filter(pk=financing[5:]).first() if financing.startswith("list-") else None
    try:
        services.add_line(
            request.actor,  # type: ignore[attr-defined]
            budget,
            request.POST.get("name", ""),
            request.POST.get("amount", ""),
            key=key,
            price_list=price_list,
            note=request.POST.get("note", ""),
        )
    except DomainError as exc:
        return render(
            request,
            "economy/budget_detail.html",
            {**_budget_context(budget), "errors": exc.problems},
            status=400,
        )
    messages.success(request, _("Budgetraden är tillagd."))
    return redirect("economy:budget", budget_id=budget.pk)


@require_POST
@actor_required(Perm.ECONOMY_MANAGE)
def adopt(request: HttpRequest, budget_id: int) -> HttpResponse:
    budget = get_object_or_404(Budget, pk=budget_id)
    try:
        services.adopt_budget(request.actor, budget)  # type: ignore[attr-defined]
    except DomainError as exc:
        return render(
            request,
            "economy/budget_detail.html",
            {**_budget_context(budget), "errors": exc.problems},
            status=400,
        )
    messages.success(request, _("Budgeten är beslutad."))
    return redirect("economy:budget", budget_id=budget.pk)


KEY_ROWS = 4


@actor_required(Perm.ECONOMY_VIEW)
def keys(request: HttpRequest) -> HttpResponse:
    context: dict[str, object] = {
        "keys": FinancingKey.objects.prefetch_related("parts"),
        "parties": Party.choices,
        "rows": range(KEY_ROWS),
        "form": request.POST,
    }
    if request.method == "POST":
        request.actor.require(Perm.ECONOMY_MANAGE)  # type: ignore[attr-defined]
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
                request.actor,  # type: ignore[attr-defined]
                request.POST.get("code", "").strip(),
                request.POST.get("name", "").strip(),
                parts,
            )
        except DomainError as exc:
            return render(request, "economy/keys.html", {**context, "errors": exc.problems}, status=400)
        messages.success(request, _("Fördelningsnyckeln är sparad."))
        return redirect("economy:keys")
    return render(request, "economy/keys.html", context)
