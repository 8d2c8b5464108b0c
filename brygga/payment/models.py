"""Payment responsibility: rules as dated, versioned configuration; Socialstyrelsen's amount per year with its
source; stored settlement runs with their exact inputs, their lines and the municipality's disputes."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Sum
from django.utils.translation import gettext_lazy as _

from brygga.payment.engine import DayZero, LineKind, RuleKind, RuleParams, RuleScope
from brygga.payment.facts import CareType


def cents(value: Decimal | None) -> Decimal:
    """A database sum as kronor and öre (SQLite returns sums without their scale)."""
    return Decimal(value or 0).quantize(Decimal("0.01"))


class PaymentRule(models.Model):
    """One version of one payment rule. A version that a settlement has used is never changed: a change is a
    new version (services.add_rule_version), and every settlement line names the version it applied."""

    code = models.SlugField(_("kod"), max_length=60)
    version = models.PositiveIntegerField(_("version"))
    name = models.CharField(_("namn"), max_length=200)
    kind = models.CharField(
        _("modell"),
        max_length=20,
        choices=[(RuleKind.INDIVIDUAL, _("Individuell")), (RuleKind.AVERAGE, _("Medelvärdesmodell"))],
    )
    scope = models.CharField(
        _("grund"),
        max_length=20,
        choices=[(RuleScope.NATIONAL, _("Lagens förval")), (RuleScope.AGREEMENT, _("Överenskommelse"))],
    )
    care_type = models.CharField(
        _("vårdform"),
        max_length=20,
        blank=True,
        choices=[(CareType.SOMATIC, _("Somatisk vård")), (CareType.PSYCHIATRIC, _("Psykiatrisk vård"))],
        help_text=_("Tomt: gäller all slutenvård."),
    )
    valid_from = models.DateField(_("gäller från"))
    valid_to = models.DateField(_("gäller till och med"), null=True, blank=True)
    rule_ids = models.CharField(_("regel-id"), max_length=200)
    source = models.TextField(_("källa"))
    free_days = models.PositiveSmallIntegerField(_("kalenderdagar innan ansvaret börjar"), default=3)
    requires_sip_summons = models.BooleanField(_("kräver SIP-kallelse om behov finns"), default=False)
    average_threshold = models.DecimalField(
        _("tröskel för medelvärdet (dagar)"), max_digits=5, decimal_places=2, default=Decimal("3.0")
    )
    long_stay_days = models.PositiveSmallIntegerField(
        _("individuell beräkning efter fler än (dagar)"), default=7
    )
    long_stay_free_days = models.PositiveSmallIntegerField(
        _("fria dagar vid individuell beräkning"), default=3
    )
    day_zero = models.CharField(
        _("dag 0"),
        max_length=30,
        default=DayZero.NOTICE_DAY_IS_ZERO,
        choices=[
            (DayZero.NOTICE_DAY_IS_ZERO, _("Meddelandedagen är dag 0")),
            (DayZero.NOTICE_DAY_IS_ONE, _("Meddelandedagen är dag 1")),
        ],
    )
    window_months = models.PositiveSmallIntegerField(
        _("avräkningsfönster (månader)"), default=1, choices=[(1, "1"), (3, "3")]
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["valid_from", "code", "version"]
        constraints = [models.UniqueConstraint(fields=["code", "version"], name="payment_rule_code_version")]
        verbose_name = _("betalningsregel")
        verbose_name_plural = _("betalningsregler")

    def __str__(self) -> str:
        return f"{self.code} v{self.version}"

    def params(self) -> RuleParams:
        return RuleParams(
            code=self.code,
            version=self.version,
            name=self.name,
            kind=RuleKind(self.kind),
            scope=RuleScope(self.scope),
            care_type=CareType(self.care_type) if self.care_type else None,
            valid_from=self.valid_from,
            valid_to=self.valid_to,
            rule_ids=self.rule_ids,
            free_days=self.free_days,
            requires_sip_summons=self.requires_sip_summons,
            average_threshold=Decimal(self.average_threshold),
            long_stay_days=self.long_stay_days,
            long_stay_free_days=self.long_stay_free_days,
            day_zero=DayZero(self.day_zero),
            window_months=self.window_months,
        )


class DailyAmount(models.Model):
    """Socialstyrelsen's amount per vårddygn for a calendar year (R-BET-3/4). Recording a new amount for a
    year keeps the old row: the newest row is the one in force; settlements keep the amount they used."""

    year = models.PositiveSmallIntegerField(_("år"))
    amount = models.DecimalField(_("belopp per vårddygn (kr)"), max_digits=10, decimal_places=2)
    source = models.CharField(_("föreskrift"), max_length=100, help_text=_("t.ex. HSLF-FS 2018:67"))
    source_url = models.URLField(_("källa (adress)"), max_length=500, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["year", "-recorded_at", "-id"]
        verbose_name = _("belopp per vårddygn")
        verbose_name_plural = _("belopp per vårddygn")

    def __str__(self) -> str:
        return f"{self.year}: {self.amount} kr"


class SettlementRun(models.Model):
    """One calculation of one municipality's month, stored with everything it was computed from: the facts,
    the rule versions and the amount. ``services.reproduce`` recomputes it from these alone."""

    class Status(models.TextChoices):
        OPEN = "open", _("Öppen")
        CLOSED = "closed", _("Stängd")
        SUPERSEDED = "superseded", _("Ersatt")

    class Source(models.TextChoices):
        """Where the run's facts came from; shown on the invoice basis."""

        CASES = "cases", _("Ärendena i brygga")
        SUPPLIED = "supplied", _("Inlämnat underlag (API eller fil)")
        DEMO = "demo", _("Påhittade demovistelser")

    municipality = models.ForeignKey(
        "organisations.Municipality", on_delete=models.PROTECT, related_name="settlements"
    )
    year = models.PositiveSmallIntegerField(_("år"))
    month = models.PositiveSmallIntegerField(_("månad"))
    sequence = models.PositiveIntegerField(_("körning"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.OPEN)
    facts = models.JSONField(_("underlag"))
    rules = models.JSONField(_("regelversioner"))
    amount_per_day = models.DecimalField(
        _("belopp per vårddygn"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    amount_source = models.CharField(_("beloppets källa"), max_length=100, blank=True)
    problems = models.JSONField(_("dataproblem"), default=list)
    input_digest = models.CharField(max_length=64)
    engine_version = models.CharField(max_length=20)
    source = models.CharField(
        _("underlagets källa"), max_length=20, choices=Source.choices, default=Source.SUPPLIED
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-year", "-month", "municipality__name", "-sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "year", "month", "sequence"], name="payment_run_sequence"
            )
        ]
        indexes = [models.Index(fields=["year", "month", "status"])]
        verbose_name = _("avräkning")
        verbose_name_plural = _("avräkningar")

    def __str__(self) -> str:
        return f"{self.municipality} {self.year}-{self.month:02d} #{self.sequence}"

    @property
    def period(self) -> str:
        return f"{self.year}-{self.month:02d}"

    @property
    def has_blocking_problems(self) -> bool:
        return any(p.get("blocking") for p in self.problems)

    def totals(self) -> dict[str, Decimal | None]:
        """Summed by the database. The amount is None when it could not be computed (no amount for the
        year)."""
        sums = self.lines.aggregate(days=Sum("payable_days"), amount=Sum("amount"))
        return {
            "payable_days": cents(sums["days"]),
            "amount": cents(sums["amount"]) if self.amount_per_day is not None else None,
        }


class SettlementLine(models.Model):
    run = models.ForeignKey(SettlementRun, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField()
    case_reference = models.CharField(_("ärende"), max_length=60, blank=True)
    kind = models.CharField(
        _("typ"),
        max_length=20,
        choices=[
            (LineKind.INDIVIDUAL, _("Individuell beräkning")),
            (LineKind.AVERAGE_MEMBER, _("Ingår i medelvärdet")),
            (LineKind.LONG_STAY, _("Över sju dagar, individuell")),
            (LineKind.AVERAGE_EXCESS, _("Dagar över medelvärdet")),
            (LineKind.EXCLUDED, _("Undantaget")),
        ],
    )
    rule_label = models.CharField(_("regel"), max_length=80, blank=True)
    notice_date = models.DateField(_("meddelande utskrivningsklar"), null=True, blank=True)
    discharge_date = models.DateField(_("utskriven"), null=True, blank=True)
    days = models.IntegerField(_("dagar"), null=True, blank=True)
    payable_days = models.DecimalField(_("betaldagar"), max_digits=9, decimal_places=2, default=Decimal("0"))
    amount = models.DecimalField(_("belopp"), max_digits=12, decimal_places=2, null=True, blank=True)
    exclusion_rule = models.CharField(_("undantagsregel"), max_length=40, blank=True)
    exclusion_reason = models.CharField(_("skäl"), max_length=300, blank=True)
    explanation = models.CharField(_("förklaring"), max_length=400, blank=True)

    class Meta:
        ordering = ["run", "position"]
        constraints = [models.UniqueConstraint(fields=["run", "position"], name="payment_line_position")]
        verbose_name = _("avräkningsrad")
        verbose_name_plural = _("avräkningsrader")

    def __str__(self) -> str:
        return f"{self.run} {self.case_reference or self.kind}"

    @property
    def is_excluded(self) -> bool:
        return self.kind == LineKind.EXCLUDED


class Dispute(models.Model):
    """The municipality disputes one line of a settlement with a comment; the region resolves it. The agreed
    invoicing and dispute routine is an open question (rules.md §9.3): this is a minimal recorded workflow."""

    class Status(models.TextChoices):
        OPEN = "open", _("Öppen")
        ACCEPTED = "accepted", _("Godtagen")
        REJECTED = "rejected", _("Avslagen")

    line = models.ForeignKey(SettlementLine, on_delete=models.PROTECT, related_name="disputes")
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.OPEN)
    comment = models.TextField(_("kommentar"))
    raised_at = models.DateTimeField(auto_now_add=True)
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    raised_unit = models.ForeignKey("organisations.Unit", on_delete=models.PROTECT, related_name="+")
    resolution = models.TextField(_("beslut"), blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["raised_at", "id"]
        verbose_name = _("tvist")
        verbose_name_plural = _("tvister")

    def __str__(self) -> str:
        return f"Tvist {self.pk} ({self.status})"


class ExportFile(models.Model):
    """A run's invoice basis as a file built by the background worker (issue 17 item 4): a large
    municipality's basis takes seconds to build, which must not hold a web worker. One file per run, format
    and run status (the summary names the status), so a second request, a double click or a retry finds the
    same file instead of building another."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("I kö")
        RUNNING = "running", _("Byggs")
        DONE = "done", _("Klar")
        FAILED = "failed", _("Misslyckades")

    run = models.ForeignKey(SettlementRun, on_delete=models.CASCADE, related_name="export_files")
    fmt = models.CharField(_("format"), max_length=8)
    run_status = models.CharField(max_length=20)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    storage_name = models.CharField(max_length=200, blank=True)
    size = models.PositiveIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    error = models.CharField(max_length=500, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "fmt", "run_status"], name="payment_export_once")
        ]
        verbose_name = _("underlagsfil")
        verbose_name_plural = _("underlagsfiler")

    def __str__(self) -> str:
        return f"{self.run} {self.fmt} ({self.status})"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return min(99, (100 * self.rows_done) // self.rows_total) if self.rows_total else 0
