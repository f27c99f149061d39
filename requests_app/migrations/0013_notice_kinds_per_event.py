"""One kind of notification per event (moved here from notifications' 0002).

'new_case' was used for new, withdrawn and amended requests; the title says
which, so each row and preference moves to its own kind. These are the case
workflow's kinds (requests_app.notices): the platform's migrations name none.
A database that was past notifications' 0002 has no 'new_case' row left, so here
this finds nothing to do.
"""

from django.db import migrations


def split_new_case(apps, schema_editor):
    Notification = apps.get_model("notifications", "Notification")
    EmailPreference = apps.get_model("notifications", "EmailPreference")
    old = Notification.objects.filter(kind="new_case")
    old.filter(title__contains="withdrawn").update(kind="withdrawn")
    old.filter(title__contains="amended").update(kind="amended")
    old.update(kind="submitted")
    for pref in EmailPreference.objects.filter(kind="new_case"):
        for kind in ("submitted", "withdrawn", "amended"):
            EmailPreference.objects.update_or_create(
                user_id=pref.user_id, kind=kind, defaults={"enabled": pref.enabled}
            )
        pref.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0002_kinds_per_event"),
        ("requests_app", "0012_icd10_in_its_own_app"),
    ]

    operations = [
        migrations.RunPython(split_new_case, migrations.RunPython.noop),
    ]
