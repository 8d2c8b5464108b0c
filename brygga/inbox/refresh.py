"""The inbox's denormalised columns on the participant rows (ADR 0105), recomputed from the cases:
``refresh_inbox`` (``manage.py refresh_inbox``, and the demo after writing synthetic stays).

The services keep them in step on every state change (ADR 0105); this is for rows written in bulk around the
services (a benchmark data set loaded with COPY, an import). Running it twice gives the same rows."""

from __future__ import annotations

from django.db import connection, transaction
from django.db.models import OuterRef, Q, Subquery

from brygga.cases import selectors
from brygga.cases.models import Case, Participant

OPEN = [Case.Status.ADMITTED, Case.Status.ON_LEAVE]


def refresh_inbox(chunk: int = 5000) -> dict[str, int]:
    """Copy status and last event from the case to all rows (two set-based UPDATEs), then recompute
    ``next_due_at`` for the rows whose case can still have an open deadline; the others get none."""
    with transaction.atomic():
        if connection.vendor == "postgresql":  # one join instead of two subqueries per row
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {Participant._meta.db_table} AS p SET case_status = c.status, "  # noqa: S608
                    f"last_event_at = c.last_event_at FROM {Case._meta.db_table} AS c WHERE c.id = p.case_id"
                )
                copied = cursor.rowcount
        else:
            case = Case.objects.filter(pk=OuterRef("case_id"))
            copied = Participant.objects.update(
                case_status=Subquery(case.values("status")[:1]),
                last_event_at=Subquery(case.values("last_event_at")[:1]),
            )
    pending_cases = Q(case__status__in=OPEN) | Q(
        case__need_assessed_at__isnull=False, case__notice_sent_at__isnull=True
    )
    pending_cases |= Q(case__sip_summons_due_at__isnull=False, case__sip_summons_sent_at__isnull=True)
    Participant.objects.exclude(pending_cases).filter(next_due_at__isnull=False).update(next_due_at=None)
    changed = 0
    batch: list[Participant] = []
    for participant in Participant.objects.filter(pending_cases).select_related("case").iterator(chunk):
        due = selectors.next_due_at(participant.case, participant.role)
        if due != participant.next_due_at:
            participant.next_due_at = due
            batch.append(participant)
        if len(batch) >= chunk:
            Participant.objects.bulk_update(batch, ["next_due_at"])
            changed += len(batch)
            batch = []
    if batch:
        Participant.objects.bulk_update(batch, ["next_due_at"])
        changed += len(batch)
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        # Every row was rewritten: reclaim the old versions and set the visibility map, so the inbox's
        # covering index can be read without the table (index-only scans), and refresh the statistics.
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM (ANALYZE) {Participant._meta.db_table}")
    return {"rows": copied, "deadlines_changed": changed}
