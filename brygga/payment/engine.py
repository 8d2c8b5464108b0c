"""The payment-responsibility calculation: pure functions over StayFacts, rule parameters and the amount per
day. No database, no clock: the same inputs always give the same lines, which is what makes a stored
settlement run reproducible (services.reproduce).

Day counting (R-VG-BET-8, R-BET-1): calendar days in Swedish local time. N is the local date the
discharge-ready notice was sent, D the local date of discharge.

* Individual rules (national default R-BET-1, psychiatry 2018 R-BET-5, VG psychiatry Q1 2020 R-VG-BET-6):
  the municipality is responsible for every day d with N + free_days <= d < D (the day of discharge is not a
  vårddygn). Days are settled in the month they fall in, so a stay over a month boundary is split.
* The VG average model (R-VG-BET-1..5): a stay belongs to the month it was discharged in and counts
  D - N days (notice day is day 0), or D - N + 1 with the day-1 convention. Stays of more than
  ``long_stay_days`` go to individual calculation and leave the average [U]; the others pay
  max(0, S - threshold × N) days together."""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from brygga.payment.facts import CareType, StayFacts

ENGINE_VERSION = "1"
LOCAL_TZ = ZoneInfo("Europe/Stockholm")
CENT = Decimal("0.01")


class RuleKind(StrEnum):
    INDIVIDUAL = "individual"
    AVERAGE = "average"


class RuleScope(StrEnum):
    NATIONAL = "national"  # the law's default when nothing is agreed (R-BET-1)
    AGREEMENT = "agreement"  # agreed between region and municipalities; takes precedence (R-GOV-1)


class DayZero(StrEnum):
    NOTICE_DAY_IS_ZERO = "notice_day_is_zero"
    NOTICE_DAY_IS_ONE = "notice_day_is_one"


class LineKind(StrEnum):
    INDIVIDUAL = "individual"  # individual rule: payable days of one stay
    AVERAGE_MEMBER = "average_member"  # counted in the month's average, no amount of its own
    LONG_STAY = "long_stay"  # more than long_stay_days: individual calculation (R-VG-BET-5)
    AVERAGE_EXCESS = "average_excess"  # the month's days above the average threshold (R-VG-BET-1)
    EXCLUDED = "excluded"  # cannot create cost; the reason is on the line


@dataclass(frozen=True)
class RuleParams:
    """One version of one payment rule, as the engine needs it (mirrors models.PaymentRule)."""

    code: str
    version: int
    name: str
    kind: RuleKind
    scope: RuleScope
    care_type: CareType | None  # None: applies to every care type
    valid_from: dt.date
    valid_to: dt.date | None = None  # inclusive
    rule_ids: str = ""
    free_days: int = 3
    requires_sip_summons: bool = False
    average_threshold: Decimal = Decimal("3.0")
    long_stay_days: int = 7
    long_stay_free_days: int = 3
    day_zero: DayZero = DayZero.NOTICE_DAY_IS_ZERO
    window_months: int = 1

    @property
    def label(self) -> str:
        return f"{self.code} v{self.version}"

    @property
    def day_offset(self) -> int:
        """Added to D - N when counting a stay's days: 1 for the average model with the day-1 convention
        (R-VG-BET-8), else 0 (the individual rules count from the notice day as day 0)."""
        return 1 if self.kind == RuleKind.AVERAGE and self.day_zero == DayZero.NOTICE_DAY_IS_ONE else 0

    def applies_on(self, day: dt.date, care_type: CareType) -> bool:
        in_time = self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)
        return in_time and (self.care_type is None or self.care_type == care_type)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(
            kind=self.kind.value,
            scope=self.scope.value,
            care_type=self.care_type.value if self.care_type else None,
            valid_from=self.valid_from.isoformat(),
            valid_to=self.valid_to.isoformat() if self.valid_to else None,
            average_threshold=str(self.average_threshold),
            day_zero=self.day_zero.value,
        )
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RuleParams:
        return cls(
            code=data["code"],
            version=int(data["version"]),
            name=data["name"],
            kind=RuleKind(data["kind"]),
            scope=RuleScope(data["scope"]),
            care_type=CareType(data["care_type"]) if data.get("care_type") else None,
            valid_from=dt.date.fromisoformat(data["valid_from"]),
            valid_to=dt.date.fromisoformat(data["valid_to"]) if data.get("valid_to") else None,
            rule_ids=data.get("rule_ids", ""),
            free_days=int(data["free_days"]),
            requires_sip_summons=bool(data["requires_sip_summons"]),
            average_threshold=Decimal(data["average_threshold"]),
            long_stay_days=int(data["long_stay_days"]),
            long_stay_free_days=int(data["long_stay_free_days"]),
            day_zero=DayZero(data["day_zero"]),
            window_months=int(data["window_months"]),
        )


