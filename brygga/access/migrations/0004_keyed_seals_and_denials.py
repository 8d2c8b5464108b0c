"""Keyed seals (ADR 0800): seals written before this migration were plain SHA-256 chains and keep that scheme;
new seals are HMAC-SHA256 and pin the unsealed tail. The seal table becomes append-only like the entries, and a
denied attempt records why it was refused (ADR 0801)."""

from django.db import migrations, models

SQLITE = [
    # Adding a column made SQLite rebuild access_accesslogentry, which drops its triggers: put them back.
    "DROP TRIGGER IF EXISTS access_log_no_update;",
    "DROP TRIGGER IF EXISTS access_log_no_delete;",
    """CREATE TRIGGER access_log_no_update BEFORE UPDATE ON access_accesslogentry
       BEGIN SELECT RAISE(ABORT, 'access log is append-only'); END;""",
    """CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_accesslogentry
       BEGIN SELECT RAISE(ABORT, 'access log is append-only'); END;""",
    """CREATE TRIGGER access_seal_no_update BEFORE UPDATE ON access_accesslogseal
       BEGIN SELECT RAISE(ABORT, 'access log seals are append-only'); END;""",
    """CREATE TRIGGER access_seal_no_delete BEFORE DELETE ON access_accesslogseal
       BEGIN SELECT RAISE(ABORT, 'access log seals are append-only'); END;""",
]
SQLITE_REVERSE = ["DROP TRIGGER IF EXISTS access_seal_no_update;", "DROP TRIGGER IF EXISTS access_seal_no_delete;"]

POSTGRES = [
    """CREATE TRIGGER access_seal_no_update_delete BEFORE UPDATE OR DELETE ON access_accesslogseal
       FOR EACH ROW EXECUTE FUNCTION access_log_append_only();""",
    """CREATE TRIGGER access_seal_no_truncate BEFORE TRUNCATE ON access_accesslogseal
       FOR EACH STATEMENT EXECUTE FUNCTION access_log_append_only();""",
]
POSTGRES_REVERSE = [
    "DROP TRIGGER IF EXISTS access_seal_no_update_delete ON access_accesslogseal;",
    "DROP TRIGGER IF EXISTS access_seal_no_truncate ON access_accesslogseal;",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("access", "0003_append_only_log")]

    operations = [
        migrations.AddField(
            model_name="accesslogentry",
            name="reason",
            field=models.CharField(
                blank=True,
                choices=[
                    ("role", "Rollen saknar behörighet"),
                    ("no_involvement", "Enheten medverkar inte i personens vård"),
                    ("not_found", "Finns inte eller tillhör inte enheten"),
                ],
                default="",
                max_length=30,
            ),
        ),
        # Existing seals were made with the unkeyed scheme; the default for new ones follows.
        migrations.AddField(
            model_name="accesslogseal",
            name="scheme",
            field=models.CharField(
                choices=[("sha256", "SHA-256 (före ADR 0800)"), ("hmac-sha256", "HMAC-SHA256")],
                default="sha256",
                max_length=12,
            ),
        ),
        migrations.AlterField(
            model_name="accesslogseal",
            name="scheme",
            field=models.CharField(
                choices=[("sha256", "SHA-256 (före ADR 0800)"), ("hmac-sha256", "HMAC-SHA256")],
                default="hmac-sha256",
                max_length=12,
            ),
        ),
        migrations.AddField(
            model_name="accesslogseal", name="high_id", field=models.BigIntegerField(default=0)
        ),
        migrations.AddField(
            model_name="accesslogseal", name="high_count", field=models.BigIntegerField(default=0)
        ),
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRES}),
            _run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRES_REVERSE}),
        ),
    ]
