"""Thread and Message move to the messaging app, IdempotencyRecord to core (ADR 0009). State only: the tables
keep their names and their rows."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0007_merge_readdressed_and_open_stay'),
    ]

    # The tables stay as they are: only Django's idea of which app owns the models changes.
    state_operations = [
        migrations.RemoveField(
            model_name='message',
            name='author',
        ),
        migrations.RemoveField(
            model_name='message',
            name='in_reply_to',
        ),
        migrations.RemoveField(
            model_name='message',
            name='thread',
        ),
        migrations.RemoveField(
            model_name='message',
            name='unit',
        ),
        migrations.RemoveField(
            model_name='thread',
            name='care_request',
        ),
        migrations.RemoveField(
            model_name='thread',
            name='case',
        ),
        migrations.RemoveField(
            model_name='thread',
            name='person',
        ),
        migrations.RemoveField(
            model_name='thread',
            name='sip',
        ),
        migrations.DeleteModel(
            name='IdempotencyRecord',
        ),
        migrations.DeleteModel(
            name='Message',
        ),
        migrations.DeleteModel(
            name='Thread',
        ),
    ]

    operations = [migrations.SeparateDatabaseAndState(state_operations=state_operations)]
