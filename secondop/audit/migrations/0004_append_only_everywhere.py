"""The logs stay append-only beyond migration 0002's row triggers: a TRUNCATE trigger
on PostgreSQL, UPDATE/DELETE triggers on SQLite (the embedded default), and, when
DATABASE_RUNTIME_ROLE is set, a runtime role that may only read and add rows
(secondop/audit/append_only.py says why each)."""

from django.conf import settings
from django.db import migrations

from secondop.audit import append_only


def guard(apps, schema_editor):
    append_only.install_guards(schema_editor)


def unguard(apps, schema_editor):
    for statement in append_only.unguard_sql(schema_editor.connection.vendor):
        schema_editor.execute(statement, params=None)


def grant(apps, schema_editor):
    # Runs once; `manage.py grant_runtime_role` re-applies it after every migrate.
    role = getattr(settings, "DATABASE_RUNTIME_ROLE", "")
    if role and schema_editor.connection.vendor == "postgresql":
        append_only.grant_runtime_role(connection=schema_editor.connection, role=role)


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_accesslog_listed")]
    operations = [
        migrations.RunPython(guard, unguard),
        # Backwards leaves the grants: revoke them by hand if the role is to go.
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
