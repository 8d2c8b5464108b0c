"""Settlement of the municipalities' payment responsibility: run a month from StayFacts, reproduce a stored
run, dispute and resolve lines, close a settlement, and keep the rule and amount configuration.

Settlements carry case references and days, never a person's identity: whoever needs to know who a line is
about opens the case through the checked path of the cases app (ADR 0200)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from brygga.access.services import visible_persons
from brygga.accounts.context import Actor
from brygga.accounts.models import Membership
from brygga.accounts.permissions import Perm
from brygga.cases.facts import stay_facts_fields
from brygga.cases.models import Case
from brygga.cases.services import unit_cases
from brygga.core.bulk import insert_rows
from brygga.core.errors import DomainError, NotFound, PermissionDenied, Problem
from brygga.organisations.models import Municipality, Organisation
from brygga.payment import adapter
from brygga.payment.engine import (
    ENGINE_VERSION,
    Calculation,
    Line,
    LineKind,
    MonthSpan,
    RuleParams,
    StayExplanation,
    calculate,
    explain,
)
from brygga.payment.facts import StayFacts
from brygga.payment.models import DailyAmount, Dispute, PaymentRule, SettlementLine, SettlementRun

# --- who sees what -----------------------------------------------------------------------------------------


def actor_municipality(actor: Actor) -> Municipality | None:
    """The municipality the actor works for, if the active unit belongs to a municipality."""
    unit = actor.unit
    if unit is None or unit.organisation.kind != Organisation.Kind.MUNICIPALITY:
        return None
    return Municipality.objects.filter(organisation=unit.organisation).first()


def visible_runs(actor: Actor) -> QuerySet[SettlementRun]:
    """Fail closed: the region side (and whoever manages payment) sees every municipality; a municipality's
    users see their own; everyone else sees nothing."""
    # The stored StayFacts (a JSON document of every stay, about 1 MB for the largest municipality) are read
    # only when a run is reproduced; pages and lists never decode them.
    runs = SettlementRun.objects.select_related("municipality").defer("facts")
    if not actor.can(Perm.PAYMENT_VIEW) and not actor.can(Perm.PAYMENT_MANAGE):
        return runs.none()
    if actor.can(Perm.PAYMENT_MANAGE) or (actor.unit is not None and actor.unit.is_region_side):
        return runs
    municipality = actor_municipality(actor)
    if municipality is None:
        return runs.none()
    return runs.filter(municipality=municipality)


def open_run(actor: Actor, run_id: int | str) -> SettlementRun:
    try:
        pk = int(run_id)
    except (TypeError, ValueError) as exc:
        raise NotFound from exc
    run = visible_runs(actor).filter(pk=pk).first()
    if run is None:
        raise NotFound
    return run


# --- configuration -----------------------------------------------------------------------------------------


def current_rules() -> list[PaymentRule]:
    """The latest version of every rule code. A version corrects its predecessor; a change from a date is a
    new rule code with its own validity (docs/payment.md)."""
    latest = {}
    for rule in PaymentRule.objects.order_by("code", "version"):
        latest[rule.code] = rule
    return sorted(latest.values(), key=lambda r: (r.valid_from, r.code))


def current_amount(year: int) -> DailyAmount | None:
    return DailyAmount.objects.filter(year=year).order_by("-recorded_at", "-id").first()


def record_amount(
    actor: Actor, year: int, amount: str | Decimal, source: str, source_url: str = ""
) -> DailyAmount:
    """R-BET-3/4: Socialstyrelsen's amount per vårddygn for a year, always with its föreskrift."""
    actor.require(Perm.PAYMENT_MANAGE)
    problems: list[Problem] = []
    try:
        value = Decimal(str(amount).replace(" ", "").replace(",", "."))
    except InvalidOperation:
        value = Decimal("-1")
    if value <= 0 or value != value.quantize(Decimal("0.01")):
        problems.append(
            Problem("amount", "R-BET-4", _("Ange beloppet i kronor, större än noll (högst två decimaler)."))
        )
    if not source.strip():
        problems.append(
            Problem("source", "R-BET-4", _("Ange föreskriften beloppet kommer från, t.ex. HSLF-FS 2018:67."))
        )
    if not 2018 <= int(year) <= 2100:
        problems.append(Problem("year", "R-BET-4", _("Året måste vara 2018 eller senare.")))
    if problems:
        raise DomainError(problems)
    return DailyAmount.objects.create(
        year=year, amount=value, source=source.strip(), source_url=source_url.strip(), recorded_by=actor.user
    )


