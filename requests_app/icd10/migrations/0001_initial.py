"""The ICD-10 models move here from requests_app without touching the database.

The tables keep their names (Meta.db_table) and their rows, indexes and
constraints: this migration only tells Django's model state that the models now
live in this app (requests_app's 0012 forgets them there). The content types
move too, so that permissions granted on the synonyms and the admin's history
of them still apply.
"""

import django.db.models.functions.text
import django.db.models.lookups
from django.db import migrations, models

MODELS = ["icd10code", "icd10synonym"]


def _move_content_types(apps, old: str, new: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MODELS:
        # A fresh database has none yet: post_migrate creates them under the new label.
        if not ContentType.objects.filter(app_label=new, model=model).exists():
            ContentType.objects.filter(app_label=old, model=model).update(app_label=new)


def content_types_forward(apps, schema_editor):
    _move_content_types(apps, "requests_app", "icd10")


def content_types_backward(apps, schema_editor):
    _move_content_types(apps, "icd10", "requests_app")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("requests_app", "0011_open_cases_per_specialist_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Icd10Code',
                    fields=[
                        ('code', models.CharField(max_length=8, primary_key=True, serialize=False)),
                        ('title', models.CharField(max_length=300)),
                        ('search_text', models.CharField(max_length=320)),
                    ],
                    options={
                        'verbose_name': 'ICD-10-CM code',
                        'db_table': 'requests_app_icd10code',
                        'ordering': ['code'],
                    },
                ),
                migrations.CreateModel(
                    name='Icd10Synonym',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('term', models.CharField(help_text='What patients type, for example “heart attack”.', max_length=60, verbose_name='everyday term')),
                        ('clinical', models.CharField(help_text='Words in ICD-10-CM titles that mean the same wherever they occur, for example “myocardial infarction”. At least three characters.', max_length=100, verbose_name='clinical wording')),
                    ],
                    options={
                        'verbose_name': 'ICD-10 search synonym',
                        'verbose_name_plural': 'ICD-10 search synonyms',
                        'db_table': 'requests_app_icd10synonym',
                        'ordering': ['term', 'clinical'],
                        'constraints': [models.UniqueConstraint(django.db.models.functions.text.Lower('term'), django.db.models.functions.text.Lower('clinical'), name='requests_app_icd10synonym_unique', violation_error_message='This term already has this clinical wording.'), models.CheckConstraint(condition=django.db.models.lookups.GreaterThanOrEqual(django.db.models.functions.text.Length('clinical'), 3), name='requests_app_icd10synonym_clinical_length', violation_error_message='The clinical wording needs at least three characters.')],
                    },
                ),
            ],
        ),
        migrations.RunPython(content_types_forward, content_types_backward),
    ]
