"""records.views: the records page, one record, downloads, the JSON upload endpoints."""

import datetime
import json
from unittest import mock
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from records import storage
from records.models import Record, State
from requests_app.models import CaseStatus
from secondop.audit.models import AccessLog
from secondop.audit.services import log_access
from tests.records.factories import PDF, RecordFactory, RecordRequestFactory
from tests.requests_app.factories import CaseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(patient, coordinator, specialist):
    return CaseFactory(
        owner=patient,
        submitted=True,
        status=CaseStatus.IN_REVIEW,
        case_manager=coordinator,
        specialist=specialist,
    )


@pytest.fixture
def record(case):
    return RecordFactory(case=case, title="Core biopsy, left breast", file__name="biopsy (1).pdf")


def page(client, user, url):
    client.force_login(user)
    return client.get(url)


# --- The records page ------------------------------------------------------------------------
def test_it_shows_the_patient_their_records_by_category_with_state_and_reason(
    client, patient, case, record
):
    RecordFactory(
        case=case, category="labs", title="Blood count", state="rejected", reason="malware"
    )
    response = page(client, patient, reverse("records:case_records", args=[case.uuid]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Pathology reports" in html and "Lab results" in html
    assert "Core biopsy, left breast" in html and "Checked and ready" in html
    assert "Not accepted" in html and "virus" in html.lower()


def test_staff_see_it_and_their_reading_is_logged(client, coordinator, specialist, case, record):
    url = reverse("records:case_records", args=[case.uuid])
    for person in (coordinator, specialist):
        assert page(client, person, url).status_code == 200
        listed = AccessLog.objects.filter(actor=person, kind="list", object_type="records.record")
        assert listed.get().listed == [str(record.uuid)]


def test_outsiders_get_404_for_the_page_the_record_and_its_download(client, case, record, outsider):
    from tests.accounts.factories import UserFactory, enrol_totp

    other_specialist = UserFactory(role="specialist")
    enrol_totp(other_specialist)
    other_coordinator = UserFactory(role="coordinator")  # not the case manager
    enrol_totp(other_coordinator)
    urls = [
        reverse("records:case_records", args=[case.uuid]),
        reverse("records:detail", args=[record.uuid]),
        reverse("records:download", args=[record.uuid]),
        reverse("records:thumbnail", args=[record.uuid]),
    ]
    for person in (outsider, other_specialist, other_coordinator):
        for url in urls:
            assert page(client, person, url).status_code == 404, (person.role, url)
    assert not AccessLog.objects.filter(object_type="records.record").exists()


def test_a_specialist_sees_only_checked_records(client, specialist, case, record):
    waiting = RecordFactory(case=case, state="scanning", title="Still being checked")
    html = page(
        client, specialist, reverse("records:case_records", args=[case.uuid])
    ).content.decode()
    assert record.title in html and waiting.title not in html
    assert (
        page(client, specialist, reverse("records:detail", args=[waiting.uuid])).status_code == 404
    )


def test_the_patient_sees_who_looked_at_each_record(client, patient, specialist, case, record):
    page(client, specialist, reverse("records:detail", args=[record.uuid]))
    page(client, specialist, reverse("records:download", args=[record.uuid]))
    html = page(client, patient, reverse("records:case_records", args=[case.uuid])).content.decode()
    assert f"{specialist.full_name} (Specialist), downloaded" in html
    detail = page(client, patient, reverse("records:detail", args=[record.uuid])).content.decode()
    assert "opened" in detail and "downloaded" in detail


def test_each_row_says_when_what_and_who_sent_it_with_typed_words_escaped(
    client, patient, coordinator, specialist, case
):
    asked = RecordRequestFactory(
        case=case, requested_by=coordinator, note="The <b>CT</b> & its report " * 5
    )
    RecordFactory(
        case=case,
        category="imaging",
        title="Chest CT <script>",
        is_study=True,
        mime="",
        study={"modalities": ["CT", "PT"], "series_count": 2, "instance_count": 1234},
        answers=asked,
    )
    RecordFactory(
        case=case, category="labs", uploaded_by=None, sender_name="St. Mary's <Lab>", size=2_500_000
    )
    looked = RecordFactory(case=case, category="other")
    for _ in range(5):
        log_access(viewer=specialist, obj=looked, kind=AccessLog.Kind.DOWNLOAD)
    url = reverse("records:case_records", args=[case.uuid])
    html = page(client, patient, url).content.decode()
    assert "Date of service: 30 September 2026 · " in html
    assert "CT, PT · 2 series, 1234 images · " in html
    assert "Chest CT &lt;script&gt;" in html and "<script>" not in html.split("<main")[1]
    assert "Answers the request: “The &lt;b&gt;CT&lt;/b&gt; &amp; its report The" in html
    assert "2.5 MB" in html and "sent by" not in html  # the patient is not told who sent it
    assert html.count(f"{specialist.full_name} (Specialist), downloaded") == 3
    assert f'<a href="/records/{looked.uuid}/">and 2 more</a>' in html
    staff = page(client, coordinator, url).content.decode()
    assert " · sent by St. Mary&#x27;s &lt;Lab&gt;" in staff
    assert "and 2 more" not in staff  # who looked is the patient's to read


def test_the_checklist_follows_the_diagnosis_code(client, patient, case, record):
    from requests_app.icd10.models import Icd10Code

    case.icd10 = Icd10Code.objects.get(code="C50.911")
    case.save()
    html = page(client, patient, reverse("records:case_records", args=[case.uuid])).content.decode()
    assert "The biopsy slides or tissue blocks" in html
    assert "Boston, MA 02110" in html  # where to post them
    assert "Received" in html  # the pathology report is in


# --- Downloads ------------------------------------------------------------------------------
def test_a_local_download_is_streamed_with_a_safe_name_after_logging(client, specialist, record):
    response = page(client, specialist, reverse("records:download", args=[record.uuid]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''biopsy%20%281%29.pdf" in response["Content-Disposition"]
    assert (
        AccessLog.objects.filter(
            actor=specialist, kind="download", object_id=str(record.pk)
        ).count()
        == 1
    )


def test_open_shows_a_pdf_inline(client, patient, record):
    response = page(client, patient, reverse("records:download", args=[record.uuid]) + "?open=1")
    assert response["Content-Disposition"].startswith("inline;")


def test_an_s3_download_is_a_minute_long_presigned_get(
    client, specialist, case, s3_storage, s3_server
):
    record = RecordFactory(case=case, file__name="scan “1”.pdf")
    response = page(client, specialist, reverse("records:download", args=[record.uuid]))
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(s3_server["endpoint"])
    query = parse_qs(urlsplit(location).query)
    assert query["X-Amz-Expires"] == ["60"]
    assert "filename*=UTF-8''" in unquote(query["response-content-disposition"][0])
    import urllib.request

    with urllib.request.urlopen(location) as fetched:
        assert fetched.read() == PDF


# --- The JSON endpoints ----------------------------------------------------------------------
def post_json(client, url, data):
    return client.post(url, json.dumps(data), content_type="application/json")


def test_the_slots_endpoint_answers_with_keys_and_urls(client, patient, case):
    client.force_login(patient)
    response = post_json(
        client,
        reverse("records:slots", args=[case.uuid]),
        {
            "category": "labs",
            "title": "Blood count",
            "service_date": "2026-09-01",
            "files": [{"client_id": "u1", "name": "cbc.png", "size": 2048, "type": "image/png"}],
        },
    )
    assert response.status_code == 201
    data = response.json()
    record = Record.objects.get(uuid=data["record"])
    assert data["confirm_url"] == reverse("records:confirm", args=[record.uuid])
    assert data["files"][0]["client_id"] == "u1"
    assert data["files"][0]["key"].startswith(record.prefix)
    assert data["files"][0]["sign_url"].endswith("/sign/")


def test_the_slots_endpoint_explains_bad_input(client, patient, case):
    client.force_login(patient)
    response = post_json(
        client,
        reverse("records:slots", args=[case.uuid]),
        {"category": "labs", "title": "", "service_date": "2026-02-30", "files": []},
    )
    assert response.status_code == 400
    assert "real date" in response.json()["errors"]["service_date"][0]


def test_the_slots_endpoint_is_rate_limited(client, patient, case, settings):
    settings.RECORDS_SLOTS_PER_HOUR = 2
    client.force_login(patient)
    body = {
        "category": "labs",
        "title": "x",
        "files": [{"client_id": "u", "name": "a.png", "size": 10, "type": "image/png"}],
    }
    codes = [
        post_json(client, reverse("records:slots", args=[case.uuid]), body).status_code
        for _ in range(3)
    ]
    assert codes == [201, 201, 429]


def test_uploading_to_another_patients_case_is_a_404(client, outsider, case):
    client.force_login(outsider)
    response = post_json(
        client,
        reverse("records:slots", args=[case.uuid]),
        {
            "category": "labs",
            "title": "x",
            "files": [{"client_id": "u", "name": "a.png", "size": 10, "type": "image/png"}],
        },
    )
    assert response.status_code == 404


def test_a_whole_local_upload_through_the_endpoints(client, patient, case):
    client.force_login(patient)
    made = post_json(
        client,
        reverse("records:slots", args=[case.uuid]),
        {
            "category": "pathology",
            "title": "Biopsy",
            "files": [
                {"client_id": "u1", "name": "b.pdf", "size": len(PDF), "type": "application/pdf"}
            ],
        },
    ).json()
    file = made["files"][0]
    signed = post_json(client, file["sign_url"], {"method": "PUT", "key": file["key"]}).json()
    uploaded = client.generic("PUT", signed["url"], PDF, content_type="application/pdf")
    assert uploaded.status_code == 200
    again = client.generic("PUT", signed["url"], b"x", content_type="application/pdf")
    assert again.status_code == 410 and "already used" in again.json()["message"]
    with mock.patch("records.tasks.record_verify.apply_async"):
        confirmed = client.post(made["confirm_url"])
    assert confirmed.status_code == 200 and confirmed.json()["state"] == State.UPLOADED


def test_confirm_while_storage_is_down_is_a_503_with_a_calm_message(client, patient, case):
    record = RecordFactory(case=case, pending=True)
    client.force_login(patient)
    with mock.patch.object(storage, "stored_size", side_effect=storage.StorageUnavailable):
        response = client.post(reverse("records:confirm", args=[record.uuid]))
    assert response.status_code == 503
    assert "Your files are safe" in response.json()["message"]


def test_the_upload_page_lets_the_browser_reach_the_bucket_only(
    client, patient, case, s3_storage, s3_server
):
    response = page(client, patient, reverse("records:case_records", args=[case.uuid]))
    policy = response["Content-Security-Policy"]
    connect = next(d for d in policy.split(";") if d.strip().startswith("connect-src"))
    assert s3_server["endpoint"] in connect
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "blob:" in next(d for d in policy.split(";") if d.strip().startswith("img-src"))


# --- Record requests from the page ---------------------------------------------------------------
def test_the_case_manager_asks_from_the_records_page(client, coordinator, patient):
    case = CaseFactory(
        owner=patient, submitted=True, status=CaseStatus.TRIAGE, case_manager=coordinator
    )
    client.force_login(coordinator)
    response = client.post(
        reverse("records:request_create", args=[case.uuid]),
        {"note": "Your biopsy pathology report from March", "category": ""},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.AWAITING_RECORDS
    html = page(
        client, patient, reverse("requests_app:case_detail", args=[case.uuid])
    ).content.decode()
    assert "Your biopsy pathology report from March" in html


def test_an_empty_request_keeps_the_form_with_its_error(client, coordinator, patient):
    case = CaseFactory(
        owner=patient, submitted=True, status=CaseStatus.TRIAGE, case_manager=coordinator
    )
    client.force_login(coordinator)
    response = client.post(
        reverse("records:request_create", args=[case.uuid]), {"note": "", "category": "labs"}
    )
    assert response.status_code == 400
    assert "Say what is needed" in response.content.decode()


def test_the_patient_deletes_from_the_record_page(client, patient, case):
    case.status = CaseStatus.TRIAGE
    case.save()
    record = RecordFactory(case=case)
    client.force_login(patient)
    assert (
        "Delete this record"
        in client.get(reverse("records:detail", args=[record.uuid])).content.decode()
    )
    response = client.post(reverse("records:delete", args=[record.uuid]))
    assert response.status_code == 302
    assert not Record.objects.filter(pk=record.pk).exists()


def test_a_withdrawn_request_is_gone_from_the_patients_next_step(client, coordinator, patient):
    case = CaseFactory(
        owner=patient, submitted=True, status=CaseStatus.AWAITING_RECORDS, case_manager=coordinator
    )
    asked = RecordRequestFactory(case=case, requested_by=coordinator, note="The CT from June")
    client.force_login(coordinator)
    client.post(reverse("records:request_cancel", args=[asked.uuid]))
    case.refresh_from_db()
    assert case.status == CaseStatus.TRIAGE
    html = page(client, patient, reverse("records:case_records", args=[case.uuid])).content.decode()
    assert "The CT from June" not in html


def test_thumbnails_are_served_to_those_who_see_the_record(client, patient, specialist, record):
    record.thumbnail_key = f"{record.prefix}thumbs/x.png"
    record.save()
    default_storage.save(record.thumbnail_key, ContentFile(b"\x89PNG\r\n\x1a\n"))
    for person in (patient, specialist):
        response = page(client, person, reverse("records:thumbnail", args=[record.uuid]))
        assert response.status_code == 200 and response["Content-Type"] == "image/png"


# --- The page's own refresh ------------------------------------------------------------------
def test_the_state_endpoint_says_how_each_record_stands_without_titles(
    client, patient, case, record
):
    checking = RecordFactory(case=case, state="scanning", title="Still being checked")
    refused = RecordFactory(
        case=case, state="rejected", reason="malware", title="Bad one", uploaded_by=patient
    )
    response = page(client, patient, reverse("records:states", args=[case.uuid]))
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    data = response.json()
    states = {row["id"]: row for row in data["records"]}
    assert states[str(record.uuid)]["state"] == "verified" and states[str(record.uuid)]["final"]
    assert states[str(checking.uuid)] == {
        "id": str(checking.uuid),
        "state": "scanning",
        "awaits": False,
        "label": "Being checked",
        "final": False,
        "reason": "",
        "dismiss_url": "",
    }
    assert "virus" in states[str(refused.uuid)]["reason"]
    assert states[str(refused.uuid)]["dismiss_url"] == reverse(
        "records:dismiss", args=[refused.uuid]
    )
    assert data["final"] is False
    assert "Still being checked" not in response.content.decode()
    assert "Bad one" not in response.content.decode()
    # Once all are checked the page stops asking.
    Record.objects.filter(pk=checking.pk).update(state="verified")
    assert page(client, patient, reverse("records:states", args=[case.uuid])).json()["final"]
    # A study labelled for another person is final but waits for the patient's answer.
    Record.objects.filter(pk=checking.pk).update(is_study=True, identity="asked")
    states = page(client, patient, reverse("records:states", args=[case.uuid])).json()
    flagged = next(row for row in states["records"] if row["id"] == str(checking.uuid))
    assert flagged["awaits"] is True and flagged["label"] == "Labelled for another person?"
    assert not any(row["awaits"] for row in states["records"] if row is not flagged)


def test_the_state_endpoint_is_the_pages_rule_and_writes_no_access_row(
    client, case, record, outsider, coordinator, specialist
):
    from tests.accounts.factories import UserFactory, enrol_totp

    other_coordinator = UserFactory(role="coordinator")
    enrol_totp(other_coordinator)
    url = reverse("records:states", args=[case.uuid])
    for person in (outsider, other_coordinator):
        assert page(client, person, url).status_code == 404
    before = AccessLog.objects.count()
    for person in (coordinator, specialist):
        assert page(client, person, url).status_code == 200
    assert AccessLog.objects.count() == before
    client.logout()
    assert client.get(url).status_code == 302


def test_the_page_refreshes_itself_only_while_something_is_being_checked(
    client, patient, case, record
):
    url = reverse("records:case_records", args=[case.uuid])
    html = page(client, patient, url).content.decode()
    assert 'data-checking="false"' in html and "js/records-status.js" in html
    RecordFactory(case=case, state="uploaded")
    assert 'data-checking="true"' in page(client, patient, url).content.decode()


# --- Dismissing a refused record ----------------------------------------------------------------
def test_the_patient_removes_a_refused_record_from_the_list_and_the_audit_keeps_it(
    client, patient, coordinator, case
):
    from secondop.audit.models import AuditEvent

    refused = RecordFactory(case=case, state="rejected", reason="malware", title="Infected scan")
    url = reverse("records:case_records", args=[case.uuid])
    html = page(client, patient, url).content.decode()
    assert "Remove from the list" in html and "Infected scan" in html
    response = client.post(reverse("records:dismiss", args=[refused.uuid]))
    assert response.status_code == 302 and response["Location"] == url
    followed = client.get(url).content.decode()
    assert "“Infected scan” was removed from your list." in followed
    assert f'id="record-{refused.uuid}"' not in followed
    refused.refresh_from_db()
    assert refused.dismissed_at is not None
    event = AuditEvent.objects.get(action="records.record.dismissed")
    assert event.actor == patient and event.old_values == {"state": "rejected", "reason": "malware"}
    # Gone for the care team too, and from its own page; a second press changes nothing.
    assert "Infected scan" not in page(client, coordinator, url).content.decode()
    assert page(client, patient, reverse("records:detail", args=[refused.uuid])).status_code == 404
    client.post(reverse("records:dismiss", args=[refused.uuid]))
    assert AuditEvent.objects.filter(action="records.record.dismissed").count() == 1


def test_only_a_refused_record_can_be_removed_and_only_by_its_patient_or_sender(
    client, patient, coordinator, specialist, outsider, case, record
):
    response = page(client, patient, reverse("records:detail", args=[record.uuid]))
    assert "Remove it from the list" not in response.content.decode()
    client.force_login(patient)
    response = client.post(reverse("records:dismiss", args=[record.uuid]), follow=True)
    assert "Only a file that was not accepted can be removed" in response.content.decode()
    record.refresh_from_db()
    assert record.dismissed_at is None
    refused = RecordFactory(case=case, state="rejected", reason="malware")
    for person in (outsider, coordinator):  # the case manager did not send it
        client.force_login(person)
        assert client.post(reverse("records:dismiss", args=[refused.uuid])).status_code == 404
    refused.refresh_from_db()
    assert refused.dismissed_at is None


# --- What a name claims and what a file is ------------------------------------------------------
def test_a_name_that_lies_about_the_type_is_shown_with_the_truth_in_words(client, patient, case):
    refused = RecordFactory(
        case=case,
        state="rejected",
        reason="mismatch",
        title="Lab report",
        mime="application/x-dosexec",
        file__name="report.pdf",
    )
    named_jpg = RecordFactory(case=case, title="Photo", mime="image/png", file__name="photo.jpg")
    html = page(client, patient, reverse("records:case_records", args=[case.uuid])).content.decode()
    assert "Named “.pdf”, but it is really a Windows program." in html
    assert "Named “.jpg”, but it is really a PNG picture." in html
    detail = page(client, patient, reverse("records:detail", args=[refused.uuid])).content.decode()
    assert "Named “.pdf”, but it is really a Windows program." in detail
    states = page(client, patient, reverse("records:states", args=[case.uuid])).json()["records"]
    assert next(r for r in states if r["id"] == str(refused.uuid))["reason"].startswith(
        "Named “.pdf”, but it is really a Windows program."
    )
    detail = page(
        client, patient, reverse("records:detail", args=[named_jpg.uuid])
    ).content.decode()
    # The MIME type only under "Technical details", folded, for those who ask.
    assert "A PNG picture" in detail and "image/png" not in detail.split("Technical details")[0]


# --- One look, one row --------------------------------------------------------------------------
def test_a_pdf_opened_in_a_tab_is_one_row_however_many_ranges_the_viewer_asks(
    client, specialist, record
):
    client.force_login(specialist)
    url = reverse("records:download", args=[record.uuid]) + "?open=1"
    assert client.get(url).status_code == 200
    for start in (0, 100, 200):
        client.get(url, HTTP_RANGE=f"bytes={start}-")
    rows = AccessLog.objects.filter(actor=specialist)
    assert sorted((row.object_type, row.kind, row.path) for row in rows) == [
        ("records.record", "download", reverse("records:download", args=[record.uuid])),
        ("requests_app.case", "view", reverse("records:download", args=[record.uuid])),
    ]
    # A Range request with nothing logged before it is logged.
    other = RecordFactory(case=record.case)
    client.get(reverse("records:download", args=[other.uuid]), HTTP_RANGE="bytes=0-")
    assert (
        AccessLog.objects.filter(actor=specialist, kind="download", object_id=str(other.pk)).count()
        == 1
    )


def test_a_staff_thumbnail_read_is_a_row_for_its_record_with_path_and_address(
    client, patient, coordinator, case, record
):
    record.thumbnail_key = f"{record.prefix}thumbs/x.png"
    record.save()
    default_storage.save(record.thumbnail_key, ContentFile(b"\x89PNG\r\n\x1a\n"))
    url = reverse("records:thumbnail", args=[record.uuid])
    client.force_login(coordinator)
    for _ in range(3):  # the page shown again: still one row (the browser keeps it 5 minutes)
        assert client.get(url, REMOTE_ADDR="203.0.113.9").status_code == 200
    rows = AccessLog.objects.filter(actor=coordinator)
    assert [(r.object_type, r.object_id, r.path, r.ip_address) for r in rows] == [
        ("records.record", str(record.pk), url, "203.0.113.9")
    ]
    html = page(client, patient, reverse("records:case_records", args=[case.uuid])).content.decode()
    assert f"{coordinator.full_name} (Coordinator), saw its preview" in html


def test_an_oversized_upload_request_is_a_message_not_an_error_page(
    client, patient, case, settings
):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client.force_login(patient)
    response = post_json(
        client,
        reverse("records:slots", args=[case.uuid]),
        {
            "category": "labs",
            "title": "é" * 2000,
            "files": [{"client_id": "u", "name": "a.png", "size": 10, "type": "image/png"}],
        },
    )
    assert response.status_code == 400
    assert "A title can be at most 200 characters" in response.json()["message"]
    assert not Record.objects.filter(case=case).exists()


# --- Imaging from a ZIP, viewer software, records not scanned -----------------------------
ZIPPED_CD = {
    "studies": [
        {
            "study_uid": "1.2.3",
            "date": "2024-01-31",
            "description": "CT CHEST",
            "modalities": ["CT", "MR"],
            "series": [
                {
                    "series_uid": "1.2.3.1",
                    "modality": "CT",
                    "body_part": "CHEST",
                    "description": "",
                    "number": 1,
                    "instances": 2,
                },
                {
                    "series_uid": "1.2.3.2",
                    "modality": "MR",
                    "body_part": "CHEST",
                    "description": "",
                    "number": 2,
                    "instances": 2,
                },
            ],
        }
    ],
    "series_count": 2,
    "instance_count": 4,
    "modalities": ["CT", "MR"],
    "skipped": ["AUTORUN.INF", "VIEWER/viewer.exe"],
}


def test_a_zipped_cd_shows_its_modalities_like_a_folder(client, patient, coordinator, case):
    RecordFactory(
        case=case,
        category="imaging",
        title="CT disc",
        is_study=False,
        mime="application/zip",
        study=ZIPPED_CD,
        file__name="CD.zip",
    )
    RecordFactory(
        case=case,
        category="imaging",
        title="MR folder",
        is_study=True,
        study={**ZIPPED_CD, "skipped": []},
        file__name="CD/IM1",
    )
    url = reverse("records:case_records", args=[case.uuid])
    for person in (patient, coordinator):
        html = page(client, person, url).content.decode()
        assert html.count("CT, MR · 2 series, 4 images") == 2
        assert (
            html.count("The viewer program on your CD was not kept: we show the images ourselves.")
            == 1
        )


def test_the_record_page_says_the_viewer_was_not_kept(client, patient, case):
    record = RecordFactory(
        case=case,
        category="imaging",
        title="CT disc",
        is_study=False,
        mime="application/zip",
        study=ZIPPED_CD,
        file__name="CD.zip",
    )
    html = page(client, patient, reverse("records:detail", args=[record.uuid])).content.decode()
    assert "The viewer program on your CD was not kept: we show the images ourselves." in html
    assert "Kind of scan" in html and "CT, MR" in html


def test_a_record_checked_without_a_scanner_says_so_to_everyone(
    client, patient, coordinator, specialist, case, settings
):
    settings.CLAMD_ADDRESS = ""
    record = RecordFactory(case=case, title="Scanned letter", virus_scan_skipped=True)
    for person in (patient, coordinator, specialist):
        listing = page(client, person, reverse("records:case_records", args=[case.uuid]))
        html = listing.content.decode()
        assert "Ready, not checked for viruses" in html
        assert "Checked and ready" not in html
        assert "not checked for viruses: no virus scanner is set up" in html
        detail = page(client, person, reverse("records:detail", args=[record.uuid]))
        assert "This record was not checked for viruses" in detail.content.decode()


def test_with_a_scanner_nothing_says_otherwise(client, patient, case, record, settings):
    settings.CLAMD_ADDRESS = "tcp://127.0.0.1:3310"
    html = page(client, patient, reverse("records:case_records", args=[case.uuid])).content.decode()
    assert "Checked and ready" in html and "not checked for viruses" not in html


def test_the_case_pages_panel_counts_records_not_checked_for_viruses(client, patient, case):
    RecordFactory(case=case, title="Scanned letter", virus_scan_skipped=True)
    RecordFactory(case=case, title="Blood count")
    html = page(
        client, patient, reverse("requests_app:case_detail", args=[case.uuid])
    ).content.decode()
    assert "2 records checked and ready (1 not checked for viruses)" in html


def test_the_case_pages_panel_does_not_count_a_study_labelled_for_another_person_as_ready(
    client, patient, specialist, case
):
    RecordFactory(case=case, title="Blood count")
    RecordFactory(
        case=case, title="Outside CT", category="imaging", is_study=True, identity="asked"
    )
    url = reverse("requests_app:case_detail", args=[case.uuid])
    html = page(client, patient, url).content.decode()
    assert "1 record checked and ready, 1 waiting for your answer" in html
    assert "2 records checked and ready" not in html
    # The specialist is not shown it at all (records_for_viewer): one record, ready.
    staff = page(client, specialist, reverse("requests_app:staff_case", args=[case.uuid]))
    text = staff.content.decode()
    assert "1 record checked and ready." in text and "waiting for your answer" not in text


# --- What the page says about keeping the files ---------------------------------------------
def test_the_records_page_states_the_retention_policy(
    client, patient, coordinator, case, record, settings
):
    settings.RECORDS_KEEP_DAYS_AFTER_END = 90
    settings.CASE_STAFF_READ_DAYS_AFTER_CLOSE = 30
    url = reverse("records:case_records", args=[case.uuid])
    html = page(client, patient, url).content.decode()
    assert (
        "We keep the files sent for a request until 90 days after it is closed or withdrawn" in html
    )
    assert "signed report" in html and "for 30 days" in html
    case.status, case.closed_at = CaseStatus.CLOSED, timezone.now()
    case.save()
    html = page(client, patient, url).content.decode()
    when = timezone.localtime(case.closed_at + datetime.timedelta(days=90))
    assert f"will be deleted on {when.day} {when:%B %Y}" in html
    assert "Download all checked records" not in page(client, coordinator, url).content.decode()


# Each list runs only the queries it needs, however many rows it shows; a change here is a
# change to weigh. The patient: the user, the case, the records, the checklist's and the
# open requests, the looks, the bytes used, the sources. The case manager adds the TOTP
# check's and the two access-log rows (the case, the records shown).
RECORDS_PAGE_QUERIES = {"patient": 10, "coordinator": 12}


@pytest.mark.parametrize("who", RECORDS_PAGE_QUERIES)
def test_the_records_page_runs_as_many_queries_for_50_records_as_for_1(
    client, request, case, specialist, who
):
    from secondop.audit.models import AccessLog as Log
    from secondop.audit.services import log_access
    from tests.helpers import assert_constant_queries

    viewer = request.getfixturevalue(who)
    client.force_login(viewer)

    def grow(n):  # n records, each opened by the specialist (the patient sees who looked)
        while case.records.count() < n:
            record = RecordFactory(case=case, category=("labs", "pathology", "imaging")[n % 3])
            log_access(viewer=specialist, obj=record, kind=Log.Kind.DOWNLOAD)

    url = reverse("records:case_records", args=[case.uuid])
    assert assert_constant_queries(client, lambda n: url, grow) == RECORDS_PAGE_QUERIES[who]