RULE_FIELDS = {
    "name",
    "valid_from",
    "valid_to",
    "rule_ids",
    "source",
    "free_days",
    "requires_sip_summons",
    "average_threshold",
    "long_stay_days",
    "long_stay_free_days",
    "day_zero",
    "window_months",
}


def add_rule_version(actor: Actor, code: str, **changes: Any) -> PaymentRule:
    """A new version of a rule, copied from the latest with the given changes. Earlier versions stay, and the
    settlements that used them keep pointing at them."""
    actor.require(Perm.PAYMENT_MANAGE)
    unknown = set(changes) - RULE_FIELDS
    if unknown:
        raise DomainError.single(
            sorted(unknown)[0], "BETALNING-REGEL", _("Fältet kan inte ändras i en ny regelversion.")
        )
    with transaction.atomic():
        latest = PaymentRule.objects.select_for_update().filter(code=code).order_by("-version").first()
        if latest is None:
            raise NotFound
        latest.pk = None
        latest.version += 1
        latest.created_by = actor.user
        for name, value in changes.items():
            setattr(latest, name, value)
        latest.full_clean()
        latest.save()
    return latest


# --- settlement --------------------------------------------------------------------------------------------


def _digest(payload: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _check_month(year: int, month: int, today: dt.date) -> None:
    if not 1 <= month <= 12:
        raise DomainError.single("month", "BETALNING-MANAD", _("Månaden måste vara 1–12."))
    if MonthSpan.of(year, month).last >= today:
        raise DomainError.single(
            "month", "BETALNING-MANAD", _("En månad kan avräknas först när den är slut (R-VG-BET-1).")
        )


@dataclass(frozen=True)
class _Config:
    """The rule versions and the year's amount in force, read once per month's settlement."""

    rules: list[RuleParams]
    amount: DailyAmount | None

    @classmethod
    def current(cls, year: int) -> _Config:
        return cls([r.params() for r in current_rules()], current_amount(year))


def run_settlement(
    actor: Actor,
    municipality: Municipality,
    year: int,
    month: int,
    facts: Iterable[StayFacts] | None = None,
    today: dt.date | None = None,
    source: str | None = None,
) -> SettlementRun:
    """Settle one municipality's month. Without ``facts`` the month is read from the real cases (the adapter,
    docs/payment.md); given facts (API, file) are used as they are, facts of other municipalities ignored.
    Re-running with the same facts, rules and amount returns the stored run unchanged; different inputs make
    a new run that supersedes the open one. A closed month is never recalculated."""
    actor.require(Perm.PAYMENT_MANAGE)
    _check_month(year, month, today or timezone.localdate())
    config = _Config.current(year)
    if facts is None:
        facts = adapter.case_facts(year, month, config.rules, [municipality.pk])
        source = source or SettlementRun.Source.CASES
    source = source or SettlementRun.Source.SUPPLIED
    return _settle(actor, year, month, [municipality], [(municipality, facts)], config, source)[0]


@dataclass(frozen=True)
class _Inputs:
    """One municipality's month as it is settled and stored: its own facts, the rule versions and the amount,
    and their digest (a re-run with the same digest returns the stored run)."""

    municipality: Municipality
    facts: list[StayFacts]
    config: _Config
    stored: dict[str, Any]
    digest: str


def _inputs(
    municipality: Municipality, year: int, month: int, facts: Iterable[StayFacts], config: _Config
) -> _Inputs:
    own = sorted(
        (f for f in facts if f.municipality_code == municipality.scb_code), key=lambda f: f.case_reference
    )
    too_long = [f.case_reference for f in own if not 0 < len(f.case_reference) <= 60]
    if too_long:
        raise DomainError.single(
            "case_reference",
            "BETALNING-ARENDE",
            _("Ärendereferensen måste vara 1–60 tecken: %s") % too_long[0],
        )
    stored = {
        "municipality": municipality.scb_code,
        "year": year,
        "month": month,
        "facts": [f.as_dict() for f in own],
        "rules": [r.as_dict() for r in config.rules],
        "amount_per_day": str(config.amount.amount) if config.amount else None,
        "engine": ENGINE_VERSION,
    }
    return _Inputs(municipality, own, config, stored, _digest(stored))


def _settle(
    actor: Actor,
    year: int,
    month: int,
    municipalities: list[Municipality],
    facts: Iterable[tuple[Municipality, Iterable[StayFacts]]],
    config: _Config,
    source: str,
) -> list[SettlementRun]:
    """Settle the month for ``municipalities`` in one transaction: either every municipality's run is
    stored or none is. ``facts`` gives each municipality's facts in turn (it may be a stream read while the
    earlier ones are being stored, so only one municipality's facts are held at a time).

    The municipality rows are locked first, in one statement and in id order, so two settlements of the
    same month (two schedulers, or a page and the job) cannot both create the next run, and cannot
    deadlock each other."""
    ids = [m.pk for m in municipalities]
    with transaction.atomic():
        list(Municipality.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk"))
        earlier: dict[int, list[SettlementRun]] = defaultdict(list)
        for run in (
            SettlementRun.objects.select_for_update()
            .filter(municipality_id__in=ids, year=year, month=month)
            .only("id", "municipality_id", "sequence", "status", "input_digest")
            .order_by("-sequence")
        ):
            earlier[run.municipality_id].append(run)
        return [
            _store(actor, _inputs(municipality, year, month, own, config), earlier[municipality.pk], source)
            for municipality, own in facts
        ]


def _store(actor: Actor, inputs: _Inputs, runs: list[SettlementRun], source: str) -> SettlementRun:
    """One municipality's run, inside ``_settle``'s transaction, given its earlier runs of the month (newest
    first, locked)."""
    municipality, stored, amount = inputs.municipality, inputs.stored, inputs.config.amount
    if any(r.status == SettlementRun.Status.CLOSED for r in runs):
        raise DomainError.single(
            "month",
            "BETALNING-STANGD",
            _("Månaden är redan stängd för kommunen och räknas inte om."),
            409,
        )
    latest = next((r for r in runs if r.status == SettlementRun.Status.OPEN), None)
    if latest is not None and latest.input_digest == inputs.digest:
        return SettlementRun.objects.select_related("municipality").get(pk=latest.pk)
    year, month = stored["year"], stored["month"]
    per_day = amount.amount if amount else None
    calculation = calculate(municipality.scb_code, year, month, inputs.facts, inputs.config.rules, per_day)
    if latest is not None:
        latest.status = SettlementRun.Status.SUPERSEDED
        latest.save(update_fields=["status"])
    run = SettlementRun.objects.create(
        municipality=municipality,
        year=year,
        month=month,
        sequence=(runs[0].sequence if runs else 0) + 1,
        facts=stored["facts"],
        rules=stored["rules"],
        amount_per_day=per_day,
        amount_source=amount.source if amount else "",
        problems=[p.as_dict() for p in calculation.problems],
        input_digest=inputs.digest,
        engine_version=ENGINE_VERSION,
        source=source,
        created_by=actor.user,
    )
    insert_rows(
        SettlementLine,
        LINE_FIELDS,
        (_line_values(run.pk, position, line) for position, line in enumerate(calculation.lines, start=1)),
    )
    return run


def run_month(
    actor: Actor,
    year: int,
    month: int,
    facts: Iterable[StayFacts] | None = None,
    today: dt.date | None = None,
) -> list[SettlementRun]:
    """Settle the month for every municipality, all in one transaction, ordered by name. Without ``facts``
    from the real cases, streamed one municipality at a time."""
    actor.require(Perm.PAYMENT_MANAGE)
    today = today or timezone.localdate()
    _check_month(year, month, today)
    municipalities = list(Municipality.objects.order_by("pk"))
    if facts is not None:
        by_code: dict[str, list[StayFacts]] = defaultdict(list)
        for f in facts:
            by_code[f.municipality_code].append(f)
        config = _Config.current(year)
        supplied = ((m, by_code.get(m.scb_code, [])) for m in municipalities)
        runs = _settle(actor, year, month, municipalities, supplied, config, SettlementRun.Source.SUPPLIED)
    else:
        runs = _run_from_cases(actor, year, month, municipalities)
    return sorted(runs, key=lambda r: r.municipality.name)


def _run_from_cases(
    actor: Actor, year: int, month: int, municipalities: list[Municipality]
) -> list[SettlementRun]:
    """Stream the month's cases ordered by municipality and settle each municipality as soon as its cases
    are read, so at most one municipality's facts are held at a time."""
    config = _Config.current(year)

    def per_municipality() -> Iterator[tuple[Municipality, list[StayFacts]]]:
        groups = adapter.by_municipality(year, month, config.rules, [m.pk for m in municipalities])
        pending = next(groups, None)
        for municipality in municipalities:
            facts: list[StayFacts] = []
            if pending is not None and pending[0] == municipality.scb_code:
                facts = pending[1]
                pending = next(groups, None)
            yield municipality, facts

    return _settle(actor, year, month, municipalities, per_municipality(), config, SettlementRun.Source.CASES)


def explain_case(case: Case, today: dt.date | None = None) -> StayExplanation | None:
    """How the rules in force see one case now (its payment page); None for a case without a municipality in
    Västra Götaland. The caller has opened the case through the cases app's checked path."""
    fields = stay_facts_fields(case)
    if fields is None:
        return None
    rules = [r.params() for r in current_rules()]
    return explain(StayFacts.from_dict(fields), rules, today or timezone.localdate())


def case_lines(actor: Actor, case: Case) -> QuerySet[SettlementLine]:
    """The settlement lines about ``case`` in the runs the actor may see, newest month first."""
    return (
        SettlementLine.objects.filter(
            case_reference=str(case.pk),
            run__in=visible_runs(actor),
            run__source=SettlementRun.Source.CASES,
        )
        .select_related("run__municipality")
        .order_by("-run__year", "-run__month", "-run__sequence", "position")
    )


def openable_cases(actor: Actor, run: SettlementRun, lines: list[SettlementLine]) -> set[str]:
    """The case references of ``lines`` whose case the actor could open — the conditions of the cases app's
    ``open_case`` (a unit taking part, a person it is involved with), in one query and logging nothing — so
    the invoice basis links only to case payment pages that will open; the others stay plain references."""
    if run.source != SettlementRun.Source.CASES or actor.unit is None or not actor.can(Perm.CASE_READ):
        return set()
    ids = {int(line.case_reference) for line in lines if line.case_reference.isdecimal()}
    openable = unit_cases(actor.unit).filter(pk__in=ids, person__in=visible_persons(actor))
    return {str(pk) for pk in openable.values_list("pk", flat=True)}


def previous_month(today: dt.date) -> tuple[int, int]:
    last = today.replace(day=1) - dt.timedelta(days=1)
    return last.year, last.month


@dataclass(frozen=True)
class ScheduledSettlement:
    year: int
    month: int
    created: list[SettlementRun]
    already_settled: list[str]  # municipality names that had a run with the current rule versions (or closed)


def settle_last_month(actor: Actor, today: dt.date | None = None) -> ScheduledSettlement:
    """The scheduled monthly settlement: the previous calendar month for all 49 municipalities, from the
    cases. Idempotent: a municipality that already has a closed run for the month, or an open one made with
    the rule versions in force now, is left alone — running twice never creates a second run for the same
    municipality, month and rule versions. (A re-run after corrected case data is a manual ``run_month``.)"""
    actor.require(Perm.PAYMENT_MANAGE)
    today = today or timezone.localdate()
    year, month = previous_month(today)
    rules = [r.params().as_dict() for r in current_rules()]
    done: set[int] = set()
    for run in (
        SettlementRun.objects.filter(year=year, month=month)
        .exclude(status=SettlementRun.Status.SUPERSEDED)
        .only("id", "municipality_id", "status", "rules")  # not the stored facts
    ):
        if run.status == SettlementRun.Status.CLOSED or run.rules == rules:
            done.add(run.municipality_id)
    municipalities = list(Municipality.objects.order_by("pk"))
    todo = [m for m in municipalities if m.pk not in done]
    _check_month(year, month, today)
    created = _run_from_cases(actor, year, month, todo) if todo else []
    return ScheduledSettlement(
        year,
        month,
        sorted(created, key=lambda r: r.municipality.name),
        sorted(m.name for m in municipalities if m.pk in done),
    )


def manager_actor(username: str, channel: str = "command") -> Actor:
    """The acting context for a command or a scheduled task: the named active user's first membership with
    ``payment.manage`` (fail closed: none, PermissionDenied)."""
    for membership in Membership.objects.select_related("user", "unit__organisation").filter(
        user__username=username, user__is_active=True
    ):
        actor = Actor.for_membership(membership, channel=channel)
        if actor.can(Perm.PAYMENT_MANAGE):
            return actor
    raise PermissionDenied(Perm.PAYMENT_MANAGE.value)


LINE_FIELDS = (
    "run",
    "position",
    "case_reference",
    "kind",
    "rule_label",
    "notice_date",
    "discharge_date",
    "days",
    "payable_days",
    "amount",
    "exclusion_rule",
    "exclusion_reason",
    "explanation",
)


def _line_values(run_id: int, position: int, line: Line) -> tuple[Any, ...]:
    """A stored line's values in ``LINE_FIELDS`` order (texts cut to their columns' lengths)."""
    return (
        run_id,
        position,
        line.case_reference,
        line.kind.value,
        line.rule_label,
        line.notice_date,
        line.discharge_date,
        line.days,
        line.payable_days,
        line.amount,
        line.exclusion_rule,
        line.exclusion_reason[:300],
        line.explanation[:400],
    )


def recalculate(run: SettlementRun) -> Calculation:
    """The calculation from the run's stored inputs alone (no current configuration is read)."""
    facts = [StayFacts.from_dict(f) for f in run.facts]
    rules = [RuleParams.from_dict(r) for r in run.rules]
    return calculate(run.municipality.scb_code, run.year, run.month, facts, rules, run.amount_per_day)


def reproduce(run: SettlementRun) -> list[str]:
    """Every difference between the stored run and a fresh calculation from its inputs; empty means the run
    was reproduced exactly."""
    calculation = recalculate(run)
    stored = [_line_dict(_line_from_row(row)) for row in run.lines.order_by("position")]
    fresh = [_line_dict(line) for line in calculation.lines]
    differences = []
    if len(stored) != len(fresh):
        differences.append(f"Antal rader: lagrat {len(stored)}, omräknat {len(fresh)}.")
    for position, (a, b) in enumerate(zip(stored, fresh, strict=False), start=1):
        if a != b:
            differences.append(f"Rad {position}: lagrat {a}, omräknat {b}.")
    if [p.as_dict() for p in calculation.problems] != run.problems:
        differences.append("Dataproblemen skiljer sig.")
    return differences


def _line_from_row(row: SettlementLine) -> Line:
    return Line(
        case_reference=row.case_reference,
        kind=LineKind(row.kind),
        rule_label=row.rule_label,
        notice_date=row.notice_date,
        discharge_date=row.discharge_date,
        days=row.days,
        payable_days=row.payable_days,
        amount=row.amount,
        exclusion_rule=row.exclusion_rule,
        exclusion_reason=row.exclusion_reason,
        explanation=row.explanation,
    )


def _line_dict(line: Line) -> dict[str, Any]:
    data = asdict(line)
    data["payable_days"] = Decimal(line.payable_days).quantize(Decimal("0.01"))
    data["exclusion_reason"] = line.exclusion_reason[:300]
    data["explanation"] = line.explanation[:400]
    return data


# --- closing and disputes ----------------------------------------------------------------------------------


def close_settlement(actor: Actor, run_id: int | str) -> SettlementRun:
    """The region closes the month's invoice basis. Refused while data problems block it, or disputes are
    open; a closed settlement is final."""
    actor.require(Perm.PAYMENT_MANAGE)
    with transaction.atomic():
        run = open_run(actor, run_id)
        run = SettlementRun.objects.select_for_update().get(pk=run.pk)
        if run.status != SettlementRun.Status.OPEN:
            raise DomainError.single(
                "status", "BETALNING-STANGD", _("Bara en öppen, gällande avräkning kan stängas."), 409
            )
        if run.has_blocking_problems:
            raise DomainError.single(
                "problems",
                "BETALNING-DATAPROBLEM",
                _("Avräkningen har dataproblem (t.ex. belopp saknas för året) och kan inte stängas."),
                409,
            )
        if Dispute.objects.filter(line__run=run, status=Dispute.Status.OPEN).exists():
            raise DomainError.single(
                "disputes", "BETALNING-OPPNA-TVISTER", _("Det finns obesvarade tvister på avräkningen."), 409
            )
        run.status = SettlementRun.Status.CLOSED
        run.closed_at = timezone.now()
        run.closed_by = actor.user
        run.save(update_fields=["status", "closed_at", "closed_by"])
    return run


def raise_dispute(actor: Actor, run_id: int | str, line_id: int | str, comment: str) -> Dispute:
    """The municipality disputes one line of its own settlement, with a comment."""
    actor.require(Perm.PAYMENT_DISPUTE)
    municipality = actor_municipality(actor)
    unit = actor.unit
    with transaction.atomic():
        run = open_run(actor, run_id)
        if municipality is None or unit is None or run.municipality_id != municipality.pk:
            raise NotFound
        run = SettlementRun.objects.select_for_update().get(pk=run.pk)
        line = run.lines.filter(pk=_int(line_id)).first()
        if line is None:
            raise NotFound
        if run.status == SettlementRun.Status.CLOSED:
            raise DomainError.single(
                "run",
                "BETALNING-STANGD",
                _(
                    "Avräkningen är stängd och kan inte bestridas. "
                    "Kontakta regionen om ni anser att den är fel."
                ),
                409,
            )
        if run.status == SettlementRun.Status.SUPERSEDED:
            raise DomainError.single(
                "run", "BETALNING-ERSATT", _("Avräkningen har ersatts av en nyare körning; bestrid den."), 409
            )
        if not comment.strip():
            raise DomainError.single(
                "comment", "BETALNING-TVIST-KOMMENTAR", _("Skriv varför raden bestrids.")
            )
        return Dispute.objects.create(
            line=line, comment=comment.strip(), raised_by=actor.user, raised_unit=unit
        )


def resolve_dispute(actor: Actor, dispute_id: int | str, accepted: bool, resolution: str) -> Dispute:
    """The region answers a dispute. An accepted dispute is corrected by re-running the month with corrected
    facts; the answer is kept either way."""
    actor.require(Perm.PAYMENT_MANAGE)
    with transaction.atomic():
        dispute = (
            Dispute.objects.select_for_update()
            .filter(pk=_int(dispute_id), line__run__in=visible_runs(actor))
            .first()
        )
        if dispute is None:
            raise NotFound
        if dispute.status != Dispute.Status.OPEN:
            raise DomainError.single(
                "status", "BETALNING-TVIST-BESVARAD", _("Tvisten är redan besvarad."), 409
            )
        if not resolution.strip():
            raise DomainError.single("resolution", "BETALNING-TVIST-BESLUT", _("Skriv regionens beslut."))
        dispute.status = Dispute.Status.ACCEPTED if accepted else Dispute.Status.REJECTED
        dispute.resolution = resolution.strip()
        dispute.resolved_by = actor.user
        dispute.resolved_at = timezone.now()
        dispute.save(update_fields=["status", "resolution", "resolved_by", "resolved_at"])
    return dispute


def _int(value: int | str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise NotFound from exc
