"""IdempotencyRecord, moved from the cases app (ADR 0009): state only, on the table cases_idempotencyrecord."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def move_content_types(apps, schema_editor):  # type: ignore[no-untyped-def]
    """Keep the content types (and so permissions) of the moved models: rename their app label."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in ('idempotencyrecord',):
        if not ContentType.objects.filter(app_label='core', model=model).exists():
            ContentType.objects.filter(app_label='cases', model=model).update(app_label='core')


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('cases', '0008_threads_messages_idempotency_move_out'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('organisations', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    # The tables stay as they are: only Django's idea of which app owns the models changes.
    state_operations = [
        migrations.CreateModel(
            name='IdempotencyRecord',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('key', models.CharField(max_length=100)),
                ('request_hash', models.CharField(max_length=64)),
                ('status', models.PositiveSmallIntegerField()),
                ('body', models.JSONField()),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('unit', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='organisations.unit')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'db_table': 'cases_idempotencyrecord',
                'constraints': [models.UniqueConstraint(fields=('user', 'unit', 'key'), name='one_response_per_idempotency_key')],
            },
        ),
    ]

    operations = [migrations.SeparateDatabaseAndState(state_operations=state_operations), migrations.RunPython(move_content_types, migrations.RunPython.noop)]
