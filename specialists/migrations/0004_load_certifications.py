from django.db import migrations


def load(apps, schema_editor):
    from specialists.services import certifications_load

    certifications_load(
        board_model=apps.get_model("specialists", "Board"),
        certification_model=apps.get_model("specialists", "Certification"),
        specialty_model=apps.get_model("specialists", "Specialty"),
    )


class Migration(migrations.Migration):
    dependencies = [("specialists", "0003_board_certifications")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
