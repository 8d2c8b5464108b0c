"""The two recorded legal bases for giving information to another principal (R-SEK-1..4): a consent and a
physician's documented harm assessment. ``brygga.consent.services.decide_disclosure`` is the one function that
reads them. The app sits below cases, SIP, messaging and receiving, which all ask it (ADR 0009); the tables
keep the names they had in the SIP app."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from brygga.consent import rules


class Consent(models.Model):
    """A consent to give information to other parties (OSL 12 kap. 2 §), with what it must NOT cover."""

    class GivenBy(models.TextChoices):
        PERSON = "person", _("Personen själv")
        REPRESENTATIVE = "representative", _("Legal företrädare")

    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="consents")
    given_by = models.CharField(_("samtycket lämnades av"), max_length=16, choices=GivenBy.choices)
    representative_name = models.CharField(_("företrädarens namn"), max_length=200, blank=True)
    representative_relation = models.CharField(_("företrädarens roll"), max_length=100, blank=True)
    form = models.CharField(_("form"), max_length=10, choices=list(rules.CONSENT_FORMS.items()))
    given_at = models.DateTimeField(_("lämnat"))
    purpose = models.CharField(_("syfte"), max_length=200)
    parties = models.ManyToManyField(
        "organisations.Unit", related_name="consents_as_party+", verbose_name=_("får lämnas till")
    )
    categories = models.JSONField(_("uppgifter som omfattas"), default=list)
    excluded_parties = models.ManyToManyField(
        "organisations.Unit", related_name="consents_excluded+", verbose_name=_("får inte lämnas till")
    )
    excluded_categories = models.JSONField(_("uppgifter som inte omfattas"), default=list)
    exclusions_note = models.TextField(_("vad samtycket inte ska omfatta"))
    valid_until = models.DateField(_("gäller till"), null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_unit = models.ForeignKey("organisations.Unit", on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()
    withdrawn_at = models.DateTimeField(_("återkallat"), null=True, blank=True)
    withdrawal_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    withdrawal_unit = models.ForeignKey(
        "organisations.Unit", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    withdrawal_note = models.CharField(_("anteckning om återkallelsen"), max_length=500, blank=True)

    class Meta:
        db_table = "sip_consent"  # moved from the SIP app (ADR 0009); the table kept its name
        ordering = ["-given_at", "-id"]
        indexes = [models.Index(fields=["person", "withdrawn_at"])]
        verbose_name = _("samtycke")
        verbose_name_plural = _("samtycken")

    def __str__(self) -> str:
        return f"Samtycke {self.pk}"

    def is_active(self, now: dt.datetime) -> bool:
        if self.withdrawn_at is not None and self.withdrawn_at <= now:
            return False
        if self.given_at > now:
            return False
        return self.valid_until is None or timezone.localdate(now) <= self.valid_until


class DisclosureAssessment(models.Model):
    """The responsible physician's documented harm assessment (menprövning, OSL 25 kap. 1 §): the alternative
    basis when the person cannot consent (R-SEK-3). Limited to named parties, categories and a period."""

    person = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="disclosure_assessments"
    )
    physician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey("organisations.Unit", on_delete=models.PROTECT, related_name="+")
    assessed_at = models.DateTimeField(_("bedömt"))
    parties = models.ManyToManyField("organisations.Unit", related_name="assessments_as_party+")
    categories = models.JSONField(_("uppgifter"), default=list)
    reasoning = models.TextField(_("motivering"))
    valid_until = models.DateField(_("gäller till"))
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "sip_disclosureassessment"  # moved from the SIP app (ADR 0009)
        ordering = ["-assessed_at", "-id"]
        verbose_name = _("menprövning")
        verbose_name_plural = _("menprövningar")

    def __str__(self) -> str:
        return f"Menprövning {self.pk}"

    def is_active(self, now: dt.datetime) -> bool:
        if self.revoked_at is not None and self.revoked_at <= now:
            return False
        return self.assessed_at <= now and timezone.localdate(now) <= self.valid_until
