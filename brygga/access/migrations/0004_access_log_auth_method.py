"""How each user authenticated, on every access-log entry (issue 15). SQLite adds the column by rebuilding the
table, which drops its triggers: the append-only triggers of 0003 are created again afterwards."""

from django.db import migrations, models

SQLITE_TRIGGERS = [
    """CREATE TRIGGER IF NOT EXISTS access_log_no_update BEFORE UPDATE ON access_accesslogentry
       BEGIN SELECT RAISE(ABORT, 'access log is append-only'); END;""",
    """CREATE TRIGGER IF NOT EXISTS access_log_no_delete BEFORE DELETE ON access_accesslogentry
       BEGIN SELECT RAISE(ABORT, 'access log is append-only'); END;""",
]


def restore_sqlite_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_TRIGGERS:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("access", "0003_append_only_log"),
    ]

    operations = [
        migrations.AddField(
            model_name="accesslogentry",
            name="auth_method",
            field=models.CharField(
                blank=True,
                choices=[
                    ("siths-oidc", "SITHS via OpenID Connect"),
                    ("siths-saml", "SITHS via SAML"),
                    ("local-totp", "Lokalt konto med lösenord och engångskod"),
                    ("local", "Lokalt konto med lösenord"),
                    ("api-token", "API-nyckel (integrerat system)"),
                ],
                db_default="",
                default="",
                max_length=12,
            ),
        ),
        migrations.RunPython(restore_sqlite_triggers, migrations.RunPython.noop),
    ]
