"""Statistics pages: one page per area (the region, a delregion, a municipality, a hospital, a ward) with
trends, a comparison of the areas below it and distributions; every chart has its table. The pages read
only the summary tables and show aggregates, never persons. The CSV export needs the statistics
permission; the open data (CSV and DCAT-AP-SE) is public and coarser (no wards)."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from brygga.accounts.context import Actor, AuthedRequest
from brygga.accounts.decorators import actor_required
from brygga.accounts.permissions import Perm
from brygga.statistics import charts, opendata, selectors
from brygga.statistics import suppression as s
from brygga.statistics.models import Level
from brygga.statistics.refresh import REGION_KEY

LEVEL_SLUGS = {
    "delregion": Level.SUBREGION,
    "kommun": Level.MUNICIPALITY,
    "sjukhus": Level.SITE,
    "avdelning": Level.UNIT,
}
SLUG_FOR: dict[str, str] = {v.value: k for k, v in LEVEL_SLUGS.items()}
MONTH_NAMES = ["jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec"]
# What a region page can compare: its delregioner, its municipalities or its hospitals.
REGION_COMPARISONS = {"delregion": Level.SUBREGION, "kommun": Level.MUNICIPALITY, "sjukhus": Level.SITE}


def _month_param(value: str | None) -> dt.date | None:
    try:
        year, month = (value or "").split("-")
        return dt.date(int(year), int(month), 1)
    except ValueError:
        return None


def _period(request: HttpRequest) -> tuple[dt.date, dt.date]:
    first, last = selectors.default_period(timezone.localdate())
    first = _month_param(request.GET.get("fran")) or first
    last = _month_param(request.GET.get("till")) or last
    if first > last:
        first, last = last, first
    return first, last


def _month_label(month: dt.date) -> str:
    return f"{MONTH_NAMES[month.month - 1]} {month:%y}"


def area_url(level: str, key: str) -> str:
    if level == Level.REGION:
        return reverse("statistics:overview")
    return reverse("statistics:area", args=[SLUG_FOR[level], key])


def _breadcrumbs(row: Mapping[str, Any]) -> list[tuple[str, str]]:
    crumbs = [("Västra Götaland", area_url(Level.REGION, REGION_KEY))]
    parent_level = {Level.MUNICIPALITY: Level.SUBREGION, Level.UNIT: Level.SITE}.get(row["level"])
    if parent_level and row["parent_key"]:
        parent = selectors.area(parent_level, row["parent_key"])
        if parent:
            crumbs.append((parent["name"], area_url(parent_level, parent["key"])))
    return crumbs


def _chart_block(
    metric: selectors.Metric, labels: list[str], rows: Sequence[Mapping[str, Any]], trend: bool
) -> dict:
    cells = [metric.cell(r) for r in rows]
    items = list(zip(labels, cells, strict=True))
    chart = (
        charts.column_chart(str(metric.label), items, metric.unit)
        if trend
        else charts.bar_chart(str(metric.label), items, metric.unit)
    )
    table = [
        {
            "label": label,
            "numerator": metric.numerator[1](r) if metric.numerator else None,
            "denominator": metric.denominator[1](r),
            "value": cell,
        }
        for label, r, cell in zip(labels, rows, cells, strict=True)
    ]
    return {"metric": metric, "chart": chart, "table": table}


def _render_area(request: AuthedRequest, level: str, key: str) -> HttpResponse:
    row = selectors.area(level, key)
    if row is None:
        raise Http404
    first, last = _period(request)
    monthly = selectors.trend(level, key, first, last)
    month_labels = [_month_label(r["month"]) for r in monthly]
    trends = [_chart_block(m, month_labels, monthly, trend=True) for m in selectors.METRICS.values()]

    metric_code = request.GET.get("matt") if request.GET.get("matt") in selectors.COMPARABLE else None
    metric = selectors.METRICS[metric_code or "notices_on_time_share"]
    compare_slug = request.GET.get("jamfor", "delregion")
    child_level = (
        REGION_COMPARISONS.get(compare_slug, Level.SUBREGION)
        if level == Level.REGION
        else selectors.CHILD_LEVEL.get(Level(level))
    )
    comparison = None
    actor: Actor = request.actor
    wards_hidden = child_level == Level.UNIT and not actor.can(Perm.STATISTICS_VIEW)
    if wards_hidden:  # the ward level is not published; only the statistics role and GITS see it
        child_level = None
    if child_level:
        parent = None if level == Level.REGION else key
        children = selectors.totals(child_level, first, last, parent_key=parent)
        if children:
            comparison = _chart_block(metric, [c["name"] for c in children], children, trend=False)
            for entry, child in zip(comparison["table"], children, strict=True):
                entry["url"] = area_url(child_level, child["key"])
    total = selectors.totals(level, first, last, key=key)
    period_row = total[0] if total else dict.fromkeys(selectors.COUNT_FIELDS, 0)
    buckets = selectors.buckets(period_row)
    reasons = selectors.reasons(level, key, first, last)
    context = {
        "area": row,
        "level_label": Level(level).label,
        "breadcrumbs": _breadcrumbs(row) if level != Level.REGION else [],
        "first": first,
        "last": last,
        "trends": trends,
        "comparison": comparison,
        "child_level": Level(child_level).label if child_level else None,
        "metric": metric,
        "metrics": [selectors.METRICS[c] for c in selectors.COMPARABLE],
        "compare_slug": compare_slug,
        "is_region": level == Level.REGION,
        "wards_hidden": wards_hidden,
        "buckets": buckets,
        "buckets_chart": charts.bar_chart(_("Dagar från utskrivningsklar till utskriven"), buckets, "antal"),
        "ready_total": s.count(period_row["ready_discharged"]),
        "reasons": reasons,
        "reasons_chart": charts.bar_chart(
            _("Flyttade utskrivningsdatum per orsak"),
            [(label, moves) for label, moves, _d in reasons],
            "antal",
        ),
        "refreshed": selectors.last_refresh(),
        "small": s.SMALL,
        "hidden": s.HIDDEN,
    }
    return render(request, "statistics/area.html", context)


@actor_required(Perm.STATISTICS_VIEW_PUBLISHED)
def overview(request: AuthedRequest) -> HttpResponse:
    return _render_area(request, Level.REGION, REGION_KEY)


@actor_required(Perm.STATISTICS_VIEW_PUBLISHED)
def area(request: AuthedRequest, level_slug: str, key: str) -> HttpResponse:
    level = LEVEL_SLUGS.get(level_slug)
    if level is None:
        raise Http404
    if level == Level.UNIT:
        request.actor.require(Perm.STATISTICS_VIEW)
    return _render_area(request, level, key)


def _csv_response(rows: list[dict[str, Any]], filename: str) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    fields = ["manad", "niva", "nyckel", "namn", *opendata.COLUMNS]
    writer = csv.DictWriter(response, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return response


@actor_required(Perm.STATISTICS_VIEW)
def export_csv(request: HttpRequest) -> HttpResponse:
    """Every level, wards included, for the period; suppressed like the pages."""
    first, last = _period(request)
    rows = selectors.export_rows(tuple(Level.values), first, last)
    return _csv_response(rows, f"processtatistik-{first:%Y-%m}-{last:%Y-%m}.csv")


@require_GET
def open_csv(request: HttpRequest) -> HttpResponse:
    """Open data: the whole monthly series for the region, delregioner, municipalities and hospitals."""
    response = _csv_response(selectors.export_rows(selectors.OPEN_LEVELS), opendata.CSV_FILENAME)
    response["Content-Disposition"] = f'inline; filename="{opendata.CSV_FILENAME}"'
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def open_dcat(request: HttpRequest) -> HttpResponse:
    """DCAT-AP-SE metadata (JSON-LD) for the open data, for Dataportal Väst to harvest."""
    document = opendata.dcat(request.build_absolute_uri("/").rstrip("/"))
    response = HttpResponse(
        json.dumps(document, ensure_ascii=False, indent=2), content_type="application/ld+json; charset=utf-8"
    )
    response["Access-Control-Allow-Origin"] = "*"
    return response
