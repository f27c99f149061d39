"""The ICD-10 models now live in requests_app.icd10 (label icd10). Their
tables, rows, indexes and constraints stay as they are: the case's foreign key
is pointed at the moved model and the models are forgotten here, in Django's
model state only (icd10's 0001 took them over)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("icd10", "0001_initial"),
        # Every foreign key to the old model is moved before it is forgotten.
        ("reports", "0002_icd10_in_its_own_app"),
        ("requests_app", "0011_open_cases_per_specialist_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="case",
                    name="icd10",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="icd10.icd10code",
                        verbose_name="ICD-10-CM code",
                    ),
                ),
                migrations.DeleteModel(name="Icd10Synonym"),
                migrations.DeleteModel(name="Icd10Code"),
            ],
        ),
    ]
