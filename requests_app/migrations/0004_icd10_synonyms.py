"""Everyday terms for the ICD-10 search, in a table the admin can edit.

Until now a few lay terms were appended to search_text when the codes were
loaded ("malignant neoplasm" rows also got "cancer"). The search now expands
the query with Icd10Synonym instead, so this migration also takes those words
out of search_text: otherwise deleting a synonym in the admin would not stop
it matching. Codes loaded from now on never get them (search_text_for).
"""

import django.db.models.functions.text
import django.db.models.lookups
from django.db import migrations, models
from django.db.models import Q

# What requests_app.icd10.LAY_TERMS was when migration 0003 loaded the codes,
# frozen here so that reversing this migration restores exactly that.
OLD_LAY_TERMS = {
    "malignant neoplasm": "cancer",
    "neoplasm": "tumor",
    "myocardial infarction": "heart attack",
    "cerebral infarction": "stroke",
    "essential (primary) hypertension": "high blood pressure",
}


def load_synonyms(apps, schema_editor):
    from requests_app.icd10.loading import load_icd10_synonyms

    load_icd10_synonyms(apps.get_model("requests_app", "Icd10Synonym"))


def _rewrite_search_text(apps, text_for, candidates: Q) -> None:
    Icd10Code = apps.get_model("requests_app", "Icd10Code")
    changed = []
    rows = Icd10Code.objects.filter(candidates).only("code", "title", "search_text")
    for code in rows.iterator(chunk_size=10000):
        text = text_for(code.code, code.title)
        if text != code.search_text:
            code.search_text = text
            changed.append(code)
    Icd10Code.objects.bulk_update(changed, ["search_text"], batch_size=2000)


def drop_baked_lay_terms(apps, schema_editor):
    from requests_app.icd10.search import search_text_for

    # A baked row ends with the last lay term added: only those are read, so a
    # database loaded without them (every new one) is checked in a moment.
    candidates = Q()
    for lay in OLD_LAY_TERMS.values():
        candidates |= Q(search_text__endswith=f" {lay}")
    _rewrite_search_text(apps, search_text_for, candidates)


def bake_lay_terms(apps, schema_editor):
    from requests_app.icd10.search import search_text_for

    def old_search_text_for(code, title):
        text = search_text_for(code, title)
        return " ".join([text, *(lay for clinical, lay in OLD_LAY_TERMS.items() if clinical in text)])

    candidates = Q()
    for clinical in OLD_LAY_TERMS:
        candidates |= Q(search_text__contains=clinical)
    _rewrite_search_text(apps, old_search_text_for, candidates)


class Migration(migrations.Migration):
    dependencies = [("requests_app", "0003_icd10_codes")]

    operations = [
        migrations.CreateModel(
            name="Icd10Synonym",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("term", models.CharField(help_text="What patients type, for example “heart attack”.", max_length=60, verbose_name="everyday term")),
                ("clinical", models.CharField(help_text="Words in ICD-10-CM titles that mean the same wherever they occur, for example “myocardial infarction”. At least three characters.", max_length=100, verbose_name="clinical wording")),
            ],
            options={
                "verbose_name": "ICD-10 search synonym",
                "verbose_name_plural": "ICD-10 search synonyms",
                "ordering": ["term", "clinical"],
                "constraints": [
                    models.UniqueConstraint(
                        django.db.models.functions.text.Lower("term"),
                        django.db.models.functions.text.Lower("clinical"),
                        name="requests_app_icd10synonym_unique",
                        violation_error_message="This term already has this clinical wording.",
                    ),
                    models.CheckConstraint(
                        condition=django.db.models.lookups.GreaterThanOrEqual(
                            django.db.models.functions.text.Length("clinical"), 3
                        ),
                        name="requests_app_icd10synonym_clinical_length",
                        violation_error_message="The clinical wording needs at least three characters.",
                    ),
                ],
            },
        ),
        migrations.RunPython(load_synonyms, migrations.RunPython.noop),
        migrations.RunPython(drop_baked_lay_terms, bake_lay_terms),
    ]
