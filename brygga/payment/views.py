"""Payment pages: the settlements a user may see, one settlement's invoice basis with its exclusions, problems
and disputes, its exports, and the rule and amount configuration."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, Q, Sum
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from brygga.accounts.context import Actor, AuthedRequest
from brygga.accounts.decorators import actor_required
from brygga.accounts.permissions import Perm
from brygga.cases import services as cases_services
from brygga.core.errors import DomainError
from brygga.core.paging import html_page
from brygga.organisations.models import Municipality
from brygga.payment import downloads, exports, rule_changes, services
from brygga.payment.engine import LineKind
from brygga.payment.models import (
    DailyAmount,
    Dispute,
    ExportFile,
    PaymentRule,
    SettlementLine,
    SettlementRun,
)


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


@actor_required(Perm.PAYMENT_VIEW)
def settlement_list(request: AuthedRequest, errors: list | None = None, status: int = 200) -> HttpResponse:
    actor: Actor = request.actor
    runs = services.visible_runs(actor)
    last_year, last_month = services.previous_month(timezone.localdate())
    year = _int_or_none(request.GET.get("ar"))
    month = _int_or_none(request.GET.get("manad"))
    code = request.GET.get("kommun", "").strip()
    show_all = request.GET.get("alla") == "1"
    if year:
        runs = runs.filter(year=year)
    if month:
        runs = runs.filter(month=month)
    if code:
        runs = runs.filter(municipality__scb_code=code)
    if not show_all:
        runs = runs.exclude(status=SettlementRun.Status.SUPERSEDED)
    runs = runs.annotate(
        total_amount=Sum("lines__amount"),
        total_days=Sum("lines__payable_days"),
        open_disputes=Count("lines__disputes", filter=Q(lines__disputes__status=Dispute.Status.OPEN)),
    ).order_by("-year", "-month", "municipality__name", "-sequence")
    municipalities = (
        Municipality.objects.filter(pk__in=services.visible_runs(actor).values("municipality"))
        .order_by("name")
        .values_list("scb_code", "name")
    )
    return render(
        request,
        "payment/settlement_list.html",
        {
            "runs": runs[:500],
            "year": year or "",
            "month": month or "",
            "code": code,
            "show_all": show_all,
            "municipalities": municipalities,
            "can_manage": actor.can(Perm.PAYMENT_MANAGE),
            "errors": errors or [],
            "run_year": request.POST.get("year") if errors else last_year,
            "run_month": request.POST.get("month") if errors else last_month,
        },
        status=status,
    )


@require_POST
@actor_required(Perm.PAYMENT_MANAGE)
def run_month(request: AuthedRequest) -> HttpResponse:
    """Settle a month for every municipality from the real cases (services.run_month)."""
    actor: Actor = request.actor
    year = _int_or_none(request.POST.get("year"))
    month = _int_or_none(request.POST.get("month"))
    try:
        if year is None or month is None:
            raise DomainError.single("month", "BETALNING-MANAD", _("Ange år och månad med siffror."))
        runs = services.run_month(actor, year, month)
    except DomainError as exc:
        return settlement_list(request, exc.problems, status=exc.status)
    problems = sum(len(r.problems) for r in runs)
    messages.success(
        request,
        _("%(count)s kommuner avräknade för %(period)s från ärendena; %(problems)s dataproblem.")
        % {"count": len(runs), "period": f"{year}-{month:02d}", "problems": problems},
    )
    return redirect(f"{reverse('payment:settlement_list')}?ar={year}&manad={month}")


@actor_required(Perm.PAYMENT_VIEW)
def settlement_detail(request: AuthedRequest, run_id: int) -> HttpResponse:
    return _detail(request, services.open_run(request.actor, run_id))


# Lines per page of the invoice basis: the largest municipality's month has about 3,000 (issue 17 item 4).
LINES_PER_PAGE = 100
CASE_FILTER_MAX = 60  # the length of a case reference


def _detail(
    request: AuthedRequest, run: SettlementRun, errors: list | None = None, status: int = 200
) -> HttpResponse:
    actor: Actor = request.actor
    case_filter = request.GET.get("arende", "").strip()
    filter_error = ""
    if len(case_filter) > CASE_FILTER_MAX:
        filter_error = _("Ärendenumret får vara högst %(max)s tecken.") % {"max": CASE_FILTER_MAX}
        case_filter = ""
    lines = run.lines.order_by("position")
    if case_filter:
        lines = lines.filter(case_reference__icontains=case_filter)
    # The page links keep the case filter and the other list's page, not a one-off action: ``kontroll=1``
    # recomputes the whole run (a check, not a view to page through) and ``bestrid`` picks a line to dispute.
    paged_by = ("arende", "sida", "undantag")
    charged_pages = html_page(
        request, lines.exclude(kind=LineKind.EXCLUDED), LINES_PER_PAGE, "sida", keep=paged_by
    )
    excluded_pages = html_page(
        request, lines.filter(kind=LineKind.EXCLUDED), LINES_PER_PAGE, "undantag", keep=paged_by
    )
    charged, excluded = charged_pages.page, excluded_pages.page
    shown = [*charged.object_list, *excluded.object_list]
    # One translation per kind, not one per row (a page of 100 rows spent most of its time in gettext).
    kind_labels = {value: str(label) for value, label in SettlementLine._meta.get_field("kind").flatchoices}
    for line in shown:
        line.kind_label = kind_labels.get(line.kind, line.kind)  # type: ignore[attr-defined]
    chosen = _int_or_none(request.POST.get("line") or request.GET.get("bestrid"))
    disputable = [line for line in shown if line.kind != LineKind.AVERAGE_EXCESS]
    if chosen is not None and all(line.pk != chosen for line in disputable):
        extra = run.lines.exclude(kind=LineKind.AVERAGE_EXCESS).filter(pk=chosen).first()
        if extra is not None:
            extra.kind_label = kind_labels.get(extra.kind, extra.kind)  # type: ignore[attr-defined]
            disputable.insert(0, extra)
    disputes = Dispute.objects.filter(line__run=run).select_related(
        "line", "raised_by", "resolved_by", "raised_unit"
    )
    own_municipality = services.actor_municipality(actor)
    checking = request.GET.get("kontroll") == "1" and actor.can(Perm.PAYMENT_MANAGE)
    line_count = run.lines.count()

    context = {
        "run": run,
        "totals": run.totals(),
        "line_count": line_count,
        "charged": charged,
        "excluded": excluded,
        "charged_pages": charged_pages,
        "excluded_pages": excluded_pages,
        "case_filter": case_filter,
        "filter_error": filter_error,
        "disputable": disputable,
        "chosen_line": chosen,
        "disputes": disputes,
        "rules": run.rules,
        "can_dispute": actor.can(Perm.PAYMENT_DISPUTE)
        and own_municipality is not None
        and own_municipality.pk == run.municipality_id
        and run.status == SettlementRun.Status.OPEN,
        "can_manage": actor.can(Perm.PAYMENT_MANAGE),
        "openable": services.openable_cases(actor, run, shown),
        "errors": errors or [],
        "differences": services.reproduce(run) if checking else None,
        "versions": SettlementRun.objects.filter(
            municipality=run.municipality, year=run.year, month=run.month
        )
        .only("pk", "sequence", "status", "created_at")
        .order_by("-sequence"),
        "inline_exports": downloads.builds_inline(run, line_count),
        "export_links": _export_links(run),
    }
    return render(request, "payment/settlement_detail.html", context, status=status)


def _export_links(run: SettlementRun) -> list[tuple[str, str, ExportFile | None]]:
    files = {e.fmt: e for e in ExportFile.objects.filter(run=run, run_status=run.status)}
    return [(fmt, name, files.get(fmt)) for fmt, name in _formats()]


def _formats() -> list[tuple[str, str]]:
    return [("csv", "CSV"), ("xlsx", _("Excel (XLSX)")), ("pdf", "PDF")]


@require_POST
@actor_required(Perm.PAYMENT_DISPUTE)
def dispute(request: AuthedRequest, run_id: int) -> HttpResponse:
    actor: Actor = request.actor
    try:
        services.raise_dispute(actor, run_id, request.POST.get("line", ""), request.POST.get("comment", ""))
    except DomainError as exc:
        return _detail(request, services.open_run(actor, run_id), exc.problems, status=exc.status)
    messages.success(request, _("Raden är bestridd. Regionen besvarar tvisten."))
    return redirect("payment:settlement_detail", run_id=run_id)


@require_POST
@actor_required(Perm.PAYMENT_MANAGE)
def resolve(request: AuthedRequest, dispute_id: int) -> HttpResponse:
    actor: Actor = request.actor
    dispute = Dispute.objects.filter(pk=dispute_id, line__run__in=services.visible_runs(actor)).first()
    if dispute is None:
        return render(request, "404.html", status=404)
    try:
        services.resolve_dispute(
            actor, dispute_id, request.POST.get("outcome") == "accepted", request.POST.get("resolution", "")
        )
    except DomainError as exc:
        return _detail(request, dispute.line.run, exc.problems, status=exc.status)
    messages.success(request, _("Tvisten är besvarad."))
    return redirect("payment:settlement_detail", run_id=dispute.line.run_id)


@require_POST
@actor_required(Perm.PAYMENT_MANAGE)
def close(request: AuthedRequest, run_id: int) -> HttpResponse:
    actor: Actor = request.actor
    try:
        services.close_settlement(actor, run_id)
    except DomainError as exc:
        return _detail(request, services.open_run(actor, run_id), exc.problems, status=exc.status)
    messages.success(request, _("Avräkningen är stängd."))
    return redirect("payment:settlement_detail", run_id=run_id)


@actor_required(Perm.PAYMENT_VIEW)
def export(request: AuthedRequest, run_id: int, fmt: str) -> HttpResponse:
    """The basis as a file: built here for a small run; for a large one the worker's finished file, or the
    page that requests it (issue 17 item 4)."""
    run = services.open_run(request.actor, run_id)
    if fmt not in downloads.FORMATS:
        return render(request, "404.html", status=404)
    if downloads.builds_inline(run):
        response = HttpResponse(exports.in_memory(fmt, run), content_type=exports.CONTENT_TYPES[fmt])
        response["Content-Disposition"] = f'attachment; filename="{exports.file_name(run, fmt)}"'
        return response
    export_file = downloads.current_export(run, fmt)
    if export_file is not None and export_file.status == ExportFile.Status.DONE:
        return redirect("payment:export_download", run_id=run.pk, export_id=export_file.pk)
    return _export_page(request, run, fmt, export_file)


def _export_page(
    request: HttpRequest, run: SettlementRun, fmt: str, export_file: ExportFile | None
) -> HttpResponse:
    context = {
        "run": run,
        "fmt": fmt,
        "format_name": dict(_formats())[fmt],
        "export": export_file,
        "refresh_seconds": 2
        if export_file is not None
        and export_file.status in (ExportFile.Status.QUEUED, ExportFile.Status.RUNNING)
        else 0,
    }
    if request.GET.get("del") == "status":
        return render(request, "payment/_export_status.html", context)
    return render(request, "payment/export.html", context)


@require_POST
@actor_required(Perm.PAYMENT_VIEW)
def request_export(request: AuthedRequest, run_id: int, fmt: str) -> HttpResponse:
    export_file = downloads.request_export(request.actor, run_id, fmt)
    return redirect("payment:export_status", run_id=export_file.run_id, export_id=export_file.pk)


@actor_required(Perm.PAYMENT_VIEW)
def export_status(request: AuthedRequest, run_id: int, export_id: int) -> HttpResponse:
    export_file = downloads.open_export(request.actor, run_id, export_id)
    return _export_page(request, export_file.run, export_file.fmt, export_file)


@actor_required(Perm.PAYMENT_VIEW)
def export_download(request: AuthedRequest, run_id: int, export_id: int) -> HttpResponse:
    export_file = downloads.open_export(request.actor, run_id, export_id)
    response = FileResponse(
        downloads.open_stored(export_file),
        as_attachment=True,
        filename=exports.file_name(export_file.run, export_file.fmt),
        content_type=exports.CONTENT_TYPES[export_file.fmt],
    )
    response["Cache-Control"] = "no-store"
    return response  # type: ignore[return-value]  # a streaming response


@actor_required(Perm.PAYMENT_VIEW)
def rules(
    request: AuthedRequest, errors: list | None = None, status: int = 200, failed_rule: str = ""
) -> HttpResponse:
    actor: Actor = request.actor
    latest = services.current_rules()
    can_manage = actor.can(Perm.PAYMENT_MANAGE)
    return render(
        request,
        "payment/rules.html",
        {
            "rules": PaymentRule.objects.order_by("valid_from", "code", "-version"),
            "current": {r.pk for r in latest},
            "rule_forms": [_rule_form(r, request, failed_rule) for r in latest] if can_manage else [],
            "failed_rule": failed_rule,
            "amounts": DailyAmount.objects.select_related("recorded_by").order_by(
                "-year", "-recorded_at", "-id"
            ),
            "current_amounts": {a.pk for a in (services.current_amount(y) for y in _amount_years()) if a},
            "can_manage": can_manage,
            "errors": errors or [],
            "form": request.POST if errors and not failed_rule else {},
        },
        status=status,
    )


def _rule_form(rule: PaymentRule, request: HttpRequest, failed_rule: str) -> dict[str, object]:
    """One rule's change form: the rule's values, or what was posted when that form was refused. The refused
    form's inputs get the ids the error summary links to (field-<name>); the others are prefixed per rule."""
    failed = rule.code == failed_rule
    values: dict[str, object] = {
        "mode": "from_date",
        "name": rule.name,
        "rule_ids": rule.rule_ids,
        "source": rule.source,
        "valid_from": "",
        "valid_to": rule.valid_to.isoformat() if rule.valid_to else "",
        "requires_sip_summons": rule.requires_sip_summons,
        "free_days": rule.free_days,
        "average_threshold": rule.average_threshold,
        "long_stay_days": rule.long_stay_days,
        "long_stay_free_days": rule.long_stay_free_days,
        "day_zero": rule.day_zero,
        "window_months": rule.window_months,
    }
    if failed:
        values.update({name: request.POST.get(name, "") for name in values})
        values["requires_sip_summons"] = bool(request.POST.get("requires_sip_summons"))
    return {
        "rule": rule,
        "values": values,
        "open": failed,
        "prefix": "field" if failed else f"rule-{rule.code}",
    }


