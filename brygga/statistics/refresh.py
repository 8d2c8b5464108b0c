"""The refresh of the summary tables: database aggregates over cases, events and meetings, rolled up into
the five levels and written in one transaction.

Every count is computed by a GROUP BY in the database at the finest grain (month × municipality × hospital ×
ward; a case has exactly one of each), so the database returns one row per group, never one per case. The
rows are then added up into the region, delregion, municipality, hospital and ward levels: every stored
number is additive over that grain, and the median is taken from the grouped day histogram. A refresh
deletes the months it covers and writes them again, so running it twice gives the same rows."""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import models, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Sum, Value, When
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce, TruncDate, TruncMonth
from django.utils import timezone

from brygga.cases import rules as case_rules
from brygga.cases.models import Case, CaseEvent, Meeting
from brygga.organisations.models import Municipality, Site, Subregion, Unit
from brygga.sip.models import CareRequest, FollowUp, Sip, SipVersion
from brygga.statistics.models import DAY_BUCKETS, DateMoveReason, Level, MonthlyProcessStat, RefreshRun

REGION_KEY = "vg"
UNKNOWN_KEY = "okand"

Key = tuple[dt.date, str, str]  # (month, level, key)


class DaysBetween(models.Func):
    """Whole calendar days from the second date expression to the first (end − start) as an integer."""

    arity = 2
    output_field = models.IntegerField()
    template = "(%(expressions)s)"
    arg_joiner = " - "

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="CAST(ROUND(julianday(%(expressions)s)) AS INTEGER)",
            arg_joiner=") - julianday(",
            **extra,
        )


def month_start(value: dt.date) -> dt.date:
    return value.replace(day=1)


def next_month(value: dt.date) -> dt.date:
    return (value.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def months_between(first: dt.date, last: dt.date) -> list[dt.date]:
    months, current = [], month_start(first)
    while current <= month_start(last):
        months.append(current)
        current = next_month(current)
    return months


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time()), timezone.get_current_timezone())


def _month(field_name: str) -> TruncMonth:
    return TruncMonth(field_name, output_field=models.DateField())


@dataclass
class _Dimensions:
    """Id → (key, name) maps for the levels, loaded once per refresh (a few hundred rows)."""

    municipality: dict[int, tuple[str, str, int]] = field(default_factory=dict)  # id → scb, name, subregion
    subregion: dict[int, tuple[str, str]] = field(default_factory=dict)
    site: dict[int, tuple[str, str]] = field(default_factory=dict)
    unit: dict[int, tuple[str, str, str]] = field(default_factory=dict)  # id → hsa, name, site key
    _memo: dict[tuple, list[tuple]] = field(default_factory=dict)

    @classmethod
    def load(cls) -> _Dimensions:
        dims = cls()
        for pk, slug, name in Subregion.objects.values_list("pk", "slug", "name"):
            dims.subregion[pk] = (slug, name)
        for pk, scb, name, sub in Municipality.objects.values_list("pk", "scb_code", "name", "subregion_id"):
            dims.municipality[pk] = (scb, name, sub)
        for pk, name in Site.objects.values_list("pk", "name"):
            dims.site[pk] = (str(pk), name)
        for pk, hsa, name, site in Unit.objects.filter(kind=Unit.Kind.WARD).values_list(
            "pk", "hsa_id", "name", "site_id"
        ):
            dims.unit[pk] = (hsa, name, str(site) if site else "")
        return dims

    def targets(self, municipality_id: int | None, site_id: int | None, ward_id: int | None) -> list[tuple]:
        """(level, key, name, parent_key) for every level a finest-grain group adds into (memoised)."""
        grain = (municipality_id, site_id, ward_id)
        if grain not in self._memo:
            self._memo[grain] = self._targets(municipality_id, site_id, ward_id)
        return self._memo[grain]

    def _targets(self, municipality_id: int | None, site_id: int | None, ward_id: int | None) -> list[tuple]:
        out: list[tuple[str, str, str, str]] = [(Level.REGION, REGION_KEY, "Västra Götaland", "")]
        if municipality_id in self.municipality:
            scb, name, sub = self.municipality[municipality_id]  # type: ignore[index]
            slug, sub_name = self.subregion[sub]
            out.append((Level.SUBREGION, slug, sub_name, REGION_KEY))
            out.append((Level.MUNICIPALITY, scb, name, slug))
        else:
            out.append((Level.SUBREGION, UNKNOWN_KEY, "Okänd delregion", REGION_KEY))
            out.append((Level.MUNICIPALITY, UNKNOWN_KEY, "Okänd kommun", UNKNOWN_KEY))
        if site_id in self.site:
            key, name = self.site[site_id]  # type: ignore[index]
            out.append((Level.SITE, key, name, REGION_KEY))
        if ward_id in self.unit:
            hsa, name, site_key = self.unit[ward_id]  # type: ignore[index]
            out.append((Level.UNIT, hsa, name, site_key))
        return out


