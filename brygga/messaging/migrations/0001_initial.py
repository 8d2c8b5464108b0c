"""Thread and Message, moved from the cases app (ADR 0009): state only, on the tables cases_thread and
cases_message that the cases app created."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def move_content_types(apps, schema_editor):  # type: ignore[no-untyped-def]
    """Keep the content types (and so permissions) of the moved models: rename their app label."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in ('thread', 'message'):
        if not ContentType.objects.filter(app_label='messaging', model=model).exists():
            ContentType.objects.filter(app_label='cases', model=model).update(app_label='messaging')


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('cases', '0008_threads_messages_idempotency_move_out'),
        ('organisations', '0001_initial'),
        ('people', '0002_register_source'),
        ('sip', '0002_consent_moves_out'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    # The tables stay as they are: only Django's idea of which app owns the models changes.
    state_operations = [
        migrations.CreateModel(
            name='Thread',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('category', models.CharField(choices=[('alcohol-and-drug-treatment', 'Alkohol- och missbruksbehandling'), ('assistive-devices', 'Hjälpmedel'), ('carecoordination', 'Samordning'), ('decease', 'Dödsfall'), ('discharge', 'Utskrivning'), ('examination-results', 'Undersökningsresultat'), ('healthcare', 'Hälso- och sjukvård'), ('home-care-assessment', 'Biståndsbedömning'), ('medicine', 'Läkemedel'), ('nursing', 'Omvårdnad'), ('outpatient', 'Öppenvård'), ('psychiatry-social-disability', 'Psykiatri och funktionsnedsättning'), ('regarding-referral', 'Angående remiss'), ('telemedicine', 'Telemedicin'), ('training', 'Träning och rehabilitering'), ('acute-ambulant', 'Akut ambulant'), ('extended-care-responsibility', 'Utvidgat behandlingsansvar'), ('other', 'Övrigt')], max_length=40, verbose_name='kategori')),
                ('subject', models.CharField(max_length=200, verbose_name='ämne')),
                ('created_at', models.DateTimeField()),
                ('care_request', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='threads', to='sip.carerequest')),
                ('case', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='threads', to='cases.case')),
                ('person', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='people.person')),
                ('sip', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='threads', to='sip.sip')),
            ],
            options={
                'db_table': 'cases_thread',
                'ordering': ['-created_at'],
            },
        ),
        migrations.CreateModel(
            name='Message',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('author_label', models.CharField(max_length=200)),
                ('body', models.TextField(verbose_name='text')),
                ('quoted', models.TextField(blank=True)),
                ('pinned', models.BooleanField(default=False, verbose_name='fäst')),
                ('sent_at', models.DateTimeField()),
                ('legal_basis', models.JSONField(blank=True, default=dict, verbose_name='rättslig grund')),
                ('author', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('in_reply_to', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='messaging.message')),
                ('unit', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='organisations.unit')),
                ('thread', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='messages', to='messaging.thread')),
            ],
            options={
                'db_table': 'cases_message',
                'ordering': ['sent_at', 'id'],
            },
        ),
        migrations.AddConstraint(
            model_name='thread',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('care_request__isnull', True), ('case__isnull', False), ('sip__isnull', True)), models.Q(('care_request__isnull', True), ('case__isnull', True), ('sip__isnull', False)), models.Q(('care_request__isnull', False), ('case__isnull', True), ('sip__isnull', True)), _connector='OR'), name='thread_has_exactly_one_subject'),
        ),
    ]

    operations = [migrations.SeparateDatabaseAndState(state_operations=state_operations), migrations.RunPython(move_content_types, migrations.RunPython.noop)]
