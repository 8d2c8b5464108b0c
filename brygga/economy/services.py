"""Economy services: every change to keys, budgets, lines, invoices and periods goes through here.

Rules (codes appear in every refusal and flag):

- R-ECO-1  A financing key's parts sum to exactly 100 %.
- R-ECO-2  Every budget line is financed exactly: by one key, or by a price list whose charges equal the line.
           An unfunded line is flagged, never balanced silently; invoices are refused while a line is flagged.
- R-ECO-3  The municipal share is split by the SCB population of the budget's population year; if that year is
           not imported for all 49 municipalities the split is refused.
- R-ECO-4  No invoices are created or replaced for a closed period.
- R-ECO-5  Amounts are whole öre and not negative.
- R-ECO-6  An invoice month lies within the budget year.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from brygga.accounts.context import Actor
from brygga.accounts.permissions import Perm
from brygga.core.errors import DomainError, Problem
from brygga.economy.models import (
    Budget,
    BudgetLine,
    ChangeRecord,
    FinancingKey,
    FinancingKeyPart,
    Invoice,
    InvoiceLine,
    InvoicePeriod,
    Outcome,
    Party,
    PartyShare,
    PriceList,
    PriceListItem,
    ResponsibilityObject,
    Subscription,
)
from brygga.economy.money import from_ore, largest_remainder, spread_over_months, to_ore
from brygga.organisations.models import Municipality, Organisation, PopulationFigure

HUNDRED = Decimal(100)


def fmt_percent(value: Decimal) -> str:
    """90.0000 → "90", 33.3333 → "33,3333" (Swedish decimal comma, never an exponent)."""
    return format(value.normalize(), "f").replace(".", ",")


# --- Money input ------------------------------------------------------------------------------------------


def parse_amount(raw: Decimal | int | str, field: str = "amount") -> Decimal:
    """R-ECO-5: kronor with at most two decimals (öre), not negative. Accepts "1 234,50" as typed."""
    text = str(raw).replace("\u00a0", "").replace(" ", "").replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise DomainError.single(field, "R-ECO-5", _("”%s” är inget belopp.") % raw) from None
    if not value.is_finite() or value < 0:
        raise DomainError.single(field, "R-ECO-5", _("Beloppet får inte vara negativt."))
    if value != value.quantize(Decimal("0.01")):
        raise DomainError.single(field, "R-ECO-5", _("Beloppet anges i hela ören (högst två decimaler)."))
    return value.quantize(Decimal("0.01"))


# --- Financing keys ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyPartInput:
    party: str
    percent: Decimal | str | int
    financier: str = ""


def save_financing_key(
    actor: Actor | None, code: str, name: str, parts: Iterable[KeyPartInput], description: str = ""
) -> FinancingKey:
    """Create or replace a key. R-ECO-1: the parts must sum to exactly 100 %; nothing is written otherwise."""
    if actor is not None:
        actor.require(Perm.ECONOMY_MANAGE)
    parts = list(parts)
    problems: list[Problem] = []
    if not code.strip() or not name.strip():
        problems.append(Problem("code" if not code.strip() else "name", "R-ECO-1", _("Ange kod och namn.")))
    if not parts:
        problems.append(Problem("parts", "R-ECO-1", _("Nyckeln behöver minst en part.")))
    total = Decimal(0)
    seen: set[tuple[str, str]] = set()
    for i, part in enumerate(parts):
        if part.party not in Party.values:
            problems.append(Problem(f"parts.{i}.party", "R-ECO-1", _("Okänd part: %s.") % part.party))
            continue
        try:
            percent = Decimal(str(part.percent).replace(",", "."))
        except InvalidOperation:
            problems.append(Problem(f"parts.{i}.percent", "R-ECO-1", _("Andelen är inget tal.")))
            continue
        if percent <= 0 or percent > HUNDRED:
            problems.append(
                Problem(f"parts.{i}.percent", "R-ECO-1", _("En andel ska vara större än 0 och högst 100 %."))
            )
        if part.party == Party.OTHER and not part.financier.strip():
            problems.append(
                Problem(f"parts.{i}.financier", "R-ECO-1", _("Ange vilken annan finansiär som betalar."))
            )
        if (part.party, part.financier) in seen:
            problems.append(Problem(f"parts.{i}.party", "R-ECO-1", _("Samma part finns två gånger.")))
        seen.add((part.party, part.financier))
        total += percent
    if not problems and total != HUNDRED:
        problems.append(
            Problem(
                "parts",
                "R-ECO-1",
                _("Fördelningsnyckelns andelar summerar till %(total)s %%, de ska summera till exakt 100 %%.")
                % {"total": fmt_percent(total)},
            )
        )
    if problems:
        raise DomainError(problems)
    with transaction.atomic():
        key, _created = FinancingKey.objects.update_or_create(
            code=code, defaults={"name": name, "description": description}
        )
        key.parts.all().delete()
        for part in parts:
            FinancingKeyPart.objects.create(
                key=key,
                party=part.party,
                financier=part.financier.strip(),
                percent=Decimal(str(part.percent)),
            )
        for budget in Budget.objects.filter(lines__key=key).distinct():
            recalculate_budget(budget)
        _record(
            actor,
            "key_saved",
            f"{key.code}: {key.name}",
            parts="; ".join(f"{p.party} {p.financier} {p.percent}".replace("  ", " ") for p in parts),
        )
    return key


# --- Budgets ----------------------------------------------------------------------------------------------


def create_budget(
    actor: Actor | None,
    responsibility_object: ResponsibilityObject,
    year: int,
    title: str,
    population_year: int | None = None,
    source: str = "",
) -> Budget:
    if actor is not None:
        actor.require(Perm.ECONOMY_MANAGE)
    if Budget.objects.filter(responsibility_object=responsibility_object, year=year).exists():
        raise DomainError.single(
            "year",
            "R-ECO-BUDGET",
            _("Det finns redan en budget för %(obj)s %(year)d.")
            % {"obj": responsibility_object, "year": year},
        )
    return Budget.objects.create(
        responsibility_object=responsibility_object,
        year=year,
        title=title,
        population_year=population_year or year,
        source=source,
    )


def add_line(
    actor: Actor | None,
    budget: Budget,
    name: str,
    amount: Decimal | int | str,
    key: FinancingKey | None = None,
    price_list: PriceList | None = None,
    note: str = "",
) -> BudgetLine:
    if actor is not None:
        actor.require(Perm.ECONOMY_MANAGE)
    value = parse_amount(amount)
    if not name.strip():
        raise DomainError.single("name", "R-ECO-LINE", _("Budgetraden behöver en benämning."))
    if key is not None and price_list is not None:
        raise DomainError.single(
            "key",
            "R-ECO-2",
            _("En budgetrad finansieras av en fördelningsnyckel eller en prislista, inte båda."),
        )
    if budget.status == Budget.Status.ADOPTED:
        raise DomainError.single("budget", "R-ECO-ADOPTED", _("Budgeten är beslutad och kan inte ändras."))
    with transaction.atomic():
        position = (budget.lines.count() + 1) * 10
        line = BudgetLine.objects.create(
            budget=budget,
            position=position,
            name=name.strip(),
            amount=value,
            key=key,
            price_list=price_list,
            note=note,
        )
        recalculate_budget(budget)
        _record(actor, "line_added", f"{budget}: {line.name}", budget, amount=value)
    return line


@dataclass
class ShareRow:
    party: str
    organisation: Organisation | None
    financier: str
    ore: int

    @property
    def recipient(self) -> str:
        if self.organisation is not None:
            return self.organisation.short_name or self.organisation.name
        return self.financier or str(Party(self.party).label)

    @property
    def amount(self) -> Decimal:
        return from_ore(self.ore)


def population_weights(year: int) -> list[tuple[Municipality, int]]:
    """R-ECO-3: the population of every municipality for ``year``, or a refusal naming the gap."""
    figures = {
        f.municipality_id: f.population
        for f in PopulationFigure.objects.filter(year=year).only("municipality_id", "population")
    }
    municipalities = list(Municipality.objects.select_related("organisation").order_by("scb_code"))
    missing = [m for m in municipalities if m.pk not in figures]
    if missing:
        names = ", ".join(m.name for m in missing[:5]) + (" …" if len(missing) > 5 else "")
        raise DomainError.single(
            "population_year",
            "R-ECO-3",
            _(
                "Folkmängd för år %(year)d är inte importerad för %(n)d kommuner (%(names)s). "
                "Importera SCB:s "
                "siffror för året innan kommunernas andel kan fördelas."
            )
            % {"year": year, "n": len(missing), "names": names},
        )
    return [(m, figures[m.pk]) for m in municipalities]


def _region() -> Organisation:
    return Organisation.objects.get(kind=Organisation.Kind.REGION)


def _vastkom() -> Organisation:
    return Organisation.objects.get(kind=Organisation.Kind.MUNICIPAL_COOPERATION)


def line_problems(line: BudgetLine) -> list[Problem]:
    """Flags for one line (R-ECO-1, R-ECO-2). Empty when the line is financed exactly."""
    where = f"line-{line.pk}"
    if line.key_id is None and line.price_list_id is None:
        return [
            Problem(
                where,
                "R-ECO-2",
                _("%(name)s (%(amount)s kr) saknar finansiering: ingen fördelningsnyckel eller prislista.")
                % {"name": line.name, "amount": line.amount},
            )
        ]
    if line.key_id is not None:
        assert line.key is not None
        total = line.key.percent_total
        if total != HUNDRED:
            return [
                Problem(
                    where,
                    "R-ECO-1",
                    _("Nyckeln %(key)s summerar till %(total)s %%, inte 100 %%.")
                    % {"key": line.key.name, "total": fmt_percent(total)},
                )
            ]
        return []
    assert line.price_list is not None
    charged = sum(
        (s.amount for item in line.price_list.items.all() for s in item.subscriptions.all()), Decimal(0)
    )
    if charged != line.amount:
        return [
            Problem(
                where,
                "R-ECO-2",
                _(
                    "%(name)s: prislistan %(list)s ger %(charged)s kr men raden är %(amount)s kr "
                    "(skillnad %(diff)s kr)."
                )
                % {
                    "name": line.name,
                    "list": line.price_list.name,
                    "charged": charged,
                    "amount": line.amount,
                    "diff": line.amount - charged,
                },
            )
        ]
    return []


def line_shares(line: BudgetLine, per_municipality: bool = True) -> list[ShareRow]:
    """The yearly share of every paying party in one line, in öre, summing exactly to the line amount.
    With ``per_municipality`` the municipal share is split among the 49 by population (R-ECO-3); without, it
    is one row for the municipalities together (VGK). Refuses (R-ECO-1/2/3) rather than returning a split
    that does not cover the line."""
    problems = line_problems(line)
    if problems:
        raise DomainError(problems)
    total = to_ore(line.amount)
    if line.price_list_id is not None:
        assert line.price_list is not None
        per_org: dict[int, int] = defaultdict(int)
        orgs: dict[int, Organisation] = {}
        for item in line.price_list.items.all():
            for sub in item.subscriptions.select_related("organisation"):
                per_org[sub.organisation_id] += to_ore(sub.amount)
                orgs[sub.organisation_id] = sub.organisation
        return [
            ShareRow(
                Party.MUNICIPALITIES if orgs[pk].kind == Organisation.Kind.MUNICIPALITY else Party.OTHER,
                orgs[pk],
                "",
                ore,
            )
            for pk, ore in sorted(per_org.items(), key=lambda kv: orgs[kv[0]].name)
        ]
    assert line.key is not None
    parts = list(line.key.parts.all())
    split = largest_remainder(total, [(p.pk, p.percent) for p in parts])
    rows: list[ShareRow] = []
    for part in parts:
        ore = split[part.pk]
        if part.party == Party.REGION:
            rows.append(ShareRow(Party.REGION, _region(), "", ore))
        elif part.party == Party.VASTKOM:
            rows.append(ShareRow(Party.VASTKOM, _vastkom(), "", ore))
        elif part.party == Party.OTHER:
            rows.append(ShareRow(Party.OTHER, None, part.financier, ore))
        elif not per_municipality:
            rows.append(ShareRow(Party.MUNICIPALITIES, None, _("Kommunerna (VGK)"), ore))
        else:
            weights = population_weights(line.budget.population_year)
            by_municipality = largest_remainder(ore, [(m.pk, pop) for m, pop in weights])
            rows.extend(
                ShareRow(Party.MUNICIPALITIES, m.organisation, "", by_municipality[m.pk])
                for m, _pop in weights
            )
    return rows


def budget_problems(budget: Budget) -> list[Problem]:
    """Every flag on a budget: unfunded or mis-financed lines, and a missing population year."""
    problems: list[Problem] = []
    needs_population = False
    for line in budget.lines.select_related("key", "price_list"):
        problems.extend(line_problems(line))
        if line.key_id and any(p.party == Party.MUNICIPALITIES for p in line.key.parts.all()):  # type: ignore[union-attr]
            needs_population = True
    if needs_population:
        try:
            population_weights(budget.population_year)
        except DomainError as exc:
            problems.extend(exc.problems)
    return problems


def recalculate_budget(budget: Budget) -> Budget:
    """Store the budget total and every line's party shares (the municipal share as one row for VGK; the split
    among the 49 is made when invoicing, by the population year). Lines that cannot be split keep no shares
    (and are flagged by budget_problems); the stored shares of the others always sum to their line."""
    with transaction.atomic():
        budget.total = budget.lines.aggregate(s=Sum("amount"))["s"] or Decimal("0.00")
        budget.save(update_fields=["total"])
        PartyShare.objects.filter(line__budget=budget).delete()
        for line in budget.lines.select_related("key", "price_list", "budget"):
            try:
                rows = line_shares(line, per_municipality=False)
            except DomainError:
                continue
            PartyShare.objects.bulk_create(
                PartyShare(
                    line=line,
                    party=r.party,
                    organisation=r.organisation,
                    financier=r.financier,
                    amount=r.amount,
                )
                for r in rows
            )
    return budget


def party_columns(budget: Budget) -> dict[str, Decimal]:
    """The budget's stored shares summed per party column, as the seed tables present them."""
    totals = {p.value: Decimal("0.00") for p in Party}
    for row in PartyShare.objects.filter(line__budget=budget).values("party").annotate(s=Sum("amount")):
        totals[row["party"]] = Decimal(row["s"]).quantize(Decimal("0.01"))
    return totals


