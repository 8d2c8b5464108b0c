"""``brygga.core.bulk.insert_rows``: COPY on PostgreSQL, ``bulk_create`` on SQLite — the same rows come back
from either, including the values COPY's text format must escape (tabs, newlines, backslashes, the literal
``\\N``), NULLs, decimals and dates; a bad row writes nothing. The read helpers: ``id_set`` selects exactly
the ids given (one parameter, any number of ids) and ``utc_text``/``parse_utc`` give back the stored instant,
aware, on both databases."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction

from brygga.accounts.permissions import Role
from brygga.core.bulk import id_set, insert_rows, parse_utc, utc_text
from brygga.organisations.models import Municipality
from brygga.payment import services
from brygga.payment.models import SettlementLine, SettlementRun
from tests.factories import actor

pytestmark = pytest.mark.django_db

FIELDS = ("run", "position", "case_reference", "kind", "notice_date", "days", "payable_days", "amount",
          "explanation")  # fmt: skip


@pytest.fixture
def run() -> SettlementRun:
    region = actor(Role.GITS_COORDINATOR, "GITS kansli", username="gits-bulk")
    gothenburg = Municipality.objects.get(scb_code="1480")
    return services.run_settlement(region, gothenburg, 2022, 3, facts=[], today=dt.date(2026, 11, 23))


def test_insert_rows_writes_exactly_the_values_given(run: SettlementRun) -> None:
    before = SettlementLine.objects.filter(run=run).count()
    awkward = "tab\there, new\nline, back\\slash, \\N and ÅÄÖ"
    rows = [
        (run.pk, 10, "A-1", "average_member", dt.date(2022, 3, 14), 7, Decimal("2.50"), None, awkward),
        (run.pk, 11, "", "average_excess", None, None, Decimal("0"), Decimal("65100.00"), ""),
    ]
    assert insert_rows(SettlementLine, FIELDS, iter(rows)) == 2
    stored = list(
        SettlementLine.objects.filter(run=run, position__gte=10)
        .order_by("position")
        .values_list(*["run_id" if f == "run" else f for f in FIELDS])
    )
    assert stored == rows
    # the fields left out have the model's defaults on both databases (COPY would otherwise write NULL)
    assert set(
        SettlementLine.objects.filter(run=run, position__gte=10).values_list("rule_label", "exclusion_rule")
    ) == {("", "")}
    assert SettlementLine.objects.filter(run=run).count() == before + 2


def test_a_row_of_the_wrong_length_writes_nothing(run: SettlementRun) -> None:
    before = SettlementLine.objects.count()
    good = (run.pk, 20, "B-1", "excluded", None, None, Decimal("0"), None, "")
    with pytest.raises(Exception), transaction.atomic():  # noqa: B017 — the backends raise different types
        insert_rows(SettlementLine, FIELDS, [good, good[:-1]])
    assert SettlementLine.objects.count() == before


def test_id_set_selects_exactly_the_ids_given(run: SettlementRun) -> None:
    region = actor(Role.GITS_COORDINATOR, "GITS kansli", username="gits-ids")
    today = dt.date(2026, 11, 23)
    runs = [run] + [
        services.run_settlement(region, run.municipality, 2022, m, facts=[], today=today) for m in (4, 5, 6)
    ]
    wanted = [runs[3].pk, runs[1].pk, 999_999_999]  # order does not matter; an unknown id selects nothing
    assert set(SettlementRun.objects.filter(pk__in=id_set(wanted)).values_list("pk", flat=True)) == {
        runs[1].pk,
        runs[3].pk,
    }
    assert not SettlementRun.objects.filter(pk__in=id_set([])).exists()
    many = [r.pk for r in runs] + list(range(10**9, 10**9 + 5000))  # far more than SQLite's parameter limit
    assert SettlementRun.objects.filter(pk__in=id_set(many)).count() == 4


@pytest.mark.parametrize(
    "moment",
    [
        dt.datetime(2026, 10, 28, 18, 12, 14, 291069, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 29, 2, 30, tzinfo=dt.timezone(dt.timedelta(hours=2))),  # no fraction, not UTC
        dt.datetime(1999, 12, 31, 23, 59, 59, 1, tzinfo=dt.UTC),
    ],
)
def test_a_timestamp_read_as_text_is_the_same_instant_and_aware(
    run: SettlementRun, moment: dt.datetime
) -> None:
    SettlementRun.objects.filter(pk=run.pk).update(created_at=moment)
    text = (
        SettlementRun.objects.filter(pk=run.pk).annotate(t=utc_text("created_at")).values_list("t", flat=True)
    )
    parsed = parse_utc(text.get())
    assert parsed == moment
    assert parsed is not None and parsed.utcoffset() == dt.timedelta(0)
    assert parse_utc(None) is None
