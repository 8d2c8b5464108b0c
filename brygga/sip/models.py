"""Consent, the coordinated individual plan (SIP) and the outpatient care request (vårdbegäran).

- ``Consent`` and ``DisclosureAssessment`` are the two recorded legal bases for giving information to another
  principal (R-SEK-1..4); ``brygga.consent.services.decide_disclosure`` is the one function that reads them.
- ``SipOffer`` records that a SIP was offered and the person's answer (R-SIP-K-2).
- ``Sip`` moves through the six steps of R-VG-SIP-1; its content lives in numbered ``SipVersion`` rows, so an
  established plan is changed by a new version and the old one stays readable.
- ``CareRequest`` is the outpatient process's request from regional care to municipal health care.
- ``Event`` is the immutable history of both, as ``CaseEvent`` is for inpatient cases."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from brygga.consent.models import Consent
from brygga.sip import rules

SIP_SOURCE = "sip:"
CARE_REQUEST_SOURCE = "care_request:"


class SipOffer(models.Model):
    """R-SIP-K-2: SIP is always offered for a safe discharge; the person says yes or no."""

    class Answer(models.TextChoices):
        ACCEPTED = "accepted", _("Tackar ja")
        DECLINED = "declined", _("Tackar nej")
        PENDING = "pending", _("Vill fundera")

    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="sip_offers")
    case = models.ForeignKey(
        "cases.Case", on_delete=models.PROTECT, null=True, blank=True, related_name="sip_offers"
    )
    offered_at = models.DateTimeField(_("erbjuden"))
    offered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey("organisations.Unit", on_delete=models.PROTECT, related_name="+")
    answer = models.CharField(_("svar"), max_length=10, choices=Answer.choices)
    answered_by = models.CharField(max_length=16, choices=Consent.GivenBy.choices)
    note = models.CharField(_("anteckning"), max_length=500, blank=True)

    class Meta:
        ordering = ["-offered_at", "-id"]

    def __str__(self) -> str:
        return f"SIP-erbjudande {self.pk}"


class Sip(models.Model):
    class Status(models.TextChoices):  # R-VG-SIP-1: the six steps
        NEED = "need", _("Upptäck behov")
        PREPARE = "prepare", _("Förbered")
        SUMMONED = "summoned", _("Kallad till SIP-möte")
        MEETING = "meeting", _("SIP-möte hållet")
        FOLLOW_UP = "follow_up", _("Följ upp")
        CLOSED = "closed", _("Avslutad")

    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="sips")
    case = models.ForeignKey(
        "cases.Case",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sips",
        verbose_name=_("ärende vid utskrivning"),
    )
    offer = models.ForeignKey(SipOffer, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    status = models.CharField(_("steg"), max_length=10, choices=Status.choices, default=Status.NEED)
    need_description = models.TextField(_("varför SIP behövs"))
    initiated_by_unit = models.ForeignKey("organisations.Unit", on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    concerns_child = models.BooleanField(_("barn eller ung person"), default=False)
    summoned_at = models.DateTimeField(_("kallelse skickad"), null=True, blank=True)
    meeting_at = models.DateTimeField(_("SIP-möte"), null=True, blank=True)
    meeting_location = models.CharField(_("plats"), max_length=200, blank=True)
    meeting_held_at = models.DateTimeField(_("mötet hölls"), null=True, blank=True)
    closed_at = models.DateTimeField(_("avslutad"), null=True, blank=True)
    close_reason = models.CharField(_("skäl"), max_length=30, blank=True)
    last_event_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["person", "status"])]
        verbose_name = _("SIP")
        verbose_name_plural = _("SIP")

    def __str__(self) -> str:
        return f"SIP {self.pk}"

    @property
    def source(self) -> str:
        return f"{SIP_SOURCE}{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.CLOSED

    def current_version(self) -> SipVersion | None:
        return self.versions.filter(status=SipVersion.Status.ESTABLISHED).order_by("-number").first()

    def draft(self) -> SipVersion | None:
        return self.versions.filter(status=SipVersion.Status.DRAFT).order_by("-number").first()


class SipParticipant(models.Model):
    """Who takes part: units of both principals, the person, närstående, a legal representative, others
    (school, Försäkringskassan...). Units are also the SIP's inbox rows."""

    class Kind(models.TextChoices):
        UNIT = "unit", _("Enhet")
        PERSON = "person", _("Personen själv")
        RELATIVE = "relative", _("Närstående")
        REPRESENTATIVE = "representative", _("Legal företrädare")
        OTHER = "other", _("Annan aktör")

    sip = models.ForeignKey(Sip, on_delete=models.CASCADE, related_name="participants")
    kind = models.CharField(_("typ"), max_length=16, choices=Kind.choices)
    unit = models.ForeignKey(
        "organisations.Unit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sip_participations",
    )
    name = models.CharField(_("namn"), max_length=200, blank=True)
    role_text = models.CharField(_("roll eller relation"), max_length=100, blank=True)
    added_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["kind", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["sip", "unit"], condition=models.Q(unit__isnull=False), name="one_sip_participation"
            )
        ]

    def __str__(self) -> str:
        return self.unit.name if self.unit else self.name