def adopt_budget(actor: Actor, budget: Budget) -> Budget:
    actor.require(Perm.ECONOMY_MANAGE)
    problems = budget_problems(budget)
    if problems:
        raise DomainError(problems)
    budget.status = Budget.Status.ADOPTED
    budget.adopted_at = timezone.now()
    budget.save(update_fields=["status", "adopted_at"])
    return budget


# --- Invoices ---------------------------------------------------------------------------------------------


@dataclass
class MonthlySplit:
    """One month's amounts per party for one budget: {(party, organisation id, financier): {line id: öre}}."""

    by_party: dict[tuple[str, int | None, str], dict[int, int]]
    recipients: dict[tuple[str, int | None, str], ShareRow]


def monthly_split(budget: Budget, month: int) -> MonthlySplit:
    """The amounts of ``month`` for every party. Each line's yearly amount is spread over twelve months, and
    the cumulative amount through each month is split among the parties by largest remainder; a month's
    invoice is the difference of two cumulative splits. So every month the parties sum exactly to the
    month's total, and over the year each party pays exactly its yearly share."""
    problems = budget_problems(budget)
    if problems:
        raise DomainError(problems)
    by_party: dict[tuple[str, int | None, str], dict[int, int]] = defaultdict(dict)
    recipients: dict[tuple[str, int | None, str], ShareRow] = {}
    for line in budget.lines.select_related("key", "price_list", "budget"):
        rows = line_shares(line)
        months = spread_over_months(to_ore(line.amount))
        through = sum(months[:month])
        before = sum(months[: month - 1])
        keyed = [((r.party, r.organisation.pk if r.organisation else None, r.financier), r) for r in rows]
        weights = [(k, r.ore) for k, r in keyed if r.ore > 0]
        if not weights:
            continue
        cum_now = largest_remainder(through, weights)
        cum_before = largest_remainder(before, weights)
        for k, r in keyed:
            if r.ore <= 0:
                continue
            by_party[k][line.pk] = cum_now[k] - cum_before[k]
            recipients[k] = r
    return MonthlySplit(by_party=dict(by_party), recipients=recipients)