class _Accumulator:
    """Adds finest-grain group rows into every level's row."""

    def __init__(self, dims: _Dimensions) -> None:
        self.dims = dims
        self.rows: dict[Key, dict[str, Any]] = {}
        self.labels: dict[Key, tuple[str, str]] = {}
        self.day_histograms: dict[Key, Counter[int]] = defaultdict(Counter)
        self.reasons: dict[tuple[dt.date, str, str, str], list[int]] = defaultdict(lambda: [0, 0])
        self._key_memo: dict[tuple, list[Key]] = {}

    def _keys_for(self, group: tuple) -> list[Key]:
        keys = self._key_memo.get(group)
        if keys is None:
            keys = self._key_memo[group] = []
            for level, key, name, parent in self.dims.targets(*group[1:]):
                k = (group[0], level, key)
                if k not in self.labels:
                    self.labels[k] = (name, parent)
                    self.rows[k] = Counter()
                keys.append(k)
        return keys

    def add_all(self, grouped: models.QuerySet, counts: Iterable[str]) -> None:
        """Add every row of a grouped values() query. Tuples, not dicts: this is the refresh's hot loop."""
        names = list(counts)
        rows = self.rows
        for month, municipality, site, ward, *values in grouped.values_list(
            "month", "municipality_id", "site_id", "ward_id", *names
        ):
            pairs = [(name, value) for name, value in zip(names, values, strict=True) if value]
            for k in self._keys_for((month, municipality, site, ward)):
                target = rows[k]
                for name, value in pairs:
                    target[name] += value

    def add_days(self, grouped: models.QuerySet) -> None:
        rows, histograms = self.rows, self.day_histograms
        for month, municipality, site, ward, days, n in grouped.values_list(
            "month", "municipality_id", "site_id", "ward_id", "days", "n"
        ):
            for k in self._keys_for((month, municipality, site, ward)):
                rows[k]["discharged"] += n
                if days is not None:
                    histograms[k][days] += n

    def add_reasons(self, grouped: models.QuerySet) -> None:
        for month, municipality, site, ward, reason, moves, days_moved in grouped.values_list(
            "month", "municipality_id", "site_id", "ward_id", "reason", "moves", "days_moved"
        ):
            for _month, level, key in self._keys_for((month, municipality, site, ward)):
                totals = self.reasons[(month, level, key, reason or "other")]
                totals[0] += moves
                totals[1] += days_moved or 0

    def ensure_region(self, months: Iterable[dt.date]) -> None:
        for month in months:
            k = (month, Level.REGION.value, REGION_KEY)
            if k not in self.labels:
                self.labels[k] = ("Västra Götaland", "")
                self.rows[k] = Counter()


