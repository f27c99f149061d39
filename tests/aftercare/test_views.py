"""The aftercare pages as a person meets them: what each shows, to whom, and
at what cost in queries."""

import pytest
from django.urls import reverse

from requests_app.aftercare.models import FollowUpQuestion, ShareOpening
from requests_app.models import CaseStatus
from tests.aftercare.factories import delivered_case, sent_share
from tests.helpers import assert_constant_queries
from tests.requests_app.factories import CaseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(patient, specialist, coordinator):
    return delivered_case(owner=patient, specialist=specialist, case_manager=coordinator)


def test_the_case_page_offers_sharing_and_follow_up_once_delivered(client, case):
    client.force_login(case.owner)
    html = client.get(reverse("requests_app:case_detail", args=[case.uuid])).content.decode()
    assert "Send your report to your doctor" in html
    assert reverse("aftercare:share", args=[case.uuid]) in html
    assert "You can ask the specialist 3 more questions until" in html


def test_before_delivery_the_case_page_says_nothing_of_it(client, patient):
    case = CaseFactory(owner=patient, submitted=True)
    client.force_login(patient)
    html = client.get(reverse("requests_app:case_detail", args=[case.uuid])).content.decode()
    assert "Follow-up questions" not in html and "Send your report" not in html


def test_the_share_page_lists_each_link_and_what_became_of_it(client, case):
    sent_share(case=case, email="first@clinic.example", revoked=True)
    _share, token = sent_share(case=case, email="second@clinic.example")
    client.get(reverse("aftercare:shared_report", args=[token]))
    client.force_login(case.owner)
    html = client.get(reverse("aftercare:share", args=[case.uuid])).content.decode()
    assert "first@clinic.example" in html and "Withdrawn" in html
    assert "second@clinic.example" in html and "Opened by your physician on" in html
    assert "Withdraw the link sent to second@clinic.example" in html
    assert "Withdraw the link sent to first@clinic.example" not in html


def test_the_physicians_page_shows_no_account_furniture_and_no_token_in_links_out(client, case):
    _share, token = sent_share(case=case)
    response = client.get(reverse("aftercare:shared_report", args=[token]))
    html = response.content.decode()
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert "Signed in as" not in html
    # The token appears only in the page's own download links (the PDF, the FHIR file).
    assert html.count(token) == 2
    assert f'href="/shared/{token}/pdf/"' in html
    assert f'href="/shared/{token}/fhir/"' in html


def test_the_physicians_page_needs_no_more_queries_with_more_openings(client, case):
    _share, token = sent_share(case=case)
    url = reverse("aftercare:shared_report", args=[token])

    def grow(n):
        while ShareOpening.objects.count() < n:
            client.get(url)

    assert_constant_queries(client, lambda n: url, grow, sizes=(1, 20))


def test_the_case_page_panel_needs_no_more_queries_with_more_links_and_questions(client, case):
    client.force_login(case.owner)
    url = reverse("requests_app:case_detail", args=[case.uuid])

    def grow(n):
        while case.report.shares.count() < n:
            share, _token = sent_share(case=case, email=f"dr{n}@example.com")
            ShareOpening.objects.create(
                share=share, kind="view", version=case.report.versions.get()
            )
        while FollowUpQuestion.objects.filter(case=case).count() < min(n, 3):
            FollowUpQuestion.objects.create(
                case=case,
                asked_by=case.owner,
                text="Why?",
                position=FollowUpQuestion.objects.filter(case=case).count() + 1,
            )

    # Pinned (issue 23): each panel's rows read once for the page, the shares and the
    # released version shared between the panels that show them.
    assert assert_constant_queries(client, lambda n: url, grow, sizes=(1, 10)) == 24


def test_the_staff_page_shows_follow_up_and_sharing_without_details(client, case, coordinator):
    _share, token = sent_share(case=case)
    client.get(reverse("aftercare:shared_report", args=[token]))
    client.force_login(coordinator)
    html = client.get(reverse("requests_app:staff_case", args=[case.uuid])).content.decode()
    assert "After the report" in html
    assert "The patient sent the report to a doctor (1 link); opened." in html


def test_the_follow_up_page_lists_the_questions_and_the_form(client, case):
    FollowUpQuestion.objects.create(
        case=case, asked_by=case.owner, position=1, text="<script>alert(1)</script>"
    )
    case.status = CaseStatus.FOLLOW_UP
    case.save(update_fields=["status"])
    client.force_login(case.owner)
    html = client.get(reverse("aftercare:follow_up", args=[case.uuid])).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    assert "Waiting for the specialist" in html
    assert "You can ask 2 more questions until" in html
