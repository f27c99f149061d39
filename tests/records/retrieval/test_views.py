"""records.retrieval's pages: the patient lists and signs, the case manager sends
and tracks; outsiders get the case's 404; the queue filters on the clocks."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from records.retrieval.models import RecordSource
from secondop.audit.models import AccessLog
from tests.accounts.factories import UserFactory, enrol_totp
from tests.records.retrieval.factories import SourceFactory, sent_source
from tests.requests_app.factories import CaseFactory

pytestmark = pytest.mark.django_db

FORM = {
    "name": "Mercy Hospital",
    "kind": "diagnosing_hospital",
    "email": "records@mercy.example",
    "fax": "",
    "postal_address": "",
    "wanted": ["pathology_report", "visit_notes"],
}


@pytest.fixture
def case(patient, coordinator):
    return CaseFactory(
        owner=patient, submitted=True, case_manager=coordinator, patient_name="Pat Patient"
    )


def test_it_the_patient_adds_a_source(client, patient, case):
    client.force_login(patient)
    response = client.post(reverse("retrieval:sources", args=[case.uuid]), FORM)
    source = RecordSource.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("retrieval:source", args=[source.uuid])
    page = client.get(response["Location"]).content.decode()
    assert "Mercy Hospital" in page and "Waiting for your signature" in page


def test_it_keeps_what_was_typed_and_says_what_is_missing(client, patient, case):
    client.force_login(patient)
    response = client.post(
        reverse("retrieval:sources", args=[case.uuid]), {**FORM, "email": "", "name": "St Jude"}
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "Give at least one way to reach its records office" in page
    assert 'value="St Jude"' in page
    assert not RecordSource.objects.exists()


def test_it_gives_outsiders_the_cases_404(client, outsider, case):
    source = SourceFactory(case=case)
    client.force_login(outsider)
    for url in (
        reverse("retrieval:sources", args=[case.uuid]),
        reverse("retrieval:source", args=[source.uuid]),
        reverse("retrieval:letter", args=[source.uuid]),
        reverse("retrieval:sign", args=[source.uuid]),
    ):
        assert client.get(url).status_code == 404, url


def test_it_hides_sources_from_other_coordinators_and_specialists(client, case, specialist):
    source = SourceFactory(case=case)
    case.specialist = specialist
    case.save()
    other = UserFactory(role="coordinator")
    enrol_totp(other)
    for person in (other, specialist):
        client.force_login(person)
        assert client.get(reverse("retrieval:sources", args=[case.uuid])).status_code == 404
        assert client.get(reverse("retrieval:source", args=[source.uuid])).status_code == 404


def test_it_the_patient_signs_after_reading_the_letter(client, patient, case):
    source = SourceFactory(case=case)
    client.force_login(patient)
    url = reverse("retrieval:sign", args=[source.uuid])
    page = client.get(url).content.decode()
    assert "45 CFR 164.524" in page and "Pat Patient" in page and "17 May 1970" in page
    wrong = client.post(url, {"agree": "on", "signature": "Pat Smith"})
    assert wrong.status_code == 400
    assert "exactly as the request gives it: Pat Patient" in wrong.content.decode()
    assert 'value="Pat Smith"' in wrong.content.decode()
    right = client.post(url, {"agree": "on", "signature": "Pat Patient"})
    assert right.status_code == 302
    source.refresh_from_db()
    assert source.is_signed and source.signed_ip == "127.0.0.1"


def test_it_the_case_manager_cannot_sign(client, coordinator, case):
    source = SourceFactory(case=case)
    client.force_login(coordinator)
    assert client.get(reverse("retrieval:sign", args=[source.uuid])).status_code == 403


def test_it_downloads_the_letter_and_logs_a_staff_download(client, coordinator, case):
    source = SourceFactory(case=case, signed=True)
    client.force_login(coordinator)
    response = client.get(reverse("retrieval:letter", args=[source.uuid]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert AccessLog.objects.filter(actor=coordinator, kind=AccessLog.Kind.DOWNLOAD).exists()


def test_it_records_a_fax_from_the_source_page(client, coordinator, case):
    source = SourceFactory(case=case, signed=True)
    client.force_login(coordinator)
    today = timezone.localdate()
    url = reverse("retrieval:send", args=[source.uuid])
    missing = client.post(url, {"how": "fax"})
    assert missing.status_code == 400
    assert "Enter the day it was faxed or posted." in missing.content.decode()
    response = client.post(
        url,
        {
            "how": "fax",
            "sent_on_day": today.day,
            "sent_on_month": today.month,
            "sent_on_year": today.year,
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    source.refresh_from_db()
    assert source.sent_by == "fax" and source.due_on == today + datetime.timedelta(days=30)


def test_it_the_patient_sees_the_clock_on_the_records_page(client, patient, case):
    sent_source(case=case, days_ago=0)
    client.force_login(patient)
    page = client.get(reverse("records:case_records", args=[case.uuid])).content.decode()
    today = timezone.localdate()
    due = today + datetime.timedelta(days=30)
    asked = f"{today.day} {today.strftime('%B')}"
    # One sentence: the source's name (its link) then its clock, the name said once.
    assert re.search(rf"<strong>Mercy Hospital</strong></a>: asked on {asked}, due by ", page)
    assert f"due by {due.day} {due.strftime('%B')}" in page
    assert page.count("Mercy Hospital") == 1


def test_it_the_staff_case_page_shows_the_clocks(client, coordinator, case):
    sent_source(case=case, days_ago=31, name="Valley Lab")
    client.force_login(coordinator)
    page = client.get(reverse("requests_app:staff_case", args=[case.uuid])).content.decode()
    assert "Valley Lab" in page and "late: not all received by the due date" in page


def test_it_the_queue_filters_on_records_offices(client, coordinator, patient, case):
    waiting = CaseFactory(owner=patient, submitted=True, patient_name="Wanda Waiting")
    sent_source(case=waiting, days_ago=3)
    sent_source(case=case, days_ago=31)
    CaseFactory(owner=patient, submitted=True, patient_name="Nora Nothing")
    client.force_login(coordinator)
    url = reverse("requests_app:coordinator_home")
    client.post(url, {"records_waiting": "on"})
    page = client.get(url).content.decode()
    assert "Wanda Waiting" in page and "Pat Patient" in page and "Nora Nothing" not in page
    client.post(url, {"records_overdue": "on"})
    page = client.get(url).content.decode()
    assert "Pat Patient" in page and "Wanda Waiting" not in page
