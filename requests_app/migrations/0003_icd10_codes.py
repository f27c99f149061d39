"""Load the ICD-10-CM code table and, on PostgreSQL, index it for the typeahead.

`requests_app.icd10.search.icd10_search` runs two kinds of query; each has its index:

* code prefix ("E11.9%") in code order: a btree on `code COLLATE "C"`, so the
  prefix is one index range read in order whatever the database's collation;
* words (`search_text LIKE '%word%'` for each word), ordered by title length:
  the ~12,000 general codes (length(code) <= 5) are searched first, through a
  partial trigram index when the words are rare, or by walking a partial btree
  in result order when they are common or too short for trigrams ("ms"); then,
  if that gave too few results, the rest through a trigram index over all codes.

pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.
SQLite gets no extra indexes; the same queries work there, just more slowly.
"""

from django.db import migrations

TABLE = "requests_app_icd10code"
INDEXES = {
    "requests_app_icd10code_code_c": f'CREATE INDEX {{name}} ON {TABLE} ((code COLLATE "C"))',
    "requests_app_icd10code_search_trgm": (
        f"CREATE INDEX {{name}} ON {TABLE} USING gin (search_text gin_trgm_ops)"
    ),
    # The partial indexes repeat the selector's condition (GENERAL_CODE_LENGTH)
    # exactly: the planner uses them only when the query implies it.
    "requests_app_icd10code_general_trgm": (
        f"CREATE INDEX {{name}} ON {TABLE} USING gin (search_text gin_trgm_ops) "
        "WHERE length(code) <= 5"
    ),
    "requests_app_icd10code_general_order": (
        f"CREATE INDEX {{name}} ON {TABLE} (length(title), code) WHERE length(code) <= 5"
    ),
}


def load_codes(apps, schema_editor):
    from requests_app.icd10.loading import load_icd10_codes

    load_icd10_codes(apps.get_model("requests_app", "Icd10Code"), batch_size=10000)


def unload_codes(apps, schema_editor):
    # PROTECT on Case.icd10 stops this while any case still points at a code.
    apps.get_model("requests_app", "Icd10Code").objects.all().delete()


def add_search_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm", params=None)
    # Built after the load: one index build is much faster than 98,000 updates.
    for name, sql in INDEXES.items():
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}", params=None)
        schema_editor.execute(sql.format(name=name), params=None)
    # Fresh statistics, so the first searches (and every test run) get good plans.
    schema_editor.execute(f"ANALYZE {TABLE}", params=None)


def drop_search_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # The extension stays: something else may have come to rely on it.
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}", params=None)


class Migration(migrations.Migration):
    dependencies = [("requests_app", "0002_intake")]
    operations = [
        migrations.RunPython(load_codes, unload_codes),
        migrations.RunPython(add_search_indexes, drop_search_indexes),
    ]
