"""The one model of the core: stored answers to retried API calls and one-time form tokens (ADR 0106, ADR
0803). It sits here, below every app, because the idempotency helpers and the one-time form middleware in
``brygga.core`` are used by all of them (ADR 0009); the table keeps the name it had in the cases app."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class IdempotencyRecord(models.Model):
    """A stored API response, so a retried call with the same Idempotency-Key is answered, not repeated."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey("organisations.Unit", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    request_hash = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "cases_idempotencyrecord"  # moved from the cases app (ADR 0009)
        constraints = [
            models.UniqueConstraint(fields=["user", "unit", "key"], name="one_response_per_idempotency_key")
        ]

    def __str__(self) -> str:
        return self.key