def invoice_period(year: int, month: int) -> InvoicePeriod:
    if not 1 <= month <= 12:
        raise DomainError.single("month", "R-ECO-6", _("Månaden ska vara 1–12."))
    period, _created = InvoicePeriod.objects.get_or_create(year=year, month=month)
    return period


def create_invoices(actor: Actor | None, budget: Budget, month: int) -> list[Invoice]:
    """Create (or, in an open period, replace) the month's invoices of a budget: one per paying party.
    Refused for a closed period (R-ECO-4), a month outside 1–12 (R-ECO-6), a budget with flags
    (R-ECO-1/2/3) or a budget that is not adopted (R-ECO-7: money only from what was decided); a refusal
    writes nothing."""
    if actor is not None:
        actor.require(Perm.ECONOMY_MANAGE)
    with transaction.atomic():
        period = invoice_period(budget.year, month)
        period = InvoicePeriod.objects.select_for_update().get(pk=period.pk)
        if period.is_closed:
            raise DomainError.single(
                "month",
                "R-ECO-4",
                _("Perioden %(period)s är stängd; fakturor kan inte skapas eller ändras.")
                % {"period": period},
            )
        split = monthly_split(budget, month)
        budget = Budget.objects.select_for_update().get(pk=budget.pk)  # its status as of now, held
        if budget.status != Budget.Status.ADOPTED:
            raise DomainError.single(
                "budget",
                "R-ECO-7",
                _(
                    "Fakturor skapas bara från en beslutad budget. Budgeten är %(status)s; den beslutas "
                    "först i forumet (beslutsvägen)."
                )
                % {"status": budget.get_status_display().lower()},
                status=409,
            )
        Invoice.objects.filter(budget=budget, period=period).delete()
        invoices = []
        for k, amounts in sorted(split.by_party.items(), key=lambda kv: split.recipients[kv[0]].recipient):
            share = split.recipients[k]
            invoice = Invoice.objects.create(
                budget=budget,
                period=period,
                party=share.party,
                organisation=share.organisation,
                recipient=share.recipient,
                total=from_ore(sum(amounts.values())),
            )
            InvoiceLine.objects.bulk_create(
                InvoiceLine(invoice=invoice, budget_line_id=line_id, amount=from_ore(ore))
                for line_id, ore in amounts.items()
            )
            invoices.append(invoice)
    return invoices


