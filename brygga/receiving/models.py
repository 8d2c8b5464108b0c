"""What the receiving side needs beside the case itself (issue 18, ADR 0900–0903): how to reach a unit, what a
unit has read of the planning basis, the receiving units' own planning, and the notifications sent to users.

Kept in its own app: the case (brygga.cases) stays the record of what happened; this app is about telling the
units of it and hearing back from them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class UnitContact(models.Model):
    """How other units reach a unit: phone, functional mailbox, opening hours and named contact roles.
    Edited by the local administrator (Django admin, Perm.UNIT_ADMIN); shown next to the unit on a case."""

    unit = models.OneToOneField(
        "organisations.Unit", on_delete=models.CASCADE, related_name="contact", verbose_name=_("enhet")
    )
    phone = models.CharField(_("telefon"), max_length=40, blank=True)
    mailbox = models.EmailField(_("funktionsbrevlåda"), blank=True)
    opening_hours = models.CharField(_("öppettider"), max_length=200, blank=True)
    # Named roles, one per line: "Kontaktsjuksköterska: 031-123 45 67". Roles, not private persons' data.
    contact_roles = models.TextField(_("kontaktroller"), blank=True, max_length=2000)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("kontaktuppgifter för enhet")
        verbose_name_plural = _("kontaktuppgifter för enheter")

    def __str__(self) -> str:
        return str(self.unit)

    @property
    def is_empty(self) -> bool:
        return not (self.phone or self.mailbox or self.opening_hours or self.contact_roles.strip())

    @property
    def role_lines(self) -> list[str]:
        return [line.strip() for line in self.contact_roles.splitlines() if line.strip()]


class PlanningRead(models.Model):
    """What a unit saw of the planning basis when it first read it: the permitted sections only, so changes
    made afterwards can be marked for that unit (R-UK-1: the receivers must notice what changed)."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey("organisations.Unit", on_delete=models.PROTECT, related_name="+")
    first_read_at = models.DateTimeField()
    last_read_at = models.DateTimeField()
    # section key → {item key: text as first read}; a section enters when the unit first may read it.
    snapshot = models.JSONField(default=dict)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "unit"], name="one_planning_read_per_unit")]

    def __str__(self) -> str:
        return f"{self.unit_id}@{self.case_id}"


class ReceiverPlan(models.Model):
    """A receiving unit's own planning for the case (decisions, efforts planned, ready to receive), recorded
    back on the case so the ward and the other units see it (within the disclosure decision)."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="receiver_plans")
    unit = models.ForeignKey("organisations.Unit", on_delete=models.PROTECT, related_name="+")
    decisions = models.TextField(_("beslut"), blank=True, max_length=2000)
    efforts = models.TextField(_("planerade insatser"), blank=True, max_length=2000)
    ready_to_receive = models.BooleanField(_("redo att ta emot"), default=False)
    ready_from = models.DateField(_("redo från"), null=True, blank=True)
    updated_at = models.DateTimeField()
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "unit"], name="one_receiver_plan_per_unit")]
        ordering = ["unit__name"]

    def __str__(self) -> str:
        return f"{self.unit_id}@{self.case_id}"


class NotificationPreference(models.Model):
    """A user's choice per unit: e-mail on or off, SMS on or off, and the hours of the daily digest. Without
    a row the defaults apply (e-mail on when the user has an address, SMS off)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey("organisations.Unit", on_delete=models.CASCADE, related_name="+")
    email = models.BooleanField(_("e-post"), default=True)
    sms = models.BooleanField(_("sms"), default=False)
    phone = models.CharField(_("mobilnummer för sms"), max_length=40, blank=True)
    digest_hours = models.CharField(_("sammanfattning klockan"), max_length=40, default="7,13")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "unit"], name="one_preference_per_user_unit")]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.unit_id}"

    @property
    def hours(self) -> list[int]:
        return sorted({int(h) for h in self.digest_hours.split(",") if h.strip().isdecimal() and int(h) < 24})


class Notification(models.Model):
    """One message to one user on one channel. Holds no personal data about the patient: a subject naming the
    kind of event and a link to the case (R-SEK). Delivery is retried with backoff; after the last attempt it
    stays ``failed`` and is listed for the administrator."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("E-post")
        SMS = "sms", _("Sms")

    class Status(models.TextChoices):
        PENDING = "pending", _("Väntar")
        SENT = "sent", _("Skickad")
        FAILED = "failed", _("Misslyckad")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey("organisations.Unit", on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    address = models.CharField(_("adress"), max_length=254)
    urgent = models.BooleanField(default=False)  # escalations and deadlines due soon: sent at once
    subject = models.CharField(max_length=200)
    link = models.CharField(max_length=300)
    source = models.CharField(max_length=60)  # e.g. "case_event:123", for idempotency and tracing
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "channel", "source"], name="one_notification_per_source")
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]
        verbose_name = _("avisering")
        verbose_name_plural = _("aviseringar")

    def __str__(self) -> str:
        return f"{self.channel} {self.subject}"


class SentSms(models.Model):
    """What the local SMS adapter would have sent (no operator is called)."""

    to = models.CharField(max_length=40)
    text = models.TextField()  # whole: the record of what would have gone out, not a cut of it
    sent_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"sms {self.to}"


class VideoRoom(models.Model):
    """A video room made for a planning meeting by a provider with rooms of its own (Pexip Infinity): the
    provider's id for deleting it, the alias to dial, the PINs and the dial-in details. Shown to the invited
    units only; deleted at the provider after the meeting (``deleted_at``)."""

    meeting = models.OneToOneField("cases.Meeting", on_delete=models.CASCADE, related_name="video_room")
    provider = models.CharField(max_length=40)
    ref = models.CharField(max_length=300)  # the provider's resource URI
    alias = models.CharField(max_length=200)
    host_pin = models.CharField(max_length=20)
    guest_pin = models.CharField(max_length=20)
    dial_in = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    deleted_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    def __str__(self) -> str:
        return self.alias
