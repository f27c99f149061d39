from django.db import migrations


def load(apps, schema_editor):
    from specialists.services import specialties_load, specialty_links_load
    from specialists.specialties import SUBSPECIALTIES

    specialty = apps.get_model("specialists", "Specialty")
    specialties_load(specialty, entries=SUBSPECIALTIES)
    specialty_links_load(specialty_model=specialty,
                         certification_model=apps.get_model("specialists", "Certification"))


class Migration(migrations.Migration):
    dependencies = [("specialists", "0006_licence_verification_and_npi")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
