"""Consent and DisclosureAssessment, moved from the SIP app (ADR 0009): state only, on the tables the SIP app
created."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def move_content_types(apps, schema_editor):  # type: ignore[no-untyped-def]
    """Keep the content types (and so permissions) of the moved models: rename their app label."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in ('consent', 'disclosureassessment'):
        if not ContentType.objects.filter(app_label='consent', model=model).exists():
            ContentType.objects.filter(app_label='sip', model=model).update(app_label='consent')


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('sip', '0002_consent_moves_out'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('organisations', '0001_initial'),
        ('people', '0002_register_source'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    # The tables stay as they are: only Django's idea of which app owns the models changes.
    state_operations = [
        migrations.CreateModel(
            name='DisclosureAssessment',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('assessed_at', models.DateTimeField(verbose_name='bedömt')),
                ('categories', models.JSONField(default=list, verbose_name='uppgifter')),
                ('reasoning', models.TextField(verbose_name='motivering')),
                ('valid_until', models.DateField(verbose_name='gäller till')),
                ('revoked_at', models.DateTimeField(blank=True, null=True)),
                ('parties', models.ManyToManyField(related_name='assessments_as_party+', to='organisations.unit')),
                ('person', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='disclosure_assessments', to='people.person')),
                ('physician', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('unit', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='organisations.unit')),
            ],
            options={
                'verbose_name': 'menprövning',
                'verbose_name_plural': 'menprövningar',
                'db_table': 'sip_disclosureassessment',
                'ordering': ['-assessed_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='Consent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('given_by', models.CharField(choices=[('person', 'Personen själv'), ('representative', 'Legal företrädare')], max_length=16, verbose_name='samtycket lämnades av')),
                ('representative_name', models.CharField(blank=True, max_length=200, verbose_name='företrädarens namn')),
                ('representative_relation', models.CharField(blank=True, max_length=100, verbose_name='företrädarens roll')),
                ('form', models.CharField(choices=[('verbal', 'Muntligt'), ('written', 'Skriftligt')], max_length=10, verbose_name='form')),
                ('given_at', models.DateTimeField(verbose_name='lämnat')),
                ('purpose', models.CharField(max_length=200, verbose_name='syfte')),
                ('categories', models.JSONField(default=list, verbose_name='uppgifter som omfattas')),
                ('excluded_categories', models.JSONField(default=list, verbose_name='uppgifter som inte omfattas')),
                ('exclusions_note', models.TextField(verbose_name='vad samtycket inte ska omfatta')),
                ('valid_until', models.DateField(blank=True, null=True, verbose_name='gäller till')),
                ('recorded_at', models.DateTimeField()),
                ('withdrawn_at', models.DateTimeField(blank=True, null=True, verbose_name='återkallat')),
                ('withdrawal_note', models.CharField(blank=True, max_length=500, verbose_name='anteckning om återkallelsen')),
                ('excluded_parties', models.ManyToManyField(related_name='consents_excluded+', to='organisations.unit', verbose_name='får inte lämnas till')),
                ('parties', models.ManyToManyField(related_name='consents_as_party+', to='organisations.unit', verbose_name='får lämnas till')),
                ('person', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='consents', to='people.person')),
                ('recorded_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('recorded_unit', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='organisations.unit')),
                ('withdrawal_recorded_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('withdrawal_unit', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='organisations.unit')),
            ],
            options={
                'verbose_name': 'samtycke',
                'verbose_name_plural': 'samtycken',
                'db_table': 'sip_consent',
                'ordering': ['-given_at', '-id'],
                'indexes': [models.Index(fields=['person', 'withdrawn_at'], name='sip_consent_person__b10691_idx')],
            },
        ),
    ]

    operations = [migrations.SeparateDatabaseAndState(state_operations=state_operations), migrations.RunPython(move_content_types, migrations.RunPython.noop)]