def close_period(actor: Actor | None, year: int, month: int) -> InvoicePeriod:
    if actor is not None:
        actor.require(Perm.ECONOMY_MANAGE)
    with transaction.atomic():
        period = InvoicePeriod.objects.select_for_update().get(pk=invoice_period(year, month).pk)
        if period.is_closed:
            raise DomainError.single("month", "R-ECO-4", _("Perioden %s är redan stängd.") % period)
        period.closed_at = timezone.now()
        period.closed_by = actor.user if actor else None
        period.save(update_fields=["closed_at", "closed_by"])
    return period


# --- Follow-up --------------------------------------------------------------------------------------------


def record_outcome(actor: Actor | None, line: BudgetLine, month: int, amount: Decimal | str) -> Outcome:
    if actor is not None:
        actor.require(Perm.ECONOMY_MANAGE)
    if not 1 <= month <= 12:
        raise DomainError.single("month", "R-ECO-6", _("Månaden ska vara 1–12."))
    outcome, _created = Outcome.objects.update_or_create(
        line=line, month=month, defaults={"amount": parse_amount(amount)}
    )
    return outcome


@dataclass
class LineFollowUp:
    line: BudgetLine
    budget: Decimal
    outcome: Decimal

    @property
    def difference(self) -> Decimal:
        """Positive: surplus (less spent than budgeted)."""
        return self.budget - self.outcome


