"""Changing a payment rule from the rules page (issue 5 item 1: rules are dated, versioned configuration).

Two kinds of change, because they mean different things for settlements:

* a **correction** (``mode=version``) is a new version of the same rule, for its whole period: the next
  settlement of any month uses it, and runs already stored keep the version they used (ADR 0200);
* a **change from a date** (``mode=from_date``) leaves the rule as it was before that date: a new version
  of it ends the day before, and a new rule (code ``<code>-<date>``) with the changes starts that day.

The whole form is checked before anything is written, each problem naming its field: the format of every
value (rule BETALNING-REGEL), and that no two rules of the same basis and care type apply on the same day
(R-GOV-1: the engine would refuse every stay on such a day as a configuration problem)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from brygga.accounts.context import Actor
from brygga.accounts.permissions import Perm
from brygga.core.errors import DomainError, NotFound, Problem
from brygga.payment.engine import DayZero, RuleKind
from brygga.payment.models import PaymentRule
from brygga.payment.services import current_rules

RULE = "BETALNING-REGEL"
MODES = ("version", "from_date")
AVERAGE_FIELDS = ("average_threshold", "long_stay_days", "long_stay_free_days", "day_zero", "window_months")


class _Reader:
    """Reads the form's strings into typed values, collecting every problem rather than stopping at one."""

    def __init__(self, data: Mapping[str, str]) -> None:
        self.data = data
        self.problems: list[Problem] = []

    def raw(self, name: str) -> str:
        return str(self.data.get(name, "") or "").strip()

    def fail(self, name: str, message: str) -> None:
        self.problems.append(Problem(name, RULE, message))

    def text(self, name: str, max_length: int) -> str:
        value = self.raw(name)
        if not value:
            self.fail(name, _("Fältet måste fyllas i."))
        elif len(value) > max_length:
            self.fail(name, _("Högst %(n)s tecken.") % {"n": max_length})
        return value

    def date(self, name: str, required: bool) -> dt.date | None:
        value = self.raw(name)
        if not value:
            if required:
                self.fail(name, _("Ange ett datum (ÅÅÅÅ-MM-DD)."))
            return None
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            self.fail(name, _("Ange datumet som ÅÅÅÅ-MM-DD."))
            return None

    def integer(self, name: str, low: int, high: int) -> int:
        value = self.raw(name)
        try:
            number = int(value)
        except ValueError:
            number = low - 1
        if not low <= number <= high:
            self.fail(name, _("Ange ett heltal från %(low)s till %(high)s.") % {"low": low, "high": high})
        return number

    def threshold(self, name: str) -> Decimal:
        value = self.raw(name).replace(",", ".")
        try:
            number = Decimal(value)
        except InvalidOperation:
            number = Decimal(-1)
        if not (Decimal(0) < number < Decimal(100)) or number != number.quantize(Decimal("0.01")):
            self.fail(name, _("Ange antal dagar större än 0 och under 100, högst två decimaler."))
        return number

    def choice(self, name: str, allowed: tuple[str, ...]) -> str:
        value = self.raw(name)
        if value not in allowed:
            self.fail(name, _("Välj ett av alternativen."))
        return value