class SipVersion(models.Model):
    """One version of the plan's content. A draft is edited; establishing it freezes it; a change to an
    established plan is a new draft (based_on) that supersedes it when established."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Utkast")
        ESTABLISHED = "established", _("Fastställd")
        SUPERSEDED = "superseded", _("Ersatt")

    sip = models.ForeignKey(Sip, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    what_matters = models.TextField(_("Vad är viktigt för dig?"), blank=True)
    needs = models.TextField(_("behov"), blank=True)
    other_efforts = models.TextField(_("insatser av andra än kommun och region"), blank=True)
    overall_responsible_unit = models.ForeignKey(
        "organisations.Unit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("övergripande ansvar"),
    )
    change_reason = models.CharField(_("skäl till ändringen"), max_length=500, blank=True)
    based_on = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    established_at = models.DateTimeField(null=True, blank=True)
    established_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["sip", "number"]
        constraints = [models.UniqueConstraint(fields=["sip", "number"], name="one_sip_version_number")]

    def __str__(self) -> str:
        return f"SIP {self.sip_id} version {self.number}"


class SipEffort(models.Model):
    """An effort (insats) in a version: the need it meets and who is responsible — a unit of a principal, or
    someone other than kommun and region (performer_other)."""

    version = models.ForeignKey(SipVersion, on_delete=models.CASCADE, related_name="efforts")
    need = models.CharField(_("behov"), max_length=500)
    effort = models.CharField(_("insats"), max_length=500)
    responsible_unit = models.ForeignKey(
        "organisations.Unit", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    performer_other = models.CharField(_("utförs av annan"), max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.effort


class FollowUp(models.Model):
    """A follow-up date of the plan: a task with a deadline for the responsible unit."""

    sip = models.ForeignKey(Sip, on_delete=models.CASCADE, related_name="follow_ups")
    due_on = models.DateField(_("uppföljning senast"))
    description = models.CharField(_("vad följs upp"), max_length=500)
    responsible_unit = models.ForeignKey("organisations.Unit", on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    outcome = models.TextField(_("resultat"), blank=True)

    class Meta:
        ordering = ["due_on", "id"]

    def __str__(self) -> str:
        return f"Uppföljning {self.due_on}"


class CareRequest(models.Model):
    """Vårdbegäran: regional outpatient care or the fast vårdkontakt asks municipal health care to admit the
    person into municipal health care. Several may be open per person at once (R-VG-OV-3)."""

    class Status(models.TextChoices):
        SENT = "sent", _("Skickad, väntar på svar")
        NEEDS_INFO = "needs_info", _("Behöver mer information")
        ACCEPTED = "accepted", _("Accepterad")
        DECLINED = "declined", _("Avböjd")
        WITHDRAWN = "withdrawn", _("Återtagen")

    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="care_requests")
    from_unit = models.ForeignKey("organisations.Unit", on_delete=models.PROTECT, related_name="+")
    to_unit = models.ForeignKey("organisations.Unit", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.SENT)
    reason = models.TextField(_("anledning till vårdbegäran"))
    health_summary = models.TextField(_("aktuellt hälsotillstånd"))
    requested_efforts = models.JSONField(_("begärda insatser"), default=list)
    efforts_detail = models.TextField(_("beskrivning av insatserna"), blank=True)
    medication_responsibility = models.CharField(
        _("ansvar för läkemedel"), max_length=14, choices=list(rules.MEDICATION_RESPONSIBILITY.items())
    )
    start_on = models.DateField(_("önskas från"))
    contact_name = models.CharField(_("kontaktperson"), max_length=200)
    contact_phone = models.CharField(_("telefon"), max_length=40)
    # category → {"basis": ..., "rule": ..., "ref": ...}: why each piece could be shared (R-SEK-2).
    legal_basis = models.JSONField(default=dict)
    sip = models.ForeignKey(
        Sip, on_delete=models.SET_NULL, null=True, blank=True, related_name="care_requests"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    sent_at = models.DateTimeField(_("skickad"))
    # When the request last went to the receiver (sent, or supplemented after a question): the answer clock.
    awaiting_since = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(_("besvarad"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decline_reason = models.CharField(_("skäl"), max_length=30, blank=True)
    answer_text = models.TextField(_("svar"), blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)  # first read by the receiving unit
    last_event_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-sent_at", "-id"]
        indexes = [models.Index(fields=["to_unit", "status"]), models.Index(fields=["from_unit", "status"])]
        verbose_name = _("vårdbegäran")
        verbose_name_plural = _("vårdbegäranden")

    def __str__(self) -> str:
        return f"Vårdbegäran {self.pk}"

    @property
    def source(self) -> str:
        return f"{CARE_REQUEST_SOURCE}{self.pk}"

    @property
    def answer_due_at(self) -> dt.datetime | None:
        if self.status != self.Status.SENT:
            return None
        # Elapsed hours, added in UTC (an aware local datetime would add wall-clock time across DST).
        return (self.awaiting_since or self.sent_at).astimezone(dt.UTC) + rules.care_request_answer_deadline()


class Event(models.Model):
    """One immutable fact about a SIP or a care request: who (user, unit) did what, when."""

    sip = models.ForeignKey(Sip, on_delete=models.PROTECT, null=True, blank=True, related_name="events")
    care_request = models.ForeignKey(
        CareRequest, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    kind = models.CharField(max_length=40)
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey("organisations.Unit", on_delete=models.PROTECT, related_name="+")
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(sip__isnull=False) | models.Q(care_request__isnull=False),
                name="sip_event_has_subject",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} @ {self.occurred_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.pk is not None:
            raise RuntimeError("SIP events are immutable.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("SIP events are immutable.")

    @property
    def label(self) -> str:
        return str(rules.EVENT_LABELS.get(self.kind, self.kind))
