"""requests_app.aftercare.services.physician_uploads and upload_views (issue 21, item 4): the
patient's physician sends records through their report's link, only with the
patient's consent on the share covering records; the record is the patient's
upload pipeline's (verified like any other), named as the physician's, audited
without the token, and shown to the patient; withdrawn consent or link: refused,
nothing of the case shown."""

import json
from unittest import mock

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import Http404
from django.urls import reverse

from records.models import Record
from requests_app.aftercare import services as aftercare
from requests_app.aftercare.models import PhysicianUpload, Share
from requests_app.aftercare.selectors import doctor_activity, physician_uploads
from requests_app.aftercare.services import physician_uploads as physician
from secondop.audit.models import AccessLog, AuditEvent
from tests.aftercare.factories import delivered_case, sent_share
from tests.records.factories import PDF
from tests.records.services.uploading import one_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(patient, specialist, coordinator):
    return delivered_case(
        owner=patient, specialist=specialist, case_manager=coordinator, patient_name="Maria Lopez"
    )


@pytest.fixture
def link(case):
    share, token = sent_share(case=case, participation=True)
    share.recipient_name = "Dr. Ana Ruiz"
    share.save(update_fields=["recipient_name"])
    return share, token


def _slots(token, **kwargs):
    args = {
        "category": "imaging",
        "title": "MRI report, March",
        "service_date": None,
        "files": [one_file()],
    }
    args.update(kwargs)
    return physician.physician_slots(token=token, **args)


def send(token, **kwargs) -> Record:
    made = _slots(token, **kwargs)
    for slot in made.files:
        default_storage.save(slot.file.key, ContentFile(PDF))
    from django.test import TestCase

    with (
        mock.patch("records.tasks.record_verify.apply_async") as verify,
        TestCase.captureOnCommitCallbacks(execute=True),
    ):
        record = physician.physician_confirm(token=token, record_ref=made.record.uuid)
    assert verify.called  # verified like every other record
    return record


def test_a_record_sent_is_the_physicians_and_the_patient_sees_it(case, link):
    share, token = link
    record = send(token)
    assert record.case == case and record.uploaded_by is None
    assert record.sender_name == "Dr. Ana Ruiz" and record.state == "uploaded"
    assert PhysicianUpload.objects.get(record=record).share == share
    event = AuditEvent.objects.get(action="retrieval.physician.uploaded")
    assert event.actor is None and event.new_values["record"] == str(record.uuid)
    assert [u.record for u in physician_uploads(case=case)] == [record]
    texts = [item.text for item in doctor_activity(case=case)]
    assert "Dr. Ana Ruiz added a record: MRI report, March" in texts


def test_a_slot_never_filled_is_not_shown_to_the_patient(case, link):
    _slots(link[1])
    assert physician_uploads(case=case) == []


def test_without_consent_to_send_records_nothing_opens(case, link):
    _no_consent, token = sent_share(case=case, email="other@clinic.example")
    with pytest.raises(aftercare.ConsentWithdrawn):
        _slots(token)
    share, token = link
    Share.objects.filter(pk=share.pk).update(participation_consent_version="2026-12-07")
    with pytest.raises(aftercare.ConsentWithdrawn):
        _slots(token)
    assert not Record.objects.exists()


def test_withdrawn_consent_or_link_stops_an_upload_half_way(case, link):
    share, token = link
    made = _slots(token)
    aftercare.participation_withdraw(actor=case.owner, share_ref=share.uuid)
    with pytest.raises(aftercare.ConsentWithdrawn):
        physician.physician_confirm(token=token, record_ref=made.record.uuid)
    Share.objects.filter(pk=share.pk).update(participation_withdrawn_at=None)
    aftercare.share_revoke(actor=case.owner, share_ref=share.uuid)
    with pytest.raises(aftercare.ShareRefused) as refused:
        physician.physician_sign(
            token=token, file_ref=made.files[0].file.uuid, method="PUT", key=made.files[0].file.key
        )
    assert refused.value.reason == "revoked"


def test_another_links_record_is_a_404(case, link):
    theirs = _slots(link[1])
    _other, other_token = sent_share(case=case, email="b@clinic.example", participation=True)
    with pytest.raises(Http404):
        physician.physician_confirm(token=other_token, record_ref=theirs.record.uuid)


def test_a_closed_request_takes_no_more_records(case, link):
    case.status = "closed"
    case.save(update_fields=["status"])
    with pytest.raises(physician.RecordError, match="closed"):
        _slots(link[1])


# --- The pages ---------------------------------------------------------------------------------
def test_the_upload_page_opens_without_an_account_and_keeps_the_token_out_of_logs(
    client, case, link
):
    _share, token = link
    response = client.get(reverse("physician_records:upload", args=[token]))
    page = response.content.decode()
    assert response.status_code == 200
    assert response["Referrer-Policy"] == "no-referrer" and "no-store" in response["Cache-Control"]
    assert "Maria Lopez" in page
    assert reverse("physician_records:slots", args=[token]) in page
    response = client.post(
        reverse("physician_records:slots", args=[token]),
        json.dumps({"category": "labs", "title": "Blood count", "files": [one_file()]}),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    for row in AuditEvent.objects.all():
        assert token not in row.path and token not in json.dumps(row.new_values)
    for row in AccessLog.objects.all():
        assert token not in row.path


def test_the_page_after_consent_is_withdrawn_shows_nothing_of_the_case(client, case, link):
    share, token = link
    aftercare.participation_withdraw(actor=case.owner, share_ref=share.uuid)
    response = client.get(reverse("physician_records:upload", args=[token]))
    assert response.status_code == 410
    assert "Maria Lopez" not in response.content.decode()
    response = client.post(
        reverse("physician_records:slots", args=[token]),
        json.dumps({"category": "labs", "title": "Blood count", "files": [one_file()]}),
        content_type="application/json",
    )
    assert response.status_code == 410
    assert client.get(reverse("physician_records:upload", args=["bogus"])).status_code == 404


def test_the_report_page_offers_sending_records_only_with_consent(client, case, link):
    _share, token = link
    page = client.get(reverse("aftercare:shared_report", args=[token])).content.decode()
    assert reverse("physician_records:upload", args=[token]) in page
    _plain, plain_token = sent_share(case=case, email="c@clinic.example")
    page = client.get(reverse("aftercare:shared_report", args=[plain_token])).content.decode()
    assert "/records/" not in page