@dataclass(frozen=True)
class Line:
    case_reference: str
    kind: LineKind
    rule_label: str = ""
    notice_date: dt.date | None = None
    discharge_date: dt.date | None = None
    days: int | None = None  # discharge-ready days as the rule counts them
    payable_days: Decimal = Decimal("0")
    amount: Decimal | None = None
    exclusion_rule: str = ""
    exclusion_reason: str = ""
    explanation: str = ""


@dataclass(frozen=True)
class DataProblem:
    """Something the settlement cannot decide from the facts. Blocking problems keep it from being closed."""

    case_reference: str
    field: str
    rule: str
    message: str
    blocking: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Calculation:
    lines: tuple[Line, ...]
    problems: tuple[DataProblem, ...]

    @property
    def is_complete(self) -> bool:
        return not any(p.blocking for p in self.problems)


@dataclass(frozen=True)
class MonthSpan:
    first: dt.date
    last: dt.date

    @classmethod
    def of(cls, year: int, month: int) -> MonthSpan:
        return cls(dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1]))

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and self.first <= day <= self.last

    def back(self, months: int) -> MonthSpan:
        index = self.first.year * 12 + self.first.month - 1 - months
        return MonthSpan.of(index // 12, index % 12 + 1)


def local_date(moment: dt.datetime | None) -> dt.date | None:
    return moment.astimezone(LOCAL_TZ).date() if moment is not None else None


def money(days: Decimal, amount_per_day: Decimal | None) -> Decimal | None:
    if amount_per_day is None:
        return None
    return (days * amount_per_day).quantize(CENT, rounding=ROUND_HALF_UP)


def select_rule(facts: StayFacts, rules: Sequence[RuleParams]) -> tuple[RuleParams | None, str]:
    """The rule in force on the day the clock started (the notice date; else the assessment or admission
    date). An agreed rule wins over the national default (R-GOV-1), a care-type rule over a general one.
    Returns (rule, problem message); two equally specific rules are a configuration problem."""
    anchor = (
        local_date(facts.discharge_ready_notice_sent_at)
        or local_date(max((p.set_at for p in facts.discharge_ready), default=None))
        or local_date(facts.admitted_at)
    )
    assert anchor is not None
    candidates = [r for r in rules if r.applies_on(anchor, facts.care_type)]
    if not candidates:
        return None, f"Ingen betalningsregel gäller för {facts.care_type.value} vård den {anchor}."

    def rank(rule: RuleParams) -> tuple[bool, bool]:
        return (rule.scope == RuleScope.AGREEMENT, rule.care_type is not None)

    best = max(rank(r) for r in candidates)
    top = [r for r in candidates if rank(r) == best]
    if len({r.code for r in top}) > 1 or len(top) > 1:
        labels = ", ".join(sorted(r.label for r in top))
        return None, f"Flera betalningsregler gäller samtidigt ({labels}) den {anchor}."
    return top[0], ""


@dataclass(frozen=True)
class _Assessment:
    facts: StayFacts
    rule: RuleParams
    notice_date: dt.date | None
    discharge_date: dt.date | None
    exclusion: tuple[str, str] | None  # (rule id, Swedish reason)
    problems: tuple[DataProblem, ...]


def _precondition_rule(rule: RuleParams) -> str:
    return "R-VG-BET-2" if rule.scope == RuleScope.AGREEMENT else "R-BET-2"


def _assess(facts: StayFacts, rule: RuleParams) -> _Assessment:
    """Check the facts and the rule's preconditions. Missing notices exclude the stay (it cannot create cost)
    and are reported as problems; contradictory timestamps are blocking problems."""
    ref = facts.case_reference
    problems: list[DataProblem] = []
    notice = facts.discharge_ready_notice_sent_at
    discharged = facts.discharged_at
    active = facts.active_discharge_ready
    pre = _precondition_rule(rule)

    def result(exclusion: tuple[str, str] | None) -> _Assessment:
        return _Assessment(
            facts, rule, local_date(notice), local_date(discharged), exclusion, tuple(problems)
        )

    def broken(field: str, message: str) -> _Assessment:
        problems.append(DataProblem(ref, field, "BETALNING-TIDPUNKTER", message, blocking=True))
        return result(("BETALNING-TIDPUNKTER", message))

    if facts.cancelled:
        return result(("BETALNING-MAKULERAT", "Ärendet är makulerat och kan inte ge kostnad."))
    if discharged is not None and discharged < facts.admitted_at:
        return broken("discharged_at", "Utskrivningen är registrerad före inskrivningen.")
    for period in facts.discharge_ready:
        if period.withdrawn_at is not None and period.withdrawn_at < period.set_at:
            return broken("discharge_ready", "Utskrivningsklar återtogs före bedömningen.")
    if not facts.discharge_ready:
        return result(("R-BET-1", "Patienten bedömdes aldrig utskrivningsklar; inga dagar att räkna."))
    if active is None:
        return result(
            (
                "R-UK-2",
                "Utskrivningsklar återtogs och sattes inte igen före utskrivningen; klockan stoppades.",
            )
        )
    if facts.admission_notice_sent_at is None:
        message = "Inskrivningsmeddelande saknas; ärendet kan inte ge kostnad för kommunen."
        problems.append(DataProblem(ref, "admission_notice_sent_at", pre, message, blocking=False))
        return result((pre, message))
    if notice is None or notice < active.set_at:
        message = "Meddelande om utskrivningsklar saknas för den gällande bedömningen."
        problems.append(DataProblem(ref, "discharge_ready_notice_sent_at", pre, message, blocking=False))
        return result((pre, message))
    if discharged is not None and discharged < notice:
        return broken("discharged_at", "Utskrivningen är registrerad före meddelandet om utskrivningsklar.")
    if rule.requires_sip_summons and facts.sip_needed and facts.sip_summons_sent_at is None:
        message = "SIP behövdes men ingen kallelse skickades; ärendet kan inte ge kostnad."
        problems.append(DataProblem(ref, "sip_summons_sent_at", "R-VG-BET-2", message, blocking=False))
        return result(("R-VG-BET-2", message))
    return result(None)


def _average_days(a: _Assessment) -> int:
    assert a.notice_date is not None and a.discharge_date is not None
    return (a.discharge_date - a.notice_date).days + a.rule.day_offset


def calculate(
    municipality_code: str,
    year: int,
    month: int,
    facts: Iterable[StayFacts],
    rules: Sequence[RuleParams],
    amount_per_day: Decimal | None,
) -> Calculation:
    """The invoice basis for one municipality and calendar month."""
    span = MonthSpan.of(year, month)
    lines: list[Line] = []
    problems: list[DataProblem] = []
    # members of each rule's average: this month's, and the whole window's (R-VG-BET-4)
    pools: dict[RuleParams, list[_Assessment]] = defaultdict(list)
    window_pools: dict[RuleParams, list[_Assessment]] = defaultdict(list)

    own = sorted(
        (f for f in facts if f.municipality_code == municipality_code), key=lambda f: f.case_reference
    )
    for f in own:
        discharge_date = local_date(f.discharged_at)
        in_month = discharge_date in span
        rule, rule_problem = select_rule(f, rules)
        if rule is None:
            if in_month:
                problems.append(DataProblem(f.case_reference, "rule", "R-GOV-1", rule_problem, blocking=True))
                lines.append(
                    Line(
                        f.case_reference,
                        LineKind.EXCLUDED,
                        discharge_date=discharge_date,
                        exclusion_rule="R-GOV-1",
                        exclusion_reason=rule_problem,
                    )
                )
            continue
        if rule.kind == RuleKind.AVERAGE:
            window = span.back(rule.window_months - 1)
            if not in_month:
                if discharge_date is not None and window.first <= discharge_date < span.first:
                    earlier = _assess(f, rule)
                    if earlier.exclusion is None and _average_days(earlier) <= rule.long_stay_days:
                        window_pools[rule].append(earlier)
                continue
        assessment = _assess(f, rule)
        if assessment.exclusion is not None:
            if in_month:
                problems.extend(assessment.problems)
                code, reason = assessment.exclusion
                lines.append(
                    Line(
                        f.case_reference,
                        LineKind.EXCLUDED,
                        rule.label,
                        assessment.notice_date,
                        discharge_date,
                        exclusion_rule=code,
                        exclusion_reason=reason,
                    )
                )
            continue
        if rule.kind == RuleKind.INDIVIDUAL:
            line = _individual_line(assessment, span, amount_per_day)
            if line.payable_days or in_month:
                lines.append(line)
            continue
        days = _average_days(assessment)
        if days > rule.long_stay_days:
            payable = Decimal(max(0, days - rule.long_stay_free_days))
            lines.append(
                Line(
                    f.case_reference,
                    LineKind.LONG_STAY,
                    rule.label,
                    assessment.notice_date,
                    discharge_date,
                    days,
                    payable,
                    money(payable, amount_per_day),
                    explanation=(
                        f"Mer än {rule.long_stay_days} dagar: individuell beräkning, {days} dagar minus "
                        f"{rule.long_stay_free_days} = {payable} dagar (R-VG-BET-5)."
                    ),
                )
            )
        else:
            pools[rule].append(assessment)
            window_pools[rule].append(assessment)
            lines.append(
                Line(
                    f.case_reference,
                    LineKind.AVERAGE_MEMBER,
                    rule.label,
                    assessment.notice_date,
                    discharge_date,
                    days,
                    explanation=_withdrawn_note(f),
                )
            )
    for rule, members in sorted(pools.items(), key=lambda item: item[0].label):
        lines.append(_excess_line(rule, members, window_pools[rule], amount_per_day))
    if amount_per_day is None:
        problems.append(
            DataProblem(
                "",
                "amount_per_day",
                "R-BET-4",
                f"Socialstyrelsens belopp per vårddygn för {year} saknas; inget belopp räknas fram.",
                blocking=True,
            )
        )
    return Calculation(tuple(lines), tuple(problems))


@dataclass(frozen=True)
class StayExplanation:
    """How the payment rules see one stay, for people checking it (the case's payment page): the rule in
    force, whether the stay can create cost and why not, and its days as that rule counts them — up to the
    discharge, or up to ``today`` while the patient is still in hospital."""

    rule: RuleParams | None
    rule_problem: str
    exclusion: tuple[str, str] | None  # (rule id, Swedish reason)
    notice_date: dt.date | None
    discharge_date: dt.date | None
    days: int | None
    responsible_from: dt.date | None  # individual rules: the first day the municipality pays for
    long_stay: bool  # average model: more than long_stay_days, calculated individually (R-VG-BET-5)
    in_hospital: bool


def explain(facts: StayFacts, rules: Sequence[RuleParams], today: dt.date) -> StayExplanation:
    """The same rule choice and preconditions ``calculate`` applies, for one stay, without a month."""
    rule, problem = select_rule(facts, rules)
    discharge_date = local_date(facts.discharged_at)
    in_hospital = discharge_date is None
    if rule is None:
        return StayExplanation(None, problem, None, None, discharge_date, None, None, False, in_hospital)
    assessment = _assess(facts, rule)
    if assessment.exclusion is not None or assessment.notice_date is None:
        return StayExplanation(
            rule,
            "",
            assessment.exclusion,
            assessment.notice_date,
            discharge_date,
            None,
            None,
            False,
            in_hospital,
        )
    end = discharge_date or today
    days = (end - assessment.notice_date).days + rule.day_offset
    if rule.kind == RuleKind.INDIVIDUAL:
        start = assessment.notice_date + dt.timedelta(days=rule.free_days)
        return StayExplanation(
            rule, "", None, assessment.notice_date, discharge_date, days, start, False, in_hospital
        )
    return StayExplanation(
        rule,
        "",
        None,
        assessment.notice_date,
        discharge_date,
        days,
        None,
        days > rule.long_stay_days,
        in_hospital,
    )


def _withdrawn_note(f: StayFacts) -> str:
    if f.was_withdrawn:
        return "Utskrivningsklar återtogs tidigare; dagarna räknas från det senaste meddelandet (R-UK-2)."
    return ""


def _individual_line(a: _Assessment, span: MonthSpan, amount_per_day: Decimal | None) -> Line:
    assert a.notice_date is not None
    start = a.notice_date + dt.timedelta(days=a.rule.free_days)
    stop = a.discharge_date or span.last + dt.timedelta(days=1)  # still in hospital: to the month's end
    first = max(start, span.first)
    end = min(stop, span.last + dt.timedelta(days=1))
    payable = Decimal(max(0, (end - first).days))
    total = (a.discharge_date - a.notice_date).days if a.discharge_date else None
    explanation = (
        f"Betalningsansvar från {start} ({a.rule.free_days} kalenderdagar efter meddelandet); "
        f"{payable} dagar i månaden."
    )
    note = _withdrawn_note(a.facts)
    return Line(
        a.facts.case_reference,
        LineKind.INDIVIDUAL,
        a.rule.label,
        a.notice_date,
        a.discharge_date,
        total,
        payable,
        money(payable, amount_per_day),
        explanation=f"{explanation} {note}".strip(),
    )


def _excess_line(
    rule: RuleParams,
    members: list[_Assessment],
    window_members: list[_Assessment],
    amount_per_day: Decimal | None,
) -> Line:
    count = len(members)
    total_days = sum(_average_days(a) for a in members)
    excess = max(Decimal(0), Decimal(total_days) - rule.average_threshold * count)
    average = (Decimal(total_days) / count).quantize(CENT) if count else Decimal(0)
    explanation = (
        f"{count} ärenden, {total_days} dagar, snitt {average} dagar; "
        f"dagar över snittet {rule.average_threshold}: {excess} (R-VG-BET-1, R-VG-BET-3)."
    )
    if rule.window_months > 1:
        window_count = len(window_members)
        window_days = sum(_average_days(a) for a in window_members)
        window_average = Decimal(window_days) / window_count if window_count else Decimal(0)
        if window_average <= rule.average_threshold:
            excess = Decimal(0)
        explanation += (
            f" Snitt över {rule.window_months} månader: {window_average.quantize(CENT)} dagar "
            f"({'över' if excess else 'inte över'} tröskeln, R-VG-BET-4)."
        )
    return Line(
        "",
        LineKind.AVERAGE_EXCESS,
        rule.label,
        days=total_days,
        payable_days=excess,
        amount=money(excess, amount_per_day),
        explanation=explanation,
    )