@require_POST
@actor_required(Perm.PAYMENT_MANAGE)
def change_rule(request: AuthedRequest, code: str) -> HttpResponse:
    actor: Actor = request.actor
    try:
        rule = rule_changes.change_rule(actor, code, request.POST)
    except DomainError as exc:
        return rules(request, exc.problems, status=exc.status, failed_rule=code)
    messages.success(
        request,
        _("Regeln är ändrad. Nästa avräkning använder %(rule)s.") % {"rule": f"{rule.code} v{rule.version}"},
    )
    return redirect("payment:rules")


@actor_required(Perm.PAYMENT_VIEW)
def case_payment(request: AuthedRequest, case_id: int) -> HttpResponse:
    """One stay as the payment rules see it, and its lines in the settlements the actor may see. The case is
    opened through the cases app's checked path (a unit taking part in it; the read is logged)."""
    actor: Actor = request.actor
    case = cases_services.open_case(actor, case_id, what="betalningsansvar")
    return render(
        request,
        "payment/case.html",
        {
            "case": case,
            "explanation": services.explain_case(case),
            "lines": services.case_lines(actor, case),
        },
    )


def _amount_years() -> list[int]:
    return list(DailyAmount.objects.order_by().values_list("year", flat=True).distinct())


@require_POST
@actor_required(Perm.PAYMENT_MANAGE)
def record_amount(request: AuthedRequest) -> HttpResponse:
    actor: Actor = request.actor
    year = _int_or_none(request.POST.get("year"))
    try:
        if year is None:
            raise DomainError.single("year", "R-BET-4", _("Ange året med fyra siffror."))
        services.record_amount(
            actor,
            year,
            request.POST.get("amount", ""),
            request.POST.get("source", ""),
            request.POST.get("source_url", ""),
        )
    except DomainError as exc:
        return rules(request, exc.problems, status=exc.status)
    messages.success(request, _("Beloppet för %(year)s är sparat.") % {"year": year})
    return redirect("payment:rules")
