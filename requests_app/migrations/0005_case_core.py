"""Case core: a random UUID for every case's URLs (existing cases get one each),
the assigned specialist, the patient's concerns, staff status labels."""

import django.db.models.deletion
import uuid
from django.conf import settings
from django.db import migrations, models


def give_each_case_a_uuid(apps, schema_editor):
    Case = apps.get_model("requests_app", "Case")
    for case in Case.objects.filter(uuid__isnull=True).only("pk").iterator():
        Case.objects.filter(pk=case.pk).update(uuid=uuid.uuid4())


class Migration(migrations.Migration):

    dependencies = [
        ('requests_app', '0004_icd10_synonyms'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveField(
            model_name='caseevent',
            name='visible_to_patient',
        ),
        migrations.AddField(
            model_name='case',
            name='concerns',
            field=models.TextField(blank=True, max_length=2000, verbose_name='what worries you most'),
        ),
        migrations.AddField(
            model_name='case',
            name='specialist',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='assigned_cases', to=settings.AUTH_USER_MODEL, verbose_name='assigned specialist'),
        ),
        # Nullable first, one value per existing row, then unique and required.
        migrations.AddField(
            model_name='case',
            name='uuid',
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(give_each_case_a_uuid, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='case',
            name='uuid',
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
        migrations.AlterField(
            model_name='case',
            name='status',
            field=models.CharField(choices=[('draft', 'Draft'), ('submitted', 'New, to triage'), ('triage', 'In triage'), ('awaiting_records', 'Waiting for records'), ('matching', 'Matching'), ('offered', 'Offered to a specialist'), ('in_review', 'In review'), ('consultation', 'Consultation'), ('report_ready', 'Report to release'), ('delivered', 'Report delivered'), ('follow_up', 'Follow-up'), ('closed', 'Closed'), ('withdrawn', 'Withdrawn'), ('cancelled', 'Cancelled')], default='draft', max_length=20, verbose_name='status'),
        ),
        migrations.AlterField(
            model_name='caseevent',
            name='new_status',
            field=models.CharField(choices=[('draft', 'Draft'), ('submitted', 'New, to triage'), ('triage', 'In triage'), ('awaiting_records', 'Waiting for records'), ('matching', 'Matching'), ('offered', 'Offered to a specialist'), ('in_review', 'In review'), ('consultation', 'Consultation'), ('report_ready', 'Report to release'), ('delivered', 'Report delivered'), ('follow_up', 'Follow-up'), ('closed', 'Closed'), ('withdrawn', 'Withdrawn'), ('cancelled', 'Cancelled')], max_length=20),
        ),
        migrations.AlterField(
            model_name='caseevent',
            name='old_status',
            field=models.CharField(blank=True, choices=[('draft', 'Draft'), ('submitted', 'New, to triage'), ('triage', 'In triage'), ('awaiting_records', 'Waiting for records'), ('matching', 'Matching'), ('offered', 'Offered to a specialist'), ('in_review', 'In review'), ('consultation', 'Consultation'), ('report_ready', 'Report to release'), ('delivered', 'Report delivered'), ('follow_up', 'Follow-up'), ('closed', 'Closed'), ('withdrawn', 'Withdrawn'), ('cancelled', 'Cancelled')], max_length=20),
        ),
    ]
