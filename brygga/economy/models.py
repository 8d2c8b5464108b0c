"""The joint function's economy: budgets per year and responsibility object (ansvarsobjekt), budget lines with
financing keys (fördelningsnycklar) or usage-based price lists, and monthly invoices per party.

Money is Decimal kronor with two places; every split is done in whole öre with the largest-remainder method
(brygga.economy.money) and the resulting totals are stored, so a report never re-derives an invoice."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


def money(verbose_name: object = None, **kwargs: object) -> models.DecimalField:  # type: ignore[type-arg]
    """Kronor with öre: Decimal, 14 digits, 2 decimals."""
    return models.DecimalField(verbose_name, max_digits=14, decimal_places=2, **kwargs)  # type: ignore[arg-type]


class ResponsibilityObject(models.Model):
    """An ansvarsobjekt in GITS' budget: a managed object, an assignment or a project with its own budget."""

    code = models.SlugField(_("kod"), max_length=40, unique=True)
    name = models.CharField(_("namn"), max_length=200)
    description = models.TextField(_("beskrivning"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("ansvarsobjekt")
        verbose_name_plural = _("ansvarsobjekt")

    def __str__(self) -> str:
        return self.name


class FinancingKey(models.Model):
    """A fördelningsnyckel: how a cost is split between the parties, e.g. staff 50/50 VGR/VGK, IT 70/30.
    Its parts must sum to exactly 100 % (R-ECO-1); the services refuse anything else."""

    code = models.SlugField(_("kod"), max_length=40, unique=True)
    name = models.CharField(_("namn"), max_length=200)
    description = models.TextField(_("beskrivning"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("fördelningsnyckel")
        verbose_name_plural = _("fördelningsnycklar")

    def __str__(self) -> str:
        return self.name

    @property
    def percent_total(self) -> Decimal:
        return sum((p.percent for p in self.parts.all()), Decimal(0))


class Party(models.TextChoices):
    """Who pays a part of a key. MUNICIPALITIES is the 49 municipalities together (VGK), split among them by
    SCB population of the budget's population year; VASTKOM is invoiced as one party."""

    REGION = "region", _("Västra Götalandsregionen (VGR)")
    MUNICIPALITIES = "municipalities", _("Kommunerna (VGK), fördelat efter folkmängd")
    VASTKOM = "vastkom", _("VästKom")
    OTHER = "other", _("Annan finansiär")


class FinancingKeyPart(models.Model):
    key = models.ForeignKey(FinancingKey, on_delete=models.CASCADE, related_name="parts")
    party = models.CharField(_("part"), max_length=20, choices=Party.choices)
    financier = models.CharField(
        _("finansiär"), max_length=120, blank=True, help_text=_("Namn på annan finansiär, t.ex. SITIV.")
    )
    percent = models.DecimalField(_("andel (%)"), max_digits=7, decimal_places=4)

    class Meta:
        ordering = ["key", "-percent", "party"]
        constraints = [
            models.UniqueConstraint(fields=["key", "party", "financier"], name="one_part_per_party_and_key"),
            models.CheckConstraint(
                condition=models.Q(percent__gt=0) & models.Q(percent__lte=100), name="key_part_percent_range"
            ),
        ]
        verbose_name = _("del av fördelningsnyckel")
        verbose_name_plural = _("delar av fördelningsnyckel")

    def __str__(self) -> str:
        return f"{self.get_party_display()} {self.percent} %"


class Budget(models.Model):
    """The budget of one responsibility object for one year. The municipal share of its lines is split among
    the 49 municipalities by the population figures of ``population_year`` (by default the budget year)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Förslag")
        ADOPTED = "adopted", _("Beslutad")

    responsibility_object = models.ForeignKey(
        ResponsibilityObject,
        on_delete=models.PROTECT,
        related_name="budgets",
        verbose_name=_("ansvarsobjekt"),
    )
    year = models.PositiveSmallIntegerField(_("år"))
    title = models.CharField(_("rubrik"), max_length=200)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    population_year = models.PositiveSmallIntegerField(_("folkmängd från år"))
    source = models.CharField(_("källa"), max_length=300, blank=True)
    # Totals kept in the database; written only by services.recalculate_budget.
    total = money(_("totalt"), default=Decimal("0.00"))
    adopted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-year", "responsibility_object__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["responsibility_object", "year"], name="one_budget_per_object_year"
            )
        ]
        verbose_name = _("budget")
        verbose_name_plural = _("budgetar")

    def __str__(self) -> str:
        return f"{self.responsibility_object} {self.year}"


class PriceList(models.Model):
    """A usage-based price list for a service only some municipalities buy (open data platform, Bibblix)."""

    responsibility_object = models.ForeignKey(
        ResponsibilityObject, on_delete=models.PROTECT, related_name="price_lists"
    )
    year = models.PositiveSmallIntegerField(_("år"))
    name = models.CharField(_("namn"), max_length=200)
    note = models.TextField(_("anmärkning"), blank=True)

    class Meta:
        ordering = ["-year", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["responsibility_object", "year", "name"], name="one_price_list_name"
            )
        ]
        verbose_name = _("prislista")
        verbose_name_plural = _("prislistor")

    def __str__(self) -> str:
        return f"{self.name} {self.year}"


class PriceListItem(models.Model):
    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="items")
    name = models.CharField(_("tjänst"), max_length=200)
    unit = models.CharField(_("enhet"), max_length=60, default="år")
    unit_price = money(_("pris per enhet"))

    class Meta:
        ordering = ["price_list", "name"]
        verbose_name = _("pris")
        verbose_name_plural = _("priser")

    def __str__(self) -> str:
        return f"{self.name}: {self.unit_price} kr/{self.unit}"


class Subscription(models.Model):
    """One municipality's (or other organisation's) use of a priced service in a year."""

    item = models.ForeignKey(PriceListItem, on_delete=models.CASCADE, related_name="subscriptions")
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="economy_subscriptions"
    )
    quantity = models.DecimalField(_("antal"), max_digits=10, decimal_places=2, default=Decimal("1"))

    class Meta:
        ordering = ["item", "organisation__name"]
        constraints = [
            models.UniqueConstraint(fields=["item", "organisation"], name="one_subscription_per_item_org")
        ]
        verbose_name = _("abonnemang")
        verbose_name_plural = _("abonnemang")

    def __str__(self) -> str:
        return f"{self.item}: {self.organisation} × {self.quantity}"

    @property
    def amount(self) -> Decimal:
        return (self.item.unit_price * self.quantity).quantize(Decimal("0.01"))


class BudgetLine(models.Model):
    """One cost in a budget, financed by exactly one financing key or one price list. A line with neither is
    unfunded and flagged (R-ECO-2); it is never balanced silently."""

    budget = models.ForeignKey(Budget, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(_("ordning"), default=0)
    name = models.CharField(_("benämning"), max_length=200)
    amount = money(_("belopp"))
    key = models.ForeignKey(
        FinancingKey,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="lines",
        verbose_name=_("fördelningsnyckel"),
    )
    price_list = models.ForeignKey(
        PriceList,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="lines",
        verbose_name=_("prislista"),
    )
    note = models.TextField(_("anmärkning"), blank=True)

    class Meta:
        ordering = ["budget", "position", "pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="budget_line_amount_not_negative"),
            models.CheckConstraint(
                condition=models.Q(key__isnull=True) | models.Q(price_list__isnull=True),
                name="budget_line_one_financing",
            ),
        ]
        verbose_name = _("budgetrad")
        verbose_name_plural = _("budgetrader")

    def __str__(self) -> str:
        return self.name


class PartyShare(models.Model):
    """The stored yearly share of one party in one budget line (written by services.recalculate_budget)."""

    line = models.ForeignKey(BudgetLine, on_delete=models.CASCADE, related_name="shares")
    party = models.CharField(max_length=20, choices=Party.choices)
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    financier = models.CharField(max_length=120, blank=True)
    amount = money()

    class Meta:
        ordering = ["line", "party", "organisation__name"]
        verbose_name = _("andel")
        verbose_name_plural = _("andelar")

    def __str__(self) -> str:
        return f"{self.line}: {self.organisation or self.financier or self.party} {self.amount}"


class InvoicePeriod(models.Model):
    """A month that can be invoiced. A closed period is final: no invoice is created or replaced (R-ECO-4)."""

    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField()
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["year", "month"]
        constraints = [
            models.UniqueConstraint(fields=["year", "month"], name="one_invoice_period_per_month"),
            models.CheckConstraint(
                condition=models.Q(month__gte=1, month__lte=12), name="invoice_month_1_12"
            ),
        ]
        verbose_name = _("faktureringsperiod")
        verbose_name_plural = _("faktureringsperioder")

    def __str__(self) -> str:
        return f"{self.year}-{self.month:02d}"

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None


class Invoice(models.Model):
    """One party's monthly invoice for one budget: VGR, VästKom, a municipality or another financier."""

    budget = models.ForeignKey(Budget, on_delete=models.PROTECT, related_name="invoices")
    period = models.ForeignKey(InvoicePeriod, on_delete=models.PROTECT, related_name="invoices")
    party = models.CharField(max_length=20, choices=Party.choices)
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recipient = models.CharField(_("mottagare"), max_length=200)
    total = money()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["period", "budget", "recipient"]
        constraints = [
            models.UniqueConstraint(
                fields=["budget", "period", "party", "organisation", "recipient"],
                name="one_invoice_per_party",
            )
        ]
        verbose_name = _("faktura")
        verbose_name_plural = _("fakturor")

    def __str__(self) -> str:
        return f"{self.recipient} {self.period}"


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    budget_line = models.ForeignKey(BudgetLine, on_delete=models.PROTECT, related_name="+")
    amount = money()

    class Meta:
        ordering = ["invoice", "budget_line__position"]

    def __str__(self) -> str:
        return f"{self.invoice}: {self.budget_line} {self.amount}"


class Outcome(models.Model):
    """The booked outcome (utfall) of a budget line for a month, to follow up against the budget."""

    line = models.ForeignKey(BudgetLine, on_delete=models.CASCADE, related_name="outcomes")
    month = models.PositiveSmallIntegerField()
    amount = money()

    class Meta:
        ordering = ["line", "month"]
        constraints = [models.UniqueConstraint(fields=["line", "month"], name="one_outcome_per_line_month")]

    def __str__(self) -> str:
        return f"{self.line} {self.month}: {self.amount}"


class ChangeRecord(models.Model):
    """Who changed what in the economy through the pages: budget lines, keys, population year, price lists
    and their usage rows. Written by the services in the same transaction as the change."""

    at = models.DateTimeField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    action = models.CharField(max_length=40)
    subject = models.TextField()  # names joined by the service; a record of a change is never cut
    budget = models.ForeignKey(
        Budget, on_delete=models.SET_NULL, null=True, blank=True, related_name="changes"
    )
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("ändring")
        verbose_name_plural = _("ändringar")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}: {self.subject}"
