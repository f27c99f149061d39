"""requests_app.reports.views: writing and autosave, signing with
re-authentication, the case manager's review, the patient's reading page and
downloads, and who gets a 404."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from requests_app.models import CaseStatus
from requests_app.reports import services
from requests_app.reports.models import ReportVersion
from secondop.audit.models import AccessLog
from tests.accounts.factories import PASSWORD, UserFactory, enrol_totp
from tests.helpers import assert_constant_queries
from tests.reports.factories import ANSWER_1, ANSWER_2, assigned_case, release, sign, write_draft

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(patient, coordinator, specialist):
    return assigned_case(patient, coordinator, specialist)


def as_user(client, user):
    client.force_login(user)
    return client


def form_data(case, **overrides) -> dict:
    record = case.records.get(state="verified")
    return {
        "records": [str(record.uuid)],
        "summary": "Findings in the biopsy.",
        "diagnosis_opinion": "different",
        "diagnosis": "Fibroadenoma",
        "icd10": "",
        "diagnosis_comment": "",
        "treatment_opinion": "alternative",
        "recommendations": "Watchful waiting.",
        "prognosis": "Good.",
        "follow_up": "",
        "reasons": "The biopsy shows a benign tumour.",
        "trials_note": "",
        "trial_ids": "",
        "evidence": "",
        "attached_record": "",
        "answer_1": ANSWER_1,
        "answer_2": ANSWER_2,
        **overrides,
    }


# --- Writing -----------------------------------------------------------------------------------
def test_it_shows_the_specialist_the_form_with_the_patients_questions(client, case, specialist):
    html = (
        as_user(client, specialist).get(reverse("reports:write", args=[case.uuid])).content.decode()
    )
    assert "Is surgery my only option?" in html and "Should anything be done first?" in html
    assert "Core biopsy, left breast" in html
    assert f'data-autosave-url="{reverse("reports:autosave", args=[case.uuid])}"' in html
    assert "Cannot determine without more tests" in html and "Recommends an alternative" in html


def test_save_draft_without_javascript(client, case, specialist):
    url = reverse("reports:write", args=[case.uuid])
    response = as_user(client, specialist).post(url, {**form_data(case), "action": "save"})
    assert response.status_code == 302 and response["Location"] == url
    draft = ReportVersion.objects.get()
    assert draft.diagnosis == "Fibroadenoma" and draft.status == "draft"
    html = client.get(url).content.decode()
    assert "Draft saved at" in html and "Fibroadenoma" in html


def test_autosave_answers_with_the_time_it_saved(client, case, specialist):
    url = reverse("reports:autosave", args=[case.uuid])
    response = as_user(client, specialist).post(url, form_data(case, summary="Typed so far"))
    assert response.status_code == 200
    assert response.json()["message"].startswith("Saved at ")
    assert ReportVersion.objects.get().summary == "Typed so far"
    # What cannot be saved says so.
    response = client.post(url, form_data(case, icd10="ZZZ.99"))
    assert response.status_code == 400 and "Not saved" in response.json()["message"]


def test_autosave_refuses_a_null_character_in_any_text(client, case, specialist):
    """The JSON endpoint goes through ReportForm, so Django's null-character check
    applies (PostgreSQL cannot store a NUL: it would be a 500)."""
    url = reverse("reports:autosave", args=[case.uuid])
    as_user(client, specialist)
    for field in ("summary", "diagnosis", "recommendations", "icd10", "answer_1"):
        response = client.post(url, form_data(case, **{field: "Typed\x00 so far"}))
        assert response.status_code == 400 and "Not saved" in response.json()["message"]
    assert not ReportVersion.objects.filter(summary__contains="Typed").exists()


def test_a_signed_version_cannot_be_edited_through_the_pages(client, case, specialist):
    version = sign(case, specialist)
    as_user(client, specialist)
    response = client.post(
        reverse("reports:autosave", args=[case.uuid]), form_data(case, summary="Sneaked in")
    )
    assert response.status_code == 409 and "amend" in response.json()["message"]
    response = client.post(
        reverse("reports:write", args=[case.uuid]),
        {**form_data(case, summary="Sneaked in"), "action": "save"},
    )
    assert response.status_code == 302
    version.refresh_from_db()
    assert version.summary.startswith("Core biopsy")


def test_the_case_manager_reads_but_does_not_write(client, case, coordinator):
    as_user(client, coordinator)
    for name in ("write", "autosave", "sign", "amend"):
        response = client.post(reverse(f"reports:{name}", args=[case.uuid]), form_data(case))
        assert response.status_code == 403, name


# --- Signing ---------------------------------------------------------------------------------------
def test_the_sign_page_lists_what_is_missing_with_links(client, case, specialist):
    write_draft(case, specialist, treatment_opinion="", answers={1: ANSWER_1, 2: ""})
    html = (
        as_user(client, specialist).get(reverse("reports:sign", args=[case.uuid])).content.decode()
    )
    write = reverse("reports:write", args=[case.uuid])
    assert f'href="{write}#id_treatment_opinion"' in html
    assert f'href="{write}#id_answer_2"' in html and "Sign the report" not in html


def test_signing_without_reauthentication_asks_for_it_then_signs(client, case, specialist):
    write_draft(case, specialist)
    sign_url = reverse("reports:sign", args=[case.uuid])
    response = as_user(client, specialist).post(sign_url)
    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == reverse("account_reauthenticate")
    assert parse_qs(urlsplit(response["Location"]).query)["next"] == [sign_url]
    assert ReportVersion.objects.get().status == "draft"
    # The password, and the suspended signature goes through.
    response = client.post(response["Location"], {"password": PASSWORD})
    version = ReportVersion.objects.get()
    assert version.status == "signed"
    assert response.status_code == 302
    assert response["Location"] == reverse("reports:version", args=[version.uuid])
    case.refresh_from_db()
    assert case.status == CaseStatus.REPORT_READY


def test_a_recent_reauthentication_signs_at_once(client, case, specialist):
    write_draft(case, specialist)
    as_user(client, specialist)
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    response = client.post(reverse("reports:sign", args=[case.uuid]))
    version = ReportVersion.objects.get()
    assert version.status == "signed"
    assert response["Location"] == reverse("reports:version", args=[version.uuid])


def test_a_signed_version_reads_preparing_until_its_pdf_is_stored(client, case, specialist):
    version = sign(case, specialist, render=False)
    html = (
        as_user(client, specialist)
        .get(reverse("reports:version", args=[version.uuid]))
        .content.decode()
    )
    assert "Preparing the PDF…" in html
    assert ANSWER_1 not in html and "Core biopsy shows" not in html
    assert client.get(reverse("reports:pdf", args=[version.uuid])).status_code == 404


# --- Review -----------------------------------------------------------------------------------------
def test_the_case_manager_reviews_and_releases(client, case, specialist, coordinator, patient):
    version = sign(case, specialist)
    as_user(client, coordinator)
    html = client.get(reverse("reports:version", args=[version.uuid])).content.decode()
    assert "Release the report to the patient" in html and ANSWER_2 in html
    assert AccessLog.objects.filter(
        actor=coordinator, object_type="reports.reportversion", object_id=str(version.pk)
    ).exists()
    response = client.post(reverse("reports:release", args=[version.uuid]))
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.DELIVERED


def test_the_case_manager_returns_it_with_a_comment_the_specialist_sees(
    client, case, specialist, coordinator
):
    version = sign(case, specialist)
    as_user(client, coordinator)
    response = client.post(reverse("reports:return", args=[version.uuid]), {"comment": ""})
    assert (
        response.status_code == 400
        and "Say what the specialist should change" in response.content.decode()
    )
    client.post(
        reverse("reports:return", args=[version.uuid]),
        {"comment": "Answer question 2 in plain words."},
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_REVIEW
    html = (
        as_user(client, specialist).get(reverse("reports:write", args=[case.uuid])).content.decode()
    )
    assert "Version 1 was returned for changes" in html
    assert "Answer question 2 in plain words." in html


def test_the_specialist_cannot_release(client, case, specialist):
    version = sign(case, specialist)
    as_user(client, specialist)
    assert client.post(reverse("reports:release", args=[version.uuid])).status_code == 403
    assert (
        client.post(reverse("reports:return", args=[version.uuid]), {"comment": "x"}).status_code
        == 403
    )


# --- The patient ----------------------------------------------------------------------------------
def test_the_patient_cannot_see_drafts_or_unreleased_versions(client, case, specialist, patient):
    draft = write_draft(case, specialist)
    as_user(client, patient)
    urls = [
        reverse("reports:case", args=[case.uuid]),
        reverse("reports:version", args=[draft.uuid]),
        reverse("reports:pdf", args=[draft.uuid]),
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url
    version = sign(case, specialist)
    for url in [
        *urls,
        reverse("reports:version", args=[version.uuid]),
        reverse("reports:pdf", args=[version.uuid]),
    ]:
        assert client.get(url).status_code == 404, url
    assert (
        "Read your report"
        not in client.get(reverse("requests_app:case_detail", args=[case.uuid])).content.decode()
    )


def test_the_patient_reads_each_question_with_its_answer_and_downloads_the_pdf(
    client, case, specialist, coordinator, patient
):
    version = sign(case, specialist)
    release(case, coordinator)
    as_user(client, patient)
    detail = client.get(reverse("requests_app:case_detail", args=[case.uuid])).content.decode()
    assert "Read your report" in detail
    html = client.get(reverse("reports:case", args=[case.uuid])).content.decode()
    assert "Your questions, answered" in html
    question, answer = html.index("Is surgery my only option?"), html.index(ANSWER_1)
    assert question < answer < html.index("Should anything be done first?") < html.index(ANSWER_2)
    assert "The specialist thinks your condition is different" not in html
    assert "makes it more precise" in html  # the opinion in plain words
    response = client.get(reverse("reports:pdf", args=[version.uuid]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == default_storage.open(version.pdf_key).read()
    assert response["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response["Cache-Control"]
    assert (
        AccessLog.objects.filter(actor=patient, kind="download", object_id=str(version.pk)).count()
        == 1
    )


def test_the_patient_reads_a_replaced_version_marked_as_replaced(
    client, case, specialist, coordinator, patient
):
    first = sign(case, specialist)
    release(case, coordinator)
    services.report_amend(actor=specialist, case_ref=case.uuid, reason="The CT was re-read.")
    sign(case, specialist)
    release(case, coordinator)
    as_user(client, patient)
    html = client.get(reverse("reports:version", args=[first.uuid])).content.decode()
    assert "This version was replaced on" in html and "The CT was re-read." in html
    assert client.get(reverse("reports:pdf", args=[first.uuid])).status_code == 200
    current = client.get(reverse("reports:case", args=[case.uuid])).content.decode()
    assert "This version was replaced" not in current and "Earlier versions" in current


def test_the_patients_report_page_reads_a_fixed_number_of_queries(
    client, case, specialist, coordinator, patient
):
    """Issue 23: the released versions read once (the one read, the newest, the
    earlier ones), the version's case not read again; as many with three versions
    as with one."""
    sign(case, specialist)
    release(case, coordinator)
    as_user(client, patient)
    url = reverse("reports:case", args=[case.uuid])

    def grow(n):
        while ReportVersion.objects.filter(report__case=case, status="released").count() < n:
            services.report_amend(actor=specialist, case_ref=case.uuid, reason="Re-read.")
            sign(case, specialist)
            release(case, coordinator)

    assert assert_constant_queries(client, lambda n: url, grow, sizes=(1, 3)) == 10


def test_an_s3_download_is_a_minute_long_presigned_get(
    client, case, specialist, coordinator, patient, s3_storage, s3_server
):
    version = sign(case, specialist)
    release(case, coordinator)
    response = as_user(client, patient).get(reverse("reports:pdf", args=[version.uuid]))
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(s3_server["endpoint"])
    assert parse_qs(urlsplit(location).query)["X-Amz-Expires"] == ["60"]
    import urllib.request

    with urllib.request.urlopen(location) as fetched:
        assert fetched.read().startswith(b"%PDF-")


# --- Outsiders ----------------------------------------------------------------------------------
def test_outsiders_get_404_on_every_url(client, case, specialist, coordinator, outsider):
    first = sign(case, specialist)
    release(case, coordinator)
    services.report_amend(actor=specialist, case_ref=case.uuid, reason="Typo")
    draft = ReportVersion.objects.get(status="draft")
    other_specialist = UserFactory(role="specialist")
    enrol_totp(other_specialist)
    other_coordinator = UserFactory(role="coordinator")  # not the case manager
    enrol_totp(other_coordinator)
    case_urls = [
        reverse(f"reports:{name}", args=[case.uuid])
        for name in ("case", "write", "autosave", "sign", "amend")
    ]
    version_urls = [
        reverse(f"reports:{name}", args=[version.uuid])
        for name in ("version", "pdf", "release", "return")
        for version in (first, draft)
    ]
    AccessLog.objects.all().delete()
    for person in (outsider, other_specialist, other_coordinator):
        as_user(client, person)
        for url in case_urls + version_urls:
            for method in (client.get, client.post):
                status = method(url).status_code
                assert status in (404, 405), (person.role, method.__name__, url, status)
                if method is client.get and not url.endswith(
                    ("/autosave/", "/release/", "/return/")
                ):
                    assert status == 404, (person.role, url)
    # (Another coordinator may read the case itself; never its report.)
    assert not AccessLog.objects.filter(object_type="reports.reportversion").exists()


def test_the_case_pages_show_the_report_panel(client, case, specialist, coordinator):
    as_user(client, specialist)
    html = client.get(reverse("requests_app:staff_case", args=[case.uuid])).content.decode()
    assert reverse("reports:write", args=[case.uuid]) in html
    sign(case, specialist)
    html = (
        as_user(client, coordinator)
        .get(reverse("requests_app:staff_case", args=[case.uuid]))
        .content.decode()
    )
    assert "Review the report" in html
