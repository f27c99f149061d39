"""records.storage: the bucket's lifecycle rule for unfinished multipart uploads."""

import pytest
from django.core.management import call_command

from records import storage

pytestmark = pytest.mark.django_db


def test_the_command_puts_the_abort_rule_and_keeps_other_rules(s3_storage, s3_server):
    client, bucket = s3_server["client"], s3_server["bucket"]
    other = {
        "ID": "someone-elses",
        "Status": "Enabled",
        "Filter": {"Prefix": "tmp/"},
        "Expiration": {"Days": 30},
    }
    client.put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration={"Rules": [other]}
    )
    try:
        for _ in range(2):  # a second run changes nothing
            call_command("records_bucket_lifecycle")
        rules = {
            r["ID"]: r for r in client.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
        }
        assert set(rules) == {"someone-elses", storage.LIFECYCLE_RULE_ID}
        assert rules[storage.LIFECYCLE_RULE_ID]["AbortIncompleteMultipartUpload"] == {
            "DaysAfterInitiation": 1
        }
        assert rules[storage.LIFECYCLE_RULE_ID]["Status"] == "Enabled"
    finally:
        client.delete_bucket_lifecycle(Bucket=bucket)


def test_without_a_bucket_there_is_nothing_to_set(capsys):
    call_command("records_bucket_lifecycle")
    assert "nothing to set" in capsys.readouterr().out


def test_titles_and_names_stored_before_cleaning_are_cleaned_by_the_migration():
    import importlib

    from django.apps import apps

    from tests.records.factories import RecordFactory

    migration = importlib.import_module(
        "records.migrations.0006_record_dismissed_and_names_cleaned"
    )
    tricked = RecordFactory(title="Scan\u202efdp.exe\u200b", file__name="CD/x\u202efdp.exe")
    plain = RecordFactory(title="Blood count", file__name="cbc.pdf")
    migration.clean_stored_names(apps, None)
    tricked.refresh_from_db()
    plain.refresh_from_db()
    assert tricked.title == "Scanfdp.exe" and tricked.files.get().name == "CD/xfdp.exe"
    assert plain.title == "Blood count" and plain.files.get().name == "cbc.pdf"
