"""The access log is append-only in the database itself, not only in the ORM: UPDATE and DELETE on
access_accesslogentry are refused by triggers on both SQLite and PostgreSQL."""

from django.db import migrations

SQLITE = [
    """CREATE TRIGGER access_log_no_update BEFORE UPDATE ON access_accesslogentry
       BEGIN SELECT RAISE(ABORT, 'access log is append-only'); END;""",
    """CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_accesslogentry
       BEGIN SELECT RAISE(ABORT, 'access log is append-only'); END;""",
]
SQLITE_REVERSE = ["DROP TRIGGER IF EXISTS access_log_no_update;", "DROP TRIGGER IF EXISTS access_log_no_delete;"]

POSTGRES = [
    """CREATE OR REPLACE FUNCTION access_log_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'access log is append-only'; END; $$ LANGUAGE plpgsql;""",
    """CREATE TRIGGER access_log_no_update_delete BEFORE UPDATE OR DELETE ON access_accesslogentry
       FOR EACH ROW EXECUTE FUNCTION access_log_append_only();""",
    # TRUNCATE bypasses row triggers; refuse it too.
    """CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_accesslogentry
       FOR EACH STATEMENT EXECUTE FUNCTION access_log_append_only();""",
]
POSTGRES_REVERSE = [
    "DROP TRIGGER IF EXISTS access_log_no_update_delete ON access_accesslogentry;",
    "DROP TRIGGER IF EXISTS access_log_no_truncate ON access_accesslogentry;",
    "DROP FUNCTION IF EXISTS access_log_append_only();",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("access", "0002_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRES}),
            _run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRES_REVERSE}),
        )
    ]
