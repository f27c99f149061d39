from django.db import migrations


def load(apps, schema_editor):
    from specialists.specialties import SPECIALTIES

    Specialty = apps.get_model("specialists", "Specialty")
    for slug, name, description in SPECIALTIES:
        Specialty.objects.update_or_create(
            slug=slug, defaults={"name": name, "description": description}
        )


class Migration(migrations.Migration):
    dependencies = [("specialists", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
