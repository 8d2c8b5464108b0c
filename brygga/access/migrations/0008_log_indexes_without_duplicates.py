"""The access log's duplicate indexes dropped (issue 17): every page a user opens writes at least one entry,
and each index is one more write. The single-column indexes on user and person are served by the
(user, at) and (person, at) indexes; PostgreSQL's pattern index on person_identifier (made for every indexed
CharField, for LIKE 'x%') serves no query: the log is searched by exact number.

Only the indexes are dropped (DROP INDEX): Django's AlterField would rebuild the table on SQLite, and with it
drop the append-only triggers of migration 0003."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

DROPPED = [
    # (index, column) as Django named them
    ("access_accesslogentry_person_id_b20fd60c", "person_id"),
    ("access_accesslogentry_user_id_5055c4f7", "user_id"),
]
PATTERN_INDEX = "access_accesslogentry_person_identifier_dacf4580_like"


def drop(apps, schema_editor):
    for name, _column in DROPPED:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f'DROP INDEX IF EXISTS "{PATTERN_INDEX}"')


def restore(apps, schema_editor):
    for name, column in DROPPED:
        schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON "access_accesslogentry" ("{column}")')
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{PATTERN_INDEX}" ON "access_accesslogentry" '
            '("person_identifier" varchar_pattern_ops)'
        )


class Migration(migrations.Migration):
    dependencies = [
        ("access", "0007_merge_0006_access_log_prune_0006_access_log_stamps"),
        ("people", "0002_register_source"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="accesslogentry",
                    name="person",
                    field=models.ForeignKey(
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="people.person",
                    ),
                ),
                migrations.AlterField(
                    model_name="accesslogentry",
                    name="user",
                    field=models.ForeignKey(
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(drop, restore)],
        ),
    ]
