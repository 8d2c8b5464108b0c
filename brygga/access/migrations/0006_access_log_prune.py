"""Retention of the access log in whole sealed segments (ADR 0409): the prune boundary table, append-only;
the entries' and seals' DELETE triggers now admit only rows at or below the newest recorded boundary (UPDATE
and TRUNCATE stay refused)."""

from django.db import migrations, models

_BOUNDARY_ID = "COALESCE((SELECT MAX(last_id) FROM access_accesslogprune), 0)"
_BOUNDARY_SEQ = "COALESCE((SELECT MAX(through_sequence) FROM access_accesslogprune), 0)"

SQLITE = [
    "DROP TRIGGER IF EXISTS access_log_no_delete;",
    f"""CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_accesslogentry
       WHEN OLD.id > {_BOUNDARY_ID}
       BEGIN SELECT RAISE(ABORT, 'access log is append-only'); END;""",
    "DROP TRIGGER IF EXISTS access_seal_no_delete;",
    f"""CREATE TRIGGER access_seal_no_delete BEFORE DELETE ON access_accesslogseal
       WHEN OLD.sequence > {_BOUNDARY_SEQ}
       BEGIN SELECT RAISE(ABORT, 'access log seals are append-only'); END;""",
    """CREATE TRIGGER access_prune_no_update BEFORE UPDATE ON access_accesslogprune
       BEGIN SELECT RAISE(ABORT, 'access log prunes are append-only'); END;""",
    """CREATE TRIGGER access_prune_no_delete BEFORE DELETE ON access_accesslogprune
       BEGIN SELECT RAISE(ABORT, 'access log prunes are append-only'); END;""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS access_prune_no_update;",
    "DROP TRIGGER IF EXISTS access_prune_no_delete;",
    "DROP TRIGGER IF EXISTS access_log_no_delete;",
    """CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_accesslogentry
       BEGIN SELECT RAISE(ABORT, 'access log is append-only'); END;""",
    "DROP TRIGGER IF EXISTS access_seal_no_delete;",
    """CREATE TRIGGER access_seal_no_delete BEFORE DELETE ON access_accesslogseal
       BEGIN SELECT RAISE(ABORT, 'access log seals are append-only'); END;""",
]

POSTGRES = [
    f"""CREATE OR REPLACE FUNCTION access_log_entry_delete_guard() RETURNS trigger AS $$
       BEGIN
         IF OLD.id <= {_BOUNDARY_ID} THEN RETURN OLD; END IF;
         RAISE EXCEPTION 'access log is append-only';
       END; $$ LANGUAGE plpgsql;""",
    f"""CREATE OR REPLACE FUNCTION access_log_seal_delete_guard() RETURNS trigger AS $$
       BEGIN
         IF OLD.sequence <= {_BOUNDARY_SEQ} THEN RETURN OLD; END IF;
         RAISE EXCEPTION 'access log seals are append-only';
       END; $$ LANGUAGE plpgsql;""",
    "DROP TRIGGER IF EXISTS access_log_no_update_delete ON access_accesslogentry;",
    """CREATE TRIGGER access_log_no_update BEFORE UPDATE ON access_accesslogentry
       FOR EACH ROW EXECUTE FUNCTION access_log_append_only();""",
    """CREATE TRIGGER access_log_guarded_delete BEFORE DELETE ON access_accesslogentry
       FOR EACH ROW EXECUTE FUNCTION access_log_entry_delete_guard();""",
    "DROP TRIGGER IF EXISTS access_seal_no_update_delete ON access_accesslogseal;",
    """CREATE TRIGGER access_seal_no_update BEFORE UPDATE ON access_accesslogseal
       FOR EACH ROW EXECUTE FUNCTION access_log_append_only();""",
    """CREATE TRIGGER access_seal_guarded_delete BEFORE DELETE ON access_accesslogseal
       FOR EACH ROW EXECUTE FUNCTION access_log_seal_delete_guard();""",
    """CREATE TRIGGER access_prune_no_update_delete BEFORE UPDATE OR DELETE ON access_accesslogprune
       FOR EACH ROW EXECUTE FUNCTION access_log_append_only();""",
    """CREATE TRIGGER access_prune_no_truncate BEFORE TRUNCATE ON access_accesslogprune
       FOR EACH STATEMENT EXECUTE FUNCTION access_log_append_only();""",
]
POSTGRES_REVERSE = [
    "DROP TRIGGER IF EXISTS access_prune_no_update_delete ON access_accesslogprune;",
    "DROP TRIGGER IF EXISTS access_prune_no_truncate ON access_accesslogprune;",
    "DROP TRIGGER IF EXISTS access_log_no_update ON access_accesslogentry;",
    "DROP TRIGGER IF EXISTS access_log_guarded_delete ON access_accesslogentry;",
    """CREATE TRIGGER access_log_no_update_delete BEFORE UPDATE OR DELETE ON access_accesslogentry
       FOR EACH ROW EXECUTE FUNCTION access_log_append_only();""",
    "DROP TRIGGER IF EXISTS access_seal_no_update ON access_accesslogseal;",
    "DROP TRIGGER IF EXISTS access_seal_guarded_delete ON access_accesslogseal;",
    """CREATE TRIGGER access_seal_no_update_delete BEFORE UPDATE OR DELETE ON access_accesslogseal
       FOR EACH ROW EXECUTE FUNCTION access_log_append_only();""",
    "DROP FUNCTION IF EXISTS access_log_entry_delete_guard();",
    "DROP FUNCTION IF EXISTS access_log_seal_delete_guard();",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run



class Migration(migrations.Migration):

    dependencies = [
        ('access', '0005_merge_auth_method_and_keyed_seals'),
    ]

    operations = [
        migrations.CreateModel(
            name='AccessLogPrune',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('through_sequence', models.PositiveIntegerField(unique=True)),
                ('last_id', models.BigIntegerField()),
                ('seal_digest', models.CharField(max_length=64)),
                ('entry_count', models.BigIntegerField()),
                ('newest_entry_at', models.DateTimeField()),
                ('pruned_at', models.DateTimeField()),
                ('retention_years', models.PositiveSmallIntegerField()),
                ('mac', models.CharField(max_length=64)),
            ],
            options={
                'ordering': ['through_sequence'],
            },
        ),
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRES}),
            _run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRES_REVERSE}),
        ),
    ]
