from django.db import migrations, models

# What secondop.filenames now removes, for finding rows written before it did (NUL is
# left out: PostgreSQL text cannot hold it).
HIDDEN = ("[\u0001-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e"
          "\u2060-\u2069\ufeff]")


def clean_stored_names(apps, schema_editor):
    """Titles and file names stored before hidden characters were removed: cleaned
    the same way as new ones (the audit log keeps what was uploaded)."""
    from secondop.filenames import clean_filename, clean_text

    Record = apps.get_model("records", "Record")
    RecordFile = apps.get_model("records", "RecordFile")
    for record in Record.objects.filter(title__regex=HIDDEN).only("pk", "title").iterator():
        Record.objects.filter(pk=record.pk).update(title=clean_text(record.title) or "Untitled")
    for file in RecordFile.objects.filter(name__regex=HIDDEN).only("pk", "name").iterator():
        name = "/".join(clean_filename(part) for part in file.name.split("/") if part)
        RecordFile.objects.filter(pk=file.pk).update(name=name or "file")


class Migration(migrations.Migration):

    dependencies = [
        ("records", "0005_check_lease"),
    ]

    operations = [
        migrations.AddField(
            model_name="record",
            name="dismissed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(clean_stored_names, migrations.RunPython.noop),
    ]