def median(histogram: Counter[int]) -> Decimal | None:
    n = sum(histogram.values())
    if n == 0:
        return None
    wanted = [(n - 1) // 2, n // 2]
    values, seen = [], 0
    for days in sorted(histogram):
        count = histogram[days]
        for position in wanted:
            if seen <= position < seen + count:
                values.append(days)
        seen += count
    return (Decimal(sum(values)) / 2).quantize(Decimal("0.1"))


def _cancelled(case_ref: str) -> Exists:
    return Exists(CaseEvent.objects.filter(case_id=OuterRef(case_ref), kind=CaseEvent.Kind.CANCELLED))


GRAIN = ("municipality_id", "site_id", "ward_id")
CASE_GRAIN = {
    "municipality_id": F("case__municipality_id"),
    "site_id": F("case__site_id"),
    "ward_id": F("case__ward_id"),
}


def _cases(anchor: str, start: dt.datetime, end: dt.datetime) -> models.QuerySet[Case]:
    return (
        Case.objects.filter(**{f"{anchor}__gte": start, f"{anchor}__lt": end})
        .exclude(status=Case.Status.CANCELLED)
        .exclude(_cancelled("pk"))
        .order_by()
    )


def _events(kind: str, start: dt.datetime, end: dt.datetime) -> models.QuerySet[CaseEvent]:
    return (
        CaseEvent.objects.filter(kind=kind, occurred_at__gte=start, occurred_at__lt=end)
        .exclude(_cancelled("case_id"))
        .order_by()
    )


def collect(acc: _Accumulator, start: dt.datetime, end: dt.datetime, now: dt.datetime) -> None:
    """Run the grouped queries for [start, end) and add them into ``acc``."""
    # R-INS-2/3: admission notices, by admission month.
    overdue = now - case_rules.NOTICE_DEADLINE
    notice_counts = {
        "admissions": Count("id"),
        "notices_on_time": Count("id", filter=Q(notice_sent_at__isnull=False, notice_late=False)),
        "notices_late": Count("id", filter=Q(notice_sent_at__isnull=False, notice_late=True)),
        "notices_missing": Count(
            "id",
            filter=Q(
                notice_sent_at__isnull=True, need_assessed_at__isnull=False, need_assessed_at__lte=overdue
            ),
        ),
        "notices_pending": Count("id", filter=Q(notice_sent_at__isnull=True, need_assessed_at__gt=overdue)),
    }
    notices = _cases("admitted_at", start, end).values(*GRAIN, month=_month("admitted_at"))
    acc.add_all(notices.annotate(**notice_counts), notice_counts)

    # R-LAW-2: calendar days from discharge-ready to discharge, by discharge month.
    days = DaysBetween(TruncDate("discharged_at"), TruncDate("discharge_ready_at"))
    acc.add_days(
        _cases("discharged_at", start, end)
        .values(*GRAIN, month=_month("discharged_at"), days=days)
        .annotate(n=Count("id"))
    )

    # R-INS-5: moves of the expected discharge date, by month of the change.
    moved = DaysBetween(
        Cast(KeyTextTransform("new", "data"), models.DateField()),
        Cast(KeyTextTransform("old", "data"), models.DateField()),
    )
    moves = (
        _events(CaseEvent.Kind.EXPECTED_DATE_CHANGED, start, end)
        .annotate(moved=moved)
        .filter(moved__isnull=False)
    )
    move_counts = {
        "date_moves": Count("id"),
        "cases_moved": Count("case_id", distinct=True),
        "days_later": Sum(models.Case(When(moved__gt=0, then=F("moved")), default=Value(0))),
        "days_earlier": Sum(models.Case(When(moved__lt=0, then=-F("moved")), default=Value(0))),
    }
    acc.add_all(moves.values(month=_month("occurred_at"), **CASE_GRAIN).annotate(**move_counts), move_counts)
    by_reason = moves.values(
        month=_month("occurred_at"), reason=KeyTextTransform("reason", "data"), **CASE_GRAIN
    )
    acc.add_reasons(
        by_reason.annotate(
            moves=Count("id"),
            days_moved=Sum(models.Case(When(moved__lt=0, then=-F("moved")), default=F("moved"))),
        )
    )

    # Closed cases, by closing month; a cancelled (makulerat) case is not a closed stay.
    closed_counts = {
        "closed": Count("id"),
        "closed_without_ready": Count("id", filter=Q(data__without_discharge_ready=True)),
        "closed_without_notice": Count("id", filter=Q(data__without_discharge_notice=True)),
    }
    closed = _events(CaseEvent.Kind.CLOSED, start, end).exclude(data__from_status=Case.Status.CANCELLED)
    acc.add_all(
        closed.values(month=_month("occurred_at"), **CASE_GRAIN).annotate(**closed_counts), closed_counts
    )

    # R-SIP-K-1: summons within the deadline of discharge-ready, by discharge-ready month. The deadline is the
    # one the case stored when it became discharge-ready, counted in calendar days on local dates
    # (core.calendar); only rows without it (bulk-loaded history) fall back to the plain span.
    due = Coalesce(
        F("sip_summons_due_at"),
        F("discharge_ready_at") + Value(case_rules.sip_summons_deadline()),
        output_field=models.DateTimeField(),
    )
    sip_counts = {
        "sip_on_time": Count(
            "id", filter=Q(sip_summons_sent_at__isnull=False, sip_summons_sent_at__lte=F("summons_due"))
        ),
        "sip_late": Count(
            "id", filter=Q(sip_summons_sent_at__isnull=False, sip_summons_sent_at__gt=F("summons_due"))
        ),
        "sip_missing": Count("id", filter=Q(sip_summons_sent_at__isnull=True, summons_due__lte=now)),
        "sip_pending": Count("id", filter=Q(sip_summons_sent_at__isnull=True, summons_due__gt=now)),
    }
    sip = _cases("discharge_ready_at", start, end).filter(sip_needed=True).annotate(summons_due=due)
    acc.add_all(sip.values(*GRAIN, month=_month("discharge_ready_at")).annotate(**sip_counts), sip_counts)

    # R-VG-PROC-2: meetings by form, by the meeting's start.
    meeting_counts = {
        "meetings": Count("id"),
        "meetings_video": Count("id", filter=Q(form=Meeting.Form.VIDEO)),
        "meetings_phone": Count("id", filter=Q(form=Meeting.Form.PHONE)),
        "meetings_on_site": Count("id", filter=Q(form=Meeting.Form.ON_SITE)),
    }
    meetings = (
        Meeting.objects.filter(starts_at__gte=start, starts_at__lt=end)
        .exclude(_cancelled("case_id"))
        .order_by()
    )
    acc.add_all(
        meetings.values(month=_month("starts_at"), **CASE_GRAIN).annotate(**meeting_counts), meeting_counts
    )


def collect_sip(acc: _Accumulator, start: dt.datetime, end: dt.datetime, now: dt.datetime) -> None:
    """SIPs, follow-ups and care requests: the grain is the person's municipality and, for a SIP at
    discharge, the case's hospital and ward."""
    sip_grain = {
        "municipality_id": F("person__registered_municipality_id"),
        "site_id": F("case__site_id"),
        "ward_id": F("case__ward_id"),
    }
    started = Sip.objects.filter(created_at__gte=start, created_at__lt=end).order_by()
    started_counts = {"sips_started": Count("id")}
    acc.add_all(
        started.values(month=_month("created_at"), **sip_grain).annotate(**started_counts), started_counts
    )
    version_grain = {
        "municipality_id": F("sip__person__registered_municipality_id"),
        "site_id": F("sip__case__site_id"),
        "ward_id": F("sip__case__ward_id"),
    }
    established = SipVersion.objects.filter(
        number=1, established_at__gte=start, established_at__lt=end
    ).order_by()
    established_counts = {"sips_established": Count("id")}
    grouped = established.values(month=_month("established_at"), **version_grain)
    acc.add_all(grouped.annotate(**established_counts), established_counts)
    today = timezone.localdate(now)
    followups = (
        FollowUp.objects.filter(due_on__gte=timezone.localdate(start), due_on__lt=timezone.localdate(end))
        .filter(Q(due_on__lt=today) | Q(done_at__isnull=False))
        .annotate(done_day=TruncDate("done_at"))
        .order_by()
    )
    followup_counts = {
        "followups_due": Count("id"),
        "followups_on_time": Count("id", filter=Q(done_day__lte=F("due_on"))),
    }
    by_due = followups.values(month=TruncMonth("due_on", output_field=models.DateField()), **version_grain)
    acc.add_all(by_due.annotate(**followup_counts), followup_counts)
    request_grain = {
        "municipality_id": F("person__registered_municipality_id"),
        "site_id": Value(None, output_field=models.IntegerField()),
        "ward_id": Value(None, output_field=models.IntegerField()),
    }
    request_counts = {
        "care_requests": Count("id"),
        "care_requests_answered": Count("id", filter=Q(answered_at__isnull=False)),
        "care_requests_accepted": Count("id", filter=Q(status=CareRequest.Status.ACCEPTED)),
    }
    requests = CareRequest.objects.filter(sent_at__gte=start, sent_at__lt=end).order_by()
    acc.add_all(
        requests.values(month=_month("sent_at"), **request_grain).annotate(**request_counts), request_counts
    )


def _finish(acc: _Accumulator, now: dt.datetime) -> tuple[list[MonthlyProcessStat], list[DateMoveReason]]:
    stats = []
    for (month, level, key), counts in acc.rows.items():
        name, parent = acc.labels[(month, level, key)]
        histogram = acc.day_histograms.get((month, level, key), Counter())
        buckets = dict.fromkeys((b[0] for b in DAY_BUCKETS), 0)
        for days, n in histogram.items():
            for bucket, low, high in DAY_BUCKETS:
                if days >= low and (high is None or days <= high):
                    buckets[bucket] += n
                    break
            else:  # discharged before the discharge-ready day cannot happen; count it as day 0
                buckets["days_0"] += n
        stats.append(
            MonthlyProcessStat(
                month=month,
                level=level,
                key=key,
                name=name,
                parent_key=parent,
                notices_due=counts["notices_on_time"] + counts["notices_late"] + counts["notices_missing"],
                ready_discharged=sum(histogram.values()),
                ready_days_sum=sum(max(d, 0) * n for d, n in histogram.items()),
                ready_days_median=median(histogram),
                sip_due=counts["sip_on_time"] + counts["sip_late"] + counts["sip_missing"],
                computed_at=now,
                **buckets,
                **{k: v for k, v in counts.items() if k in _COUNT_FIELDS},
            )
        )
    reasons = [
        DateMoveReason(month=month, level=level, key=key, reason=reason, moves=moves, days_moved=days)
        for (month, level, key, reason), (moves, days) in acc.reasons.items()
    ]
    return stats, reasons


_COUNT_FIELDS = {
    "admissions",
    "notices_on_time",
    "notices_late",
    "notices_missing",
    "notices_pending",
    "discharged",
    "date_moves",
    "cases_moved",
    "days_later",
    "days_earlier",
    "closed",
    "closed_without_ready",
    "closed_without_notice",
    "sip_on_time",
    "sip_late",
    "sip_missing",
    "sip_pending",
    "meetings",
    "meetings_video",
    "meetings_phone",
    "meetings_on_site",
    "sips_started",
    "sips_established",
    "followups_due",
    "followups_on_time",
    "care_requests",
    "care_requests_answered",
    "care_requests_accepted",
}


def refresh(first_month: dt.date, last_month: dt.date, now: dt.datetime | None = None) -> RefreshRun:
    """Recompute the months first_month..last_month (inclusive) and replace their rows. Idempotent."""
    started = time.perf_counter()
    now = now or timezone.now()
    months = months_between(first_month, last_month)
    start, end = _local_midnight(months[0]), _local_midnight(next_month(months[-1]))
    acc = _Accumulator(_Dimensions.load())
    collect(acc, start, end, now)
    collect_sip(acc, start, end, now)
    acc.ensure_region(months)
    stats, reasons = _finish(acc, now)
    with transaction.atomic():
        MonthlyProcessStat.objects.filter(month__gte=months[0], month__lte=months[-1]).delete()
        DateMoveReason.objects.filter(month__gte=months[0], month__lte=months[-1]).delete()
        MonthlyProcessStat.objects.bulk_create(stats, batch_size=2000)
        DateMoveReason.objects.bulk_create(reasons, batch_size=2000)
        return RefreshRun.objects.create(
            first_month=months[0],
            last_month=months[-1],
            started_at=now,
            finished_at=timezone.now(),
            rows=len(stats) + len(reasons),
            seconds=round(time.perf_counter() - started, 3),
        )


def default_range(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The last 13 months up to the current one: late events (a correction, a closing) still land in the
    month they belong to."""
    today = today or timezone.localdate()
    last = month_start(today)
    first = last
    for _ in range(12):
        first = month_start(first - dt.timedelta(days=1))
    return first, last


def full_range() -> tuple[dt.date, dt.date] | None:
    """From the first admission to the current month; None when there are no cases."""
    first = Case.objects.order_by("admitted_at").values_list("admitted_at", flat=True).first()
    if first is None:
        return None
    return month_start(timezone.localdate(first)), month_start(timezone.localdate())
