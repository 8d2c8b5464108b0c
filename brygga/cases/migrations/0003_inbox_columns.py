"""The inbox columns on Participant (ADR 0105): the case's status, its last event and the role's next open
deadline, so a unit's inbox is filtered, ordered and paged in the database; and the index that serves it.
Existing rows are filled here with the deadline rules of brygga.cases.selectors.deadlines (restated, because a
migration must not import today's models); ``manage.py refresh_inbox`` recomputes them with the live code."""

import datetime as dt

from django.db import migrations, models
from django.db.models import OuterRef, Subquery
from django.utils import timezone

OPEN = ("admitted", "on_leave")


def _end_of_day(day):  # type: ignore[no-untyped-def]
    return timezone.make_aware(dt.datetime.combine(day, dt.time(23, 59, 59)))


def _next_due(case, role):  # type: ignore[no-untyped-def]
    open_case = case.status in OPEN
    due = []
    if role == "ward":
        if case.need_assessed_at is not None and case.notice_sent_at is None:
            due.append(case.need_assessed_at + dt.timedelta(hours=24))
        if case.expected_discharge_date and open_case and case.discharge_info_sent_at is None:
            due.append(_end_of_day(case.expected_discharge_date))
    if role == "primary_care":
        if case.sip_summons_due_at is not None and case.sip_summons_sent_at is None:
            due.append(case.sip_summons_due_at)
        if case.expected_discharge_date and case.notice_sent_at and open_case and not case.coordinator_name:
            due.append(_end_of_day(case.expected_discharge_date))
    return min(due, default=None)


def fill(apps, schema_editor):  # type: ignore[no-untyped-def]
    Case = apps.get_model("cases", "Case")
    Participant = apps.get_model("cases", "Participant")
    case = Case.objects.filter(pk=OuterRef("case_id"))
    Participant.objects.update(
        case_status=Subquery(case.values("status")[:1]),
        last_event_at=Subquery(case.values("last_event_at")[:1]),
    )
    pending = Participant.objects.filter(role__in=["ward", "primary_care"]).filter(
        models.Q(case__status__in=OPEN)
        | models.Q(case__need_assessed_at__isnull=False, case__notice_sent_at__isnull=True)
        | models.Q(case__sip_summons_due_at__isnull=False, case__sip_summons_sent_at__isnull=True)
    )
    for participant in pending.select_related("case").iterator(chunk_size=2000):
        due = _next_due(participant.case, participant.role)
        if due is not None:
            Participant.objects.filter(pk=participant.pk).update(next_due_at=due)


class Migration(migrations.Migration):
    dependencies = [("cases", "0002_generic_message_threads")]

    operations = [
        migrations.AddField(
            model_name="participant",
            name="case_status",
            field=models.CharField(blank=True, db_default="", default="", max_length=12),
        ),
        migrations.AddField(
            model_name="participant",
            name="last_event_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="participant",
            name="next_due_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="participant",
            index=models.Index(
                condition=models.Q(("status", "active")),
                fields=["unit", "case_status", "next_due_at"],
                name="participant_inbox",
            ),
        ),
        # The index before the fill: on PostgreSQL, CREATE INDEX after the fill fails with "pending trigger
        # events" (the fill updates rows this transaction already wrote, queueing deferred foreign-key checks).
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