def outcome_against_budget(budget: Budget) -> list[LineFollowUp]:
    sums = dict(Outcome.objects.filter(line__budget=budget).values_list("line").annotate(s=Sum("amount")))
    return [
        LineFollowUp(line, line.amount, sums.get(line.pk, Decimal("0.00"))) for line in budget.lines.all()
    ]


def redistribution(line: BudgetLine, amount: Decimal | str) -> list[ShareRow]:
    """How a surplus (positive) or deficit of a line is returned to or charged from the parties: by the same
    key as the line (e.g. the SITHS card fees' yearly surplus back to the principals), exact to the öre."""
    value = parse_amount(amount, "amount")
    rows = line_shares(line)
    weights = [(i, r.ore) for i, r in enumerate(rows) if r.ore > 0]
    split = largest_remainder(to_ore(value), weights)
    return [ShareRow(rows[i].party, rows[i].organisation, rows[i].financier, split[i]) for i, _w in weights]


# --- Editing through the pages (every change by a person recorded in ChangeRecord) --------------------------


def _record(
    actor: Actor | None, action: str, subject: str, budget: Budget | None = None, **data: object
) -> None:
    """Seeds and scripts (actor None) are not recorded; a person's change is."""
    if actor is None:
        return
    ChangeRecord.objects.create(
        at=timezone.now(),
        by=actor.user,
        action=action,
        subject=str(subject),
        budget=budget,
        data={k: str(v) for k, v in data.items()},
    )


