"""A records office's upload page and its JSON endpoints: no Referer onwards, never
cached, the token in no audit or access row; a 410 page for a link that no longer
opens, a 429 past the wrong-token limit; the case manager extends and revokes."""

import datetime
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from records.retrieval import office_services as office
from records.retrieval.models import OfficeLink
from requests_app.models import CaseStatus
from secondop.audit.models import AccessLog, AuditEvent
from tests.records.retrieval.factories import sent_source
from tests.records.services.uploading import one_file
from tests.requests_app.factories import CaseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(patient, coordinator):
    return CaseFactory(
        owner=patient, submitted=True, case_manager=coordinator, patient_name="Pat Patient"
    )


@pytest.fixture
def source(case):
    return sent_source(case=case, days_ago=3)


@pytest.fixture
def token(source):
    return office.link_issue(source=source, actor=None)


def test_the_page_opens_without_an_account_and_leaks_nothing(client, token, source):
    response = client.get(reverse("retrieval:office", args=[token]))
    page = response.content.decode()
    assert response.status_code == 200
    assert response["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response["Cache-Control"]
    assert "noindex" in response["X-Robots-Tag"]
    assert "Send records to SecondOp" in page and "Mercy Hospital" in page
    assert "Pat Patient" in page
    # The uploader posts to this link's own slots.
    assert reverse("retrieval:office_slots", args=[token]) in page
    rows = list(AccessLog.objects.all())
    assert rows and all(token not in row.path for row in rows)
    assert any(row.path.startswith("/records-requests/from/[token]") for row in rows)


def test_no_audit_row_of_an_upload_carries_the_token(client, token):
    response = client.post(
        reverse("retrieval:office_slots", args=[token]),
        json.dumps({"category": "pathology", "title": "Biopsy report", "files": [one_file()]}),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert response["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response["Cache-Control"]
    rows = list(AuditEvent.objects.filter(action="records.record.slots_created"))
    assert len(rows) == 1
    for row in AuditEvent.objects.all():
        assert token not in row.path and token not in json.dumps(row.new_values)
    assert any(row.path.startswith("/records-requests/from/[token]/slots/") for row in rows)
    for row in AccessLog.objects.all():
        assert token not in row.path


@pytest.mark.parametrize(
    ("spoil", "says"),
    [
        ("revoke", "This upload link was withdrawn."),
        ("expire", "This upload link has expired."),
        ("withdraw", "This upload link was withdrawn."),
        ("close", "This upload link has expired."),
    ],
)
def test_a_link_that_no_longer_opens_is_a_410_page(client, token, source, spoil, says):
    if spoil == "revoke":
        OfficeLink.objects.update(revoked_at=timezone.now())
    elif spoil == "expire":
        OfficeLink.objects.update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    else:
        source.case.status = CaseStatus.WITHDRAWN if spoil == "withdraw" else CaseStatus.CLOSED
        source.case.save()
    response = client.get(reverse("retrieval:office", args=[token]))
    page = response.content.decode()
    assert response.status_code == 410
    assert says in page and "we will send you a new link" in page
    assert "Pat Patient" not in page and "Mercy Hospital" not in page
    assert response["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response["Cache-Control"]
    slots = client.post(
        reverse("retrieval:office_slots", args=[token]),
        json.dumps({"category": "pathology", "title": "x", "files": [one_file()]}),
        content_type="application/json",
    )
    assert slots.status_code == 410 and slots.json()["message"] == says


def test_too_many_wrong_tokens_is_a_429_page_and_the_right_one_still_opens(client, token, settings):
    settings.OFFICE_BAD_TOKEN_LIMIT = 2
    for _ in range(2):
        wrong = client.get(reverse("retrieval:office", args=["not-a-real-token"]))
        assert wrong.status_code == 404
        assert "Please check that the whole link was copied" in wrong.content.decode()
    response = client.get(reverse("retrieval:office", args=["still-not-real"]))
    page = response.content.decode()
    assert response.status_code == 429
    assert "Too many attempts" in page and "Too many wrong links were tried" in page
    assert response["Referrer-Policy"] == "no-referrer"
    assert client.get(reverse("retrieval:office", args=[token])).status_code == 200


def test_the_case_manager_extends_and_revokes_from_the_source_page(
    client, coordinator, patient, source, token
):
    client.force_login(coordinator)
    page = client.get(reverse("retrieval:source", args=[source.uuid])).content.decode()
    assert "The records office's upload link" in page
    assert "One link is open" in page
    response = client.post(reverse("retrieval:link_extend", args=[source.uuid]), follow=True)
    assert "The upload link now works 30 days more." in response.content.decode()
    response = client.post(reverse("retrieval:link_revoke", args=[source.uuid]), follow=True)
    assert "The upload link is withdrawn" in response.content.decode()
    assert client.get(reverse("retrieval:office", args=[token])).status_code == 410
    client.force_login(patient)
    assert client.post(reverse("retrieval:link_extend", args=[source.uuid])).status_code == 403
