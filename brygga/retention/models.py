"""Retention (gallring): legal holds that stop deletion, and the log of what the deletion job removed.

The log keeps no personal data: the kind, the record's id, the person's internal id, dates and the rule
(with its legal source) that applied, so an auditor can see what was deleted, when and why."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class LegalHold(models.Model):
    """Stops the deletion job for a person's records, or for one record (kind + object id), until released:
    a complaint to IVO, a claim for damages, a request from the police or a court."""

    person = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(_("typ av uppgift"), max_length=40, blank=True)
    object_id = models.CharField(_("id"), max_length=40, blank=True)
    reason = models.TextField(_("skäl"))
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    placed_at = models.DateTimeField()
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-placed_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(person__isnull=False) | ~models.Q(object_id=""),
                name="hold_names_something",
            )
        ]
        verbose_name = _("bevarandebeslut")
        verbose_name_plural = _("bevarandebeslut")

    def __str__(self) -> str:
        return f"Bevarande {self.pk}"


class RetentionDeletion(models.Model):
    """One record the deletion job removed (files included), with the rule that applied."""

    deleted_at = models.DateTimeField(db_index=True)
    kind = models.CharField(max_length=40)
    object_id = models.CharField(max_length=40)
    person_id = models.BigIntegerField(null=True, blank=True)
    record_date = models.DateTimeField()  # the date the retention period ran from
    retention_years = models.PositiveSmallIntegerField()
    legal_source = models.CharField(max_length=300)
    files_deleted = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-deleted_at", "-id"]
        indexes = [models.Index(fields=["kind", "object_id"])]
        verbose_name = _("gallrad uppgift")
        verbose_name_plural = _("gallrade uppgifter")

    def __str__(self) -> str:
        return f"Gallrat {self.kind}:{self.object_id}"
