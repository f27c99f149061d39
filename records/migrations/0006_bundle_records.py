from django.db import migrations, models


def fill_membership(apps, schema_editor):
    """Bundles asked for before membership was kept (they live a day): the records
    they were built from, as the build chose them (the case's checked records, or
    the one study), checked before the bundle was asked for."""
    Bundle = apps.get_model("records", "Bundle")
    Record = apps.get_model("records", "Record")
    for bundle in Bundle.objects.all().iterator():
        records = Record.objects.filter(case_id=bundle.case_id, state="verified",
                                        checked_at__lte=bundle.created_at)
        if bundle.record_id:
            records = Record.objects.filter(pk=bundle.record_id)
        ids = list(records.values_list("pk", flat=True))
        bundle.records.set(ids)
        Bundle.objects.filter(pk=bundle.pk).update(records_total=len(ids))


class Migration(migrations.Migration):

    dependencies = [
        ("records", "0005_check_lease"),
    ]

    operations = [
        migrations.AddField(
            model_name="bundle",
            name="records",
            field=models.ManyToManyField(blank=True, related_name="bundles", to="records.record"),
        ),
        migrations.AddField(
            model_name="bundle",
            name="records_total",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.RunPython(fill_membership, migrations.RunPython.noop),
    ]
