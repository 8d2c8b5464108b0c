"""``events_recorded``: sent with the new CaseEvents inside the transaction that writes them, so a listener
(the FHIR subscriptions' outbox, brygga.fhir) writes its rows atomically with the event — or not at all."""

from __future__ import annotations

from django.dispatch import Signal

# Keyword argument ``events``: a list of saved CaseEvent rows (one for a service call, many for a batch);
# ``bulk=True`` when they were written with bulk_create (the batch ingest), which sends no post_save.
events_recorded = Signal()
