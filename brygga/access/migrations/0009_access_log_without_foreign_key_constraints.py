"""The access log's foreign-key constraints dropped on PostgreSQL (issue 17, ADR 0708): each entry's user,
unit and person were checked at commit, each check locking the referenced row, 150 checks and 50 row locks
for a list of 50 persons, about 3 ms of every inbox view. The ids are those of rows the writing transaction
has just read, and the entries keep their snapshots (labels, identity number) whatever happens to the rows.

On SQLite the constraints stay: removing them means rebuilding the table, which would drop the append-only
triggers of migration 0003 (as migration 0008 explains). Only the model state changes there."""

from django.conf import settings
from django.db import migrations, models

import django.db.models.deletion

TABLE = "access_accesslogentry"
# column → the table it refers to
REFERENCES = {"person_id": "people_person", "unit_id": "organisations_unit", "user_id": "accounts_user"}


def _foreign_keys(schema_editor):
    with schema_editor.connection.cursor() as cursor:
        constraints = schema_editor.connection.introspection.get_constraints(cursor, TABLE)
    return {
        name: info["columns"][0]
        for name, info in constraints.items()
        if info["foreign_key"] and info["columns"] and info["columns"][0] in REFERENCES
    }


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in _foreign_keys(schema_editor):
        schema_editor.execute(f'ALTER TABLE "{TABLE}" DROP CONSTRAINT "{name}"')


def restore(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    present = set(_foreign_keys(schema_editor).values())
    for column, target in REFERENCES.items():
        if column not in present:
            schema_editor.execute(
                f'ALTER TABLE "{TABLE}" ADD CONSTRAINT "{TABLE}_{column}_fk_{target}" FOREIGN KEY ("{column}") '
                f'REFERENCES "{target}" ("id") DEFERRABLE INITIALLY DEFERRED'
            )


class Migration(migrations.Migration):
    dependencies = [
        ("access", "0008_log_indexes_without_duplicates"),
        ("organisations", "0001_initial"),
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
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="people.person",
                    ),
                ),
                migrations.AlterField(
                    model_name="accesslogentry",
                    name="unit",
                    field=models.ForeignKey(
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="organisations.unit",
                    ),
                ),
                migrations.AlterField(
                    model_name="accesslogentry",
                    name="user",
                    field=models.ForeignKey(
                        db_constraint=False,
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
