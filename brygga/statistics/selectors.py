"""Reading the summary tables for pages, CSV, open data and the API: trends for one area, comparisons between
areas over a period, and the metric definitions that turn stored counts into suppressed cells. Nothing here
reads a case."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Sum
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from brygga.cases.rules import EXPECTED_DATE_REASONS
from brygga.statistics import suppression as s
from brygga.statistics.models import DAY_BUCKETS, DateMoveReason, Level, MonthlyProcessStat, RefreshRun
from brygga.statistics.refresh import REGION_KEY, months_between

Row = Mapping[str, Any]

COUNT_FIELDS = [
    f.name for f in MonthlyProcessStat._meta.fields if f.get_internal_type() == "PositiveIntegerField"
]
BUCKET_LABELS = {
    "days_0": _("0 dagar"),
    "days_1": _("1 dag"),
    "days_2": _("2 dagar"),
    "days_3": _("3 dagar"),
    "days_4_7": _("4–7 dagar"),
    "days_8_14": _("8–14 dagar"),
    "days_15_plus": _("15 dagar eller fler"),
}
CHILD_LEVEL = {
    Level.REGION: Level.SUBREGION,
    Level.SUBREGION: Level.MUNICIPALITY,
    Level.SITE: Level.UNIT,
}


@dataclass(frozen=True)
class Metric:
    code: str
    label: Promise
    unit: str  # "%", "dagar" or "antal"
    rule: str
    numerator: tuple[Promise, Callable[[Row], s.Cell]] | None
    denominator: tuple[Promise, Callable[[Row], s.Cell]]
    cell: Callable[[Row], s.Cell]
    monthly_only: bool = False


def _share(num: str, den: str) -> Callable[[Row], s.Cell]:
    return lambda r: s.share(r[num], r[den])


def _part(num: str, den: str) -> Callable[[Row], s.Cell]:
    return lambda r: s.part(r[num], r[den])


def _count(name: str) -> Callable[[Row], s.Cell]:
    return lambda r: s.count(r[name])


METRICS: dict[str, Metric] = {
    m.code: m
    for m in (
        Metric(
            "notices_on_time_share",
            _("Inskrivningsmeddelanden inom 24 timmar"),
            "%",
            "R-INS-2/3",
            (_("inom 24 timmar"), _part("notices_on_time", "notices_due")),
            (_("skulle skickas"), _count("notices_due")),
            _share("notices_on_time", "notices_due"),
        ),
        Metric(
            "ready_days_mean",
            _("Dagar från utskrivningsklar till utskriven, medelvärde"),
            "dagar",
            "R-LAW-2",
            None,
            (_("utskrivna efter utskrivningsklar"), _count("ready_discharged")),
            lambda r: s.mean(r["ready_days_sum"], r["ready_discharged"]),
        ),
        Metric(
            "ready_days_median",
            _("Dagar från utskrivningsklar till utskriven, median"),
            "dagar",
            "R-LAW-2",
            None,
            (_("utskrivna efter utskrivningsklar"), _count("ready_discharged")),
            lambda r: s.median(r.get("ready_days_median"), r["ready_discharged"]),
            monthly_only=True,
        ),
        Metric(
            "date_moves",
            _("Flyttade beräknade utskrivningsdatum"),
            "antal",
            "R-INS-5",
            (_("ärenden med flytt"), _count("cases_moved")),
            (_("inskrivna"), _count("admissions")),
            _count("date_moves"),
        ),
        Metric(
            "closed_without_ready_share",
            _("Avslutade ärenden utan utskrivningsklar"),
            "%",
            "",
            (_("utan utskrivningsklar"), _part("closed_without_ready", "closed")),
            (_("avslutade"), _count("closed")),
            _share("closed_without_ready", "closed"),
        ),
        Metric(
            "closed_without_notice_share",
            _("Avslutade ärenden utan utskrivningsmeddelande"),
            "%",
            "",
            (_("utan utskrivningsmeddelande"), _part("closed_without_notice", "closed")),
            (_("avslutade"), _count("closed")),
            _share("closed_without_notice", "closed"),
        ),
        Metric(
            "sip_on_time_share",
            _("Kallelse till SIP inom 3 dagar"),
            "%",
            "R-SIP-K-1",
            (_("inom 3 dagar"), _part("sip_on_time", "sip_due")),
            (_("skulle kallas"), _count("sip_due")),
            _share("sip_on_time", "sip_due"),
        ),
        Metric(
            "video_share",
            _("Planeringsmöten via video"),
            "%",
            "R-VG-PROC-2",
            (_("via video"), _part("meetings_video", "meetings")),
            (_("möten"), _count("meetings")),
            _share("meetings_video", "meetings"),
        ),
        Metric(
            "sips_established",
            _("Fastställda SIP"),
            "antal",
            "",
            None,
            (_("påbörjade SIP"), _count("sips_started")),
            _count("sips_established"),
        ),
        Metric(
            "followups_on_time_share",
            _("Uppföljningar av SIP i tid"),
            "%",
            "",
            (_("i tid"), _part("followups_on_time", "followups_due")),
            (_("förfallna"), _count("followups_due")),
            _share("followups_on_time", "followups_due"),
        ),
        Metric(
            "care_requests_answered_share",
            _("Besvarade vårdbegäran"),
            "%",
            "",
            (_("besvarade"), _part("care_requests_answered", "care_requests")),
            (_("skickade"), _count("care_requests")),
            _share("care_requests_answered", "care_requests"),
        ),
    )
}
COMPARABLE = [code for code, m in METRICS.items() if not m.monthly_only]


def last_refresh() -> RefreshRun | None:
    return RefreshRun.objects.first()


def default_period(today: dt.date) -> tuple[dt.date, dt.date]:
    """The last 12 months for which rows exist, ending with the latest."""
    latest = MonthlyProcessStat.objects.order_by("-month").values_list("month", flat=True).first()
    last = latest or today.replace(day=1)
    first = last
    for _month in range(11):
        first = (first - dt.timedelta(days=1)).replace(day=1)
    return first, last


def area(level: str, key: str) -> Row | None:
    row: Row | None = (
        MonthlyProcessStat.objects.filter(level=level, key=key)
        .order_by("-month")
        .values("level", "key", "name", "parent_key")
        .first()
    )
    if row is None and level == Level.REGION and key == REGION_KEY:
        return {"level": level, "key": key, "name": "Västra Götaland", "parent_key": ""}
    return row


def trend(level: str, key: str, first: dt.date, last: dt.date) -> list[Row]:
    """One row per month in the period; months without a row are zeros."""
    stored = {
        r["month"]: r
        for r in MonthlyProcessStat.objects.filter(
            level=level, key=key, month__gte=first, month__lte=last
        ).values()
    }
    empty = dict.fromkeys(COUNT_FIELDS, 0) | {"ready_days_median": None}
    out: list[Row] = [stored.get(month, empty | {"month": month}) for month in months_between(first, last)]
    return out


def totals(
    level: str, first: dt.date, last: dt.date, parent_key: str | None = None, key: str | None = None
) -> list[Row]:
    """Counts summed over the period in the database, one row per area of the level."""
    qs = MonthlyProcessStat.objects.filter(level=level, month__gte=first, month__lte=last)
    if parent_key is not None:
        qs = qs.filter(parent_key=parent_key)
    if key is not None:
        qs = qs.filter(key=key)
    rows: list[dict[str, Any]] = [
        dict(r) for r in qs.values("key").annotate(**{f: Sum(f) for f in COUNT_FIELDS}).order_by("key")
    ]
    names = dict(
        MonthlyProcessStat.objects.filter(level=level, key__in=[r["key"] for r in rows])
        .order_by("month")
        .values_list("key", "name")
    )
    for row in rows:
        row["name"] = names.get(row["key"], row["key"])
        row["ready_days_median"] = None
    return sorted(rows, key=lambda r: r["name"])


def reasons(level: str, key: str, first: dt.date, last: dt.date) -> list[tuple[str, s.Cell, s.Cell]]:
    """Expected-date moves per coded reason over the period: (label, moves, days moved)."""
    rows = (
        DateMoveReason.objects.filter(level=level, key=key, month__gte=first, month__lte=last)
        .values("reason")
        .annotate(moves=Sum("moves"), days=Sum("days_moved"))
    )
    found = {r["reason"]: r for r in rows}
    out = []
    for code, label in EXPECTED_DATE_REASONS.items():
        r = found.get(code, {"moves": 0, "days": 0})
        out.append((str(label), s.count(r["moves"]), s.sum_over(r["days"], r["moves"])))
    return out


def buckets(row: Row) -> list[tuple[str, s.Cell]]:
    cells = s.partition([row[b[0]] for b in DAY_BUCKETS], row["ready_discharged"])
    return [(str(BUCKET_LABELS[b[0]]), cell) for b, cell in zip(DAY_BUCKETS, cells, strict=True)]


def export_row(row: Row) -> dict[str, Any]:
    """The suppressed columns of one summary row, for CSV, open data and the API."""
    out: dict[str, Any] = {}
    out["inskrivna"] = s.count(row["admissions"]).export
    out["inskrivningsmeddelanden_skulle_skickas"] = s.count(row["notices_due"]).export
    out["inskrivningsmeddelanden_inom_24h"] = s.part(row["notices_on_time"], row["notices_due"]).export
    out["inskrivningsmeddelanden_inom_24h_andel"] = METRICS["notices_on_time_share"].cell(row).export
    out["utskrivna"] = s.count(row["discharged"]).export
    out["utskrivna_efter_utskrivningsklar"] = s.count(row["ready_discharged"]).export
    out["dagar_utskrivningsklar_medel"] = METRICS["ready_days_mean"].cell(row).export
    out["dagar_utskrivningsklar_median"] = METRICS["ready_days_median"].cell(row).export
    for (bucket, *_bounds), cell in zip(
        DAY_BUCKETS, s.partition([row[b[0]] for b in DAY_BUCKETS], row["ready_discharged"]), strict=True
    ):
        out[f"utskrivningsklar_{bucket.replace('days', 'dagar')}"] = cell.export
    out["flyttade_datum"] = s.count(row["date_moves"]).export
    out["arenden_med_flyttat_datum"] = s.count(row["cases_moved"]).export
    out["dagar_senarelagt"] = s.sum_over(row["days_later"], row["date_moves"]).export
    out["dagar_tidigarelagt"] = s.sum_over(row["days_earlier"], row["date_moves"]).export
    out["avslutade"] = s.count(row["closed"]).export
    out["avslutade_utan_utskrivningsklar"] = s.part(row["closed_without_ready"], row["closed"]).export
    out["avslutade_utan_utskrivningsmeddelande"] = s.part(row["closed_without_notice"], row["closed"]).export
    out["sip_skulle_kallas"] = s.count(row["sip_due"]).export
    out["sip_kallade_inom_3_dagar"] = s.part(row["sip_on_time"], row["sip_due"]).export
    out["sip_kallade_inom_3_dagar_andel"] = METRICS["sip_on_time_share"].cell(row).export
    forms = s.partition(
        [row["meetings_video"], row["meetings_phone"], row["meetings_on_site"]], row["meetings"]
    )
    out["moten"] = s.count(row["meetings"]).export
    out["moten_video"], out["moten_telefon"], out["moten_fysiska"] = (c.export for c in forms)
    out["moten_video_andel"] = METRICS["video_share"].cell(row).export
    out["sip_paborjade"] = s.count(row["sips_started"]).export
    out["sip_faststallda"] = s.count(row["sips_established"]).export
    out["sip_uppfoljningar_forfallna"] = s.count(row["followups_due"]).export
    out["sip_uppfoljningar_i_tid"] = s.part(row["followups_on_time"], row["followups_due"]).export
    out["vardbegaran"] = s.count(row["care_requests"]).export
    out["vardbegaran_besvarade"] = s.part(row["care_requests_answered"], row["care_requests"]).export
    out["vardbegaran_accepterade"] = s.part(row["care_requests_accepted"], row["care_requests"]).export
    return out


OPEN_LEVELS = (Level.REGION, Level.SUBREGION, Level.MUNICIPALITY, Level.SITE)


def export_rows(
    levels: tuple[str, ...], first: dt.date | None = None, last: dt.date | None = None
) -> list[dict[str, Any]]:
    qs = MonthlyProcessStat.objects.filter(level__in=levels).order_by("month", "level", "key")
    if first:
        qs = qs.filter(month__gte=first)
    if last:
        qs = qs.filter(month__lte=last)
    out = []
    for row in qs.values():
        out.append(
            {
                "manad": f"{row['month']:%Y-%m}",
                "niva": row["level"],
                "nyckel": row["key"],
                "namn": row["name"],
            }
            | export_row(row)
        )
    return out
