"""Consent and DisclosureAssessment move to the consent app (ADR 0009). State only: the tables keep their
names and their rows."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('sip', '0001_initial_models'),
    ]

    # The tables stay as they are: only Django's idea of which app owns the models changes.
    state_operations = [
        migrations.RemoveField(
            model_name='disclosureassessment',
            name='parties',
        ),
        migrations.RemoveField(
            model_name='disclosureassessment',
            name='person',
        ),
        migrations.RemoveField(
            model_name='disclosureassessment',
            name='physician',
        ),
        migrations.RemoveField(
            model_name='disclosureassessment',
            name='unit',
        ),
        migrations.DeleteModel(
            name='Consent',
        ),
        migrations.DeleteModel(
            name='DisclosureAssessment',
        ),
    ]

    operations = [migrations.SeparateDatabaseAndState(state_operations=state_operations)]
