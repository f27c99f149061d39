"""Each row says where its work came from (secondop.audit.context). On SQLite,
adding a column rebuilds the table and drops its triggers: they go back on at the
end (secondop/audit/append_only.py)."""

from django.db import migrations, models

from secondop.audit import append_only


def guard(apps, schema_editor):
    append_only.install_guards(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0004_append_only_everywhere"),
    ]

    operations = [
        migrations.AddField(
            model_name="accesslog",
            name="source",
            field=models.CharField(blank=True, max_length=200, verbose_name="source"),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="path",
            field=models.CharField(blank=True, max_length=500, verbose_name="path"),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="source",
            field=models.CharField(blank=True, max_length=200, verbose_name="source"),
        ),
        migrations.RunPython(guard, migrations.RunPython.noop),
    ]