def _read(rule: PaymentRule, data: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    """The mode and the rule's new field values. Fields that do not belong to the rule's model (an individual
    rule has no average threshold) are not read."""
    form = _Reader(data)
    mode = form.choice("mode", MODES)
    values: dict[str, Any] = {
        "name": form.text("name", 200),
        "rule_ids": form.text("rule_ids", 200),
        "source": form.text("source", 2000),
        "valid_from": form.date("valid_from", required=True),
        "valid_to": form.date("valid_to", required=False),
        "requires_sip_summons": form.raw("requires_sip_summons") in ("on", "1", "true"),
    }
    if rule.kind == RuleKind.INDIVIDUAL:
        values["free_days"] = form.integer("free_days", 0, 60)
    else:
        values["average_threshold"] = form.threshold("average_threshold")
        values["long_stay_days"] = form.integer("long_stay_days", 1, 365)
        values["long_stay_free_days"] = form.integer("long_stay_free_days", 0, 365)
        values["day_zero"] = form.choice("day_zero", tuple(DayZero))
        values["window_months"] = form.integer("window_months", 1, 3)
        if values["window_months"] == 2:
            form.fail("window_months", _("Avräkningsfönstret är 1 eller 3 månader (R-VG-BET-4)."))
        if not form.problems and values["long_stay_free_days"] > values["long_stay_days"]:
            form.fail(
                "long_stay_free_days",
                _("De fria dagarna kan inte vara fler än gränsen för individuell beräkning."),
            )
    start, end = values["valid_from"], values["valid_to"]
    if start and end and end < start:
        form.fail("valid_to", _("Slutdatumet ligger före startdatumet."))
    if start and mode == "from_date":
        if start <= rule.valid_from:
            form.fail(
                "valid_from",
                _("En ändring från ett datum måste börja efter regelns start (%(day)s).")
                % {"day": rule.valid_from.isoformat()},
            )
        elif rule.valid_to is not None and start > rule.valid_to:
            form.fail(
                "valid_from",
                _("Regeln gäller bara till och med %(day)s; ändringen måste börja senast då.")
                % {"day": rule.valid_to.isoformat()},
            )
    if form.problems:
        raise DomainError(form.problems)
    return mode, values


def _overlap(candidates: list[PaymentRule], replaced: set[str]) -> list[Problem]:
    """R-GOV-1: two rules of the same basis (law / agreement) and care type on the same day are equally
    specific, and the engine refuses every stay on that day. ``replaced``: codes whose current versions are
    being replaced by the candidates."""
    others = [r for r in current_rules() if r.code not in replaced]
    problems = []
    for i, rule in enumerate(candidates):
        for other in others + candidates[i + 1 :]:
            same_rank = rule.scope == other.scope and (rule.care_type or "") == (other.care_type or "")
            overlaps = rule.valid_from <= (other.valid_to or dt.date.max) and other.valid_from <= (
                rule.valid_to or dt.date.max
            )
            if same_rank and overlaps:
                problems.append(
                    Problem(
                        "valid_from",
                        "R-GOV-1",
                        _(
                            "Perioden överlappar %(other)s (%(start)s – %(end)s) med samma grund och "
                            "vårdform; två lika specifika regler kan inte gälla samma dag."
                        )
                        % {
                            "other": f"{other.code} v{other.version}",
                            "start": other.valid_from.isoformat(),
                            "end": other.valid_to.isoformat() if other.valid_to else "",
                        },
                    )
                )
    return problems


def _copy(rule: PaymentRule, actor: Actor, **values: Any) -> PaymentRule:
    new = PaymentRule.objects.get(pk=rule.pk)
    new.pk = None
    new.created_by = actor.user
    for name, value in values.items():
        setattr(new, name, value)
    return new


def change_rule(actor: Actor, code: str, data: Mapping[str, str]) -> PaymentRule:
    """Apply the rules page's form for ``code`` (see the module text); returns the version or rule that now
    carries the changes. Nothing is written unless every check passes."""
    actor.require(Perm.PAYMENT_MANAGE)
    with transaction.atomic():
        latest = PaymentRule.objects.select_for_update().filter(code=code).order_by("-version").first()
        if latest is None:
            raise NotFound
        mode, values = _read(latest, data)
        if mode == "version":
            written = [_copy(latest, actor, version=latest.version + 1, **values)]
        else:
            new_code = f"{code}-{values['valid_from'].isoformat()}"[:60]
            if PaymentRule.objects.filter(code=new_code).exists():
                raise DomainError.single(
                    "valid_from", RULE, _("Det finns redan en regel som börjar det datumet (%s).") % new_code
                )
            ended = _copy(
                latest,
                actor,
                version=latest.version + 1,
                valid_to=values["valid_from"] - dt.timedelta(days=1),
            )
            started = _copy(latest, actor, code=new_code, version=1, **values)
            written = [ended, started]
        problems = _overlap(written, {code})
        if problems:
            raise DomainError(problems)
        for rule in written:
            try:
                rule.full_clean()
            except ValidationError as exc:  # a model constraint the reading above did not foresee
                raise DomainError(
                    [Problem(name, RULE, " ".join(messages)) for name, messages in exc.message_dict.items()]
                ) from exc
            rule.save()
    return written[-1]
