from django.db import migrations


def load(apps, schema_editor):
    from specialists.services import specialties_load

    specialties_load(apps.get_model("specialists", "Specialty"))


class Migration(migrations.Migration):
    dependencies = [("specialists", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