def _refuse_adopted(budget: Budget, field: str = "budget") -> None:
    if budget.status == Budget.Status.ADOPTED:
        raise DomainError.single(field, "R-ECO-ADOPTED", _("Budgeten är beslutad och kan inte ändras."))


def set_population_year(actor: Actor | None, budget: Budget, year: int | str) -> Budget:
    """Which SCB year splits the municipal share (R-ECO-3). A year that is not imported for all 49 is refused
    here already, so a budget never points at a missing year through the pages."""
    if actor is not None:
        actor.require(Perm.ECONOMY_MANAGE)
    _refuse_adopted(budget, "population_year")
    try:
        value = int(str(year).strip())
    except ValueError:
        raise DomainError.single("population_year", "R-ECO-3", _("Ange ett år, t.ex. 2024.")) from None
    population_weights(value)  # R-ECO-3: refuses a year without all 49 municipalities
    with transaction.atomic():
        old = budget.population_year
        budget.population_year = value
        budget.save(update_fields=["population_year"])
        recalculate_budget(budget)
        _record(actor, "population_year", str(budget), budget, old=old, new=value)
    return budget


def complete_population_years() -> list[int]:
    """The years with a population figure for every one of the 49 municipalities."""
    n = Municipality.objects.count()
    return [
        row["year"]
        for row in PopulationFigure.objects.values("year").annotate(n=Count("municipality")).order_by("-year")
        if row["n"] == n
    ]


def _financing(key: FinancingKey | None, price_list: PriceList | None) -> None:
    if key is not None and price_list is not None:
        raise DomainError.single(
            "financing",
            "R-ECO-2",
            _("En budgetrad finansieras av en fördelningsnyckel eller en prislista, inte båda."),
        )


def update_line(
    actor: Actor | None,
    line: BudgetLine,
    name: str,
    amount: Decimal | int | str,
    key: FinancingKey | None = None,
    price_list: PriceList | None = None,
    note: str = "",
) -> BudgetLine:
    """Change a line of a draft budget: name, amount (R-ECO-5), financing (one key or one price list, R-ECO-2;
    none leaves the line flagged), note. The budget's shares are recalculated."""
    if actor is not None:
        actor.require(Perm.ECONOMY_MANAGE)
    budget = line.budget
    _refuse_adopted(budget)
    problems: list[Problem] = []
    value = None
    try:
        value = parse_amount(amount)
    except DomainError as exc:
        problems += exc.problems
    if not name.strip():
        problems.append(Problem("name", "R-ECO-LINE", _("Budgetraden behöver en benämning.")))
    try:
        _financing(key, price_list)
    except DomainError as exc:
        problems += exc.problems
    if price_list is not None and price_list.year != budget.year:
        problems.append(Problem("financing", "R-ECO-2", _("Prislistan gäller ett annat år än budgeten.")))
    if problems:
        raise DomainError(problems)
    assert value is not None
    with transaction.atomic():
        old = {"name": line.name, "amount": line.amount, "key": line.key_id, "price_list": line.price_list_id}
        line.name, line.amount, line.key, line.price_list, line.note = (
            name.strip(),
            value,
            key,
            price_list,
            note.strip(),
        )
        line.save()
        recalculate_budget(budget)
        _record(
            actor,
            "line_updated",
            f"{budget}: {line.name}",
            budget,
            old=old,
            amount=value,
            key=key.code if key else "",
            price_list=price_list.name if price_list else "",
        )
    return line


def delete_line(actor: Actor | None, line: BudgetLine) -> None:
    """Remove a line from a draft budget; refused for an adopted budget or a line already invoiced."""
    if actor is not None:
        actor.require(Perm.ECONOMY_MANAGE)
    budget = line.budget
    _refuse_adopted(budget)
    if InvoiceLine.objects.filter(budget_line=line).exists():
        raise DomainError.single(
            "line", "R-ECO-4", _("Raden är redan fakturerad och kan inte tas bort; ändra beloppet i stället.")
        )
    with transaction.atomic():
        _record(actor, "line_deleted", f"{budget}: {line.name}", budget, amount=line.amount)
        line.delete()
        recalculate_budget(budget)


def _recalculate_price_list_budgets(price_list: PriceList) -> None:
    for budget in Budget.objects.filter(lines__price_list=price_list).distinct():
        recalculate_budget(budget)


