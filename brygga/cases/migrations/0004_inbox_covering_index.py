"""The inbox index also covers the columns the inbox orders by (PostgreSQL ``INCLUDE``; other databases
ignore it), so a large filter such as "Alla" is read from the index alone (ADR 0105)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("cases", "0003_inbox_columns")]

    operations = [
        migrations.RemoveIndex(model_name="participant", name="participant_inbox"),
        migrations.AddIndex(
            model_name="participant",
            index=models.Index(
                condition=models.Q(("status", "active")),
                fields=["unit", "case_status", "next_due_at"],
                include=("id", "last_event_at", "needs_ack", "unacked_since", "acknowledged_at", "role"),
                name="participant_inbox_cover",
            ),
        ),
    ]
