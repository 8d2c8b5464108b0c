"""Subscriptions (R4B topic-based backport) and their outbox. A ``Notification`` row is written in the same
transaction as the case event it tells about, so an event is never without its notifications and a rolled-back
change sends nothing (ADR 0601)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Subscription(models.Model):
    class Status(models.TextChoices):
        # requested until the handshake to the endpoint was answered 2xx (then active, else error).
        REQUESTED = "requested", "requested"
        ACTIVE = "active", "active"
        ERROR = "error", "error"
        OFF = "off", "off"

    class Content(models.TextChoices):
        EMPTY = "empty", "empty"
        ID_ONLY = "id-only", "id-only"
        FULL = "full-resource", "full-resource"

    # The subscriber: the unit of the token that created it; told only about cases that unit takes part in.
    unit = models.ForeignKey("organisations.Unit", on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    topic = models.CharField(max_length=40)
    endpoint = models.URLField(max_length=500)
    headers = models.JSONField(default=list, blank=True)  # "Name: value" lines sent with every notification
    content = models.CharField(max_length=14, choices=Content.choices, default=Content.ID_ONLY)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    reason = models.CharField(max_length=200, blank=True)
    events_since_start = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    # Delivery lease: one sender at a time per subscription (keeps the order); expires after a crash.
    leased_until = models.DateTimeField(null=True, blank=True)
    # When the failed batch is tried again (None after a success): new events then queue no delivery task,
    # since the retry sends them in order anyway (a subscriber down for hours costs nothing per event).
    retry_at = models.DateTimeField(null=True, blank=True)
    # backport-heartbeat-period (seconds): a heartbeat bundle when nothing was sent for that long.
    heartbeat_period = models.PositiveIntegerField(null=True, blank=True)
    last_sent_at = models.DateTimeField(null=True, blank=True)  # the last bundle the endpoint answered 2xx
    # The last failed handshake or heartbeat (a failing notification keeps its own error on its row).
    last_error = models.CharField(max_length=300, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["topic", "status"])]
        verbose_name = _("FHIR-prenumeration")
        verbose_name_plural = _("FHIR-prenumerationer")

    def __str__(self) -> str:
        return f"Subscription {self.pk} ({self.topic})"


class Notification(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        DELIVERED = "delivered", "delivered"
        DROPPED = "dropped", "dropped"  # the subscription was turned off before delivery

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="notifications")
    # eventNumber: given by the sender, under the subscription's lease, in the order it first sees the rows
    # (commit order); NULL until then. Numbering in the writing transaction needed the subscription's row
    # lock until commit, which made every writer of every event wait for the one before (issue 19).
    event_number = models.PositiveBigIntegerField(null=True, blank=True)
    case_event = models.ForeignKey("cases.CaseEvent", on_delete=models.PROTECT, related_name="+")
    focus = models.CharField(max_length=80)  # e.g. "Task/123-4", "Encounter/56"
    created_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "event_number"], name="one_number_per_subscription"
            )
        ]
        indexes = [models.Index(fields=["subscription", "status", "event_number"], name="fhir_notif_due")]
        verbose_name = _("FHIR-notis")
        verbose_name_plural = _("FHIR-notiser (leveranslogg)")

    def __str__(self) -> str:
        return f"Notification {self.subscription_id}#{self.event_number or '–'}"
