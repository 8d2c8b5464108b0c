"""Deviations in the collaboration between region and municipality (avvikelser i samverkan, R-AVV-1..4).

A unit reports that an agreed routine was not followed by another organisation; the receiving organisation
investigates and answers; the reporter closes it. A report holds no personal data (R-AVV-1): a category, a
date, the two organisations, a description checked for identity numbers, and at most a reference text to where
it was raised (e.g. "in- och utskrivningsärende") — never a link to the person's case. Counts per quarter,
category and delregion feed the quarterly report to SITIV, with small counts suppressed."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Category(models.TextChoices):
    """A working classification (the länsgemensam rutin's own structure is not public; rules.md, open question
    7). Kept short and named after the process steps brygga supports."""

    ADMISSION_NOTICE = "admission_notice", _("Inskrivningsmeddelande saknas eller kom sent")
    DISCHARGE_UNPLANNED = "discharge_unplanned", _("Utskrivning utan planering")
    INFORMATION_TRANSFER = "information_transfer", _("Informationsöverföring brister")
    SIP_NOT_CALLED = "sip_not_called", _("SIP ej kallad")
    IT_SUPPORT = "it_support", _("IT-stöd eller driftstörning")
    OTHER = "other", _("Annan avvikelse i samverkan")


class DeviationState(models.TextChoices):
    REPORTED = "reported", _("Rapporterad")
    RECEIVED = "received", _("Mottagen")
    INVESTIGATING = "investigating", _("Under utredning")
    ANSWERED = "answered", _("Besvarad")
    CLOSED = "closed", _("Avslutad")


class Deviation(models.Model):
    number = models.CharField(_("nummer"), max_length=20, unique=True)
    category = models.CharField(_("kategori"), max_length=30, choices=Category.choices)
    occurred_on = models.DateField(_("datum för händelsen"))
    reporting_unit = models.ForeignKey(
        "organisations.Unit",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("rapporterande enhet"),
    )
    # Principals (huvudmän), stored so that visibility does not change if a unit moves.
    reporting_organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    receiving_organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("mottagande organisation"),
    )
    subregion = models.ForeignKey(
        "organisations.Subregion", on_delete=models.PROTECT, related_name="+", verbose_name=_("delregion")
    )
    description = models.TextField(_("beskrivning"))
    source_reference = models.CharField(_("rapporterad från"), max_length=120, blank=True)
    state = models.CharField(
        _("status"), max_length=16, choices=DeviationState.choices, default=DeviationState.REPORTED
    )
    reported_at = models.DateTimeField(_("rapporterad"))
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    receive_due = models.DateField(_("mottas senast"))
    answer_due = models.DateField(_("besvaras senast"))
    answer = models.TextField(_("svar"), blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-reported_at"]
        indexes = [models.Index(fields=["reported_at", "category"])]
        verbose_name = _("avvikelse i samverkan")
        verbose_name_plural = _("avvikelser i samverkan")

    def __str__(self) -> str:
        return self.number


class DeviationEvent(models.Model):
    """Every move, with who made it and in which unit."""

    deviation = models.ForeignKey(Deviation, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey("organisations.Unit", on_delete=models.PROTECT, related_name="+")
    to_state = models.CharField(max_length=16, choices=DeviationState.choices)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.deviation}: {self.to_state}"
