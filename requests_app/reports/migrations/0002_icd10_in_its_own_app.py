"""The report's code now points at icd10.Icd10Code: the same table
(requests_app_icd10code), so only Django's model state changes."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("icd10", "0001_initial"),
        ("reports", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="reportversion",
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
            ],
        ),
    ]
