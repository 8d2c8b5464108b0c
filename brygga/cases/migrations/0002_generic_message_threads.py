"""Message threads for a case, a SIP or a care request (ADR 0104): explicit nullable foreign keys with a check
constraint that exactly one is set, the person on the thread (filled from the case for existing threads) and
the legal basis of each message (R-SEK-2)."""

import django.db.models.deletion
from django.db import migrations, models


def fill_person(apps, schema_editor):  # type: ignore[no-untyped-def]
    Thread = apps.get_model("cases", "Thread")
    for thread in Thread.objects.filter(person__isnull=True).select_related("case").iterator():
        thread.person_id = thread.case.person_id
        thread.save(update_fields=["person"])


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0001_initial_models"),
        ("people", "0001_initial"),
        ("sip", "0001_initial_models"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="legal_basis",
            field=models.JSONField(blank=True, default=dict, verbose_name="rättslig grund"),
        ),
        migrations.AddField(
            model_name="thread",
            name="person",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="people.person",
            ),
        ),
        migrations.RunPython(fill_person, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="thread",
            name="person",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="people.person"
            ),
        ),
        migrations.AlterField(
            model_name="thread",
            name="case",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="threads",
                to="cases.case",
            ),
        ),
        migrations.AddField(
            model_name="thread",
            name="sip",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="threads",
                to="sip.sip",
            ),
        ),
        migrations.AddField(
            model_name="thread",
            name="care_request",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="threads",
                to="sip.carerequest",
            ),
        ),
        migrations.AddConstraint(
            model_name="thread",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("care_request__isnull", True), ("case__isnull", False), ("sip__isnull", True)),
                    models.Q(("care_request__isnull", True), ("case__isnull", True), ("sip__isnull", False)),
                    models.Q(("care_request__isnull", False), ("case__isnull", True), ("sip__isnull", True)),
                    _connector="OR",
                ),
                name="thread_has_exactly_one_subject",
            ),
        ),
    ]