def create_price_list(
    actor: Actor | None,
    responsibility_object: ResponsibilityObject | None,
    year: int | str,
    name: str,
    note: str = "",
) -> PriceList:
    if actor is not None:
        actor.require(Perm.ECONOMY_MANAGE)
    problems: list[Problem] = []
    if responsibility_object is None:
        problems.append(Problem("responsibility_object", "R-ECO-PRICE", _("Välj ansvarsobjekt.")))
    try:
        year_value = int(str(year).strip())
    except ValueError:
        year_value = 0
        problems.append(Problem("year", "R-ECO-PRICE", _("Ange ett år.")))
    if not name.strip():
        problems.append(Problem("name", "R-ECO-PRICE", _("Ange ett namn.")))
    elif PriceList.objects.filter(
        responsibility_object=responsibility_object, year=year_value, name=name.strip()
    ).exists():
        problems.append(
            Problem("name", "R-ECO-PRICE", _("Det finns redan en prislista med det namnet för året."))
        )
    if problems:
        raise DomainError(problems)
    assert responsibility_object is not None
    with transaction.atomic():
        price_list = PriceList.objects.create(
            responsibility_object=responsibility_object, year=year_value, name=name.strip(), note=note.strip()
        )
        _record(actor, "price_list_created", str(price_list))
    return price_list


def save_price_item(
    actor: Actor | None,
    price_list: PriceList,
    name: str,
    unit_price: Decimal | str,
    unit: str = "år",
    item: PriceListItem | None = None,
) -> PriceListItem:
    """Add or change a price on a list (R-ECO-5 for the price). Lines financed by the list are recalculated,
    and flagged (R-ECO-2) if the charges no longer equal them."""
    if actor is not None:
        actor.require(Perm.ECONOMY_MANAGE)
    problems: list[Problem] = []
    price = None
    try:
        price = parse_amount(unit_price, "unit_price")
    except DomainError as exc:
        problems += exc.problems
    if not name.strip():
        problems.append(Problem("name", "R-ECO-PRICE", _("Ange vad priset gäller.")))
    if problems:
        raise DomainError(problems)
    assert price is not None
    with transaction.atomic():
        if item is None:
            item = PriceListItem.objects.create(
                price_list=price_list, name=name.strip(), unit=unit.strip() or "år", unit_price=price
            )
        else:
            item.name, item.unit, item.unit_price = name.strip(), unit.strip() or "år", price
            item.save()
        _recalculate_price_list_budgets(price_list)
        _record(actor, "price_saved", f"{price_list}: {item.name}", unit_price=price)
    return item


def delete_price_item(actor: Actor | None, item: PriceListItem) -> None:
    if actor is not None:
        actor.require(Perm.ECONOMY_MANAGE)
    price_list = item.price_list
    with transaction.atomic():
        _record(actor, "price_deleted", f"{price_list}: {item.name}")
        item.delete()
        _recalculate_price_list_budgets(price_list)


def set_usage(
    actor: Actor | None, item: PriceListItem, organisation: Organisation | None, quantity: Decimal | str
) -> Subscription | None:
    """Set one organisation's use of a priced service (a usage row). Quantity 0 removes the row; a negative
    or non-numeric quantity is refused (R-ECO-5)."""
    if actor is not None:
        actor.require(Perm.ECONOMY_MANAGE)
    problems: list[Problem] = []
    if organisation is None:
        problems.append(Problem("organisation", "R-ECO-PRICE", _("Välj kommun eller organisation.")))
    try:
        value = Decimal(str(quantity).strip().replace(",", ".") or "x")
        if value < 0 or value != value.quantize(Decimal("0.01")):
            raise InvalidOperation
    except InvalidOperation:
        value = Decimal(0)
        problems.append(
            Problem(
                "quantity", "R-ECO-5", _("Antalet ska vara ett tal, 0 eller större, med högst två decimaler.")
            )
        )
    if problems:
        raise DomainError(problems)
    assert organisation is not None
    with transaction.atomic():
        if value == 0:
            Subscription.objects.filter(item=item, organisation=organisation).delete()
            row = None
        else:
            row, _created = Subscription.objects.update_or_create(
                item=item, organisation=organisation, defaults={"quantity": value}
            )
        _recalculate_price_list_budgets(item.price_list)
        _record(actor, "usage_set", f"{item.price_list}: {item.name}: {organisation}", quantity=value)
    return row
