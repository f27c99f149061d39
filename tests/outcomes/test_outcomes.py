"""requests_app.outcomes: the SURE test before and after, the 90-day question
(asked once), turnaround, and the public page of our figures."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from requests_app.outcomes import selectors, services, tasks
from requests_app.outcomes.models import SureAnswer, TreatmentOutcome
from secondop.notifications.models import Notification
from tests.accounts.factories import UserFactory
from tests.aftercare.factories import delivered_case
from tests.requests_app.factories import CaseFactory

pytestmark = pytest.mark.django_db

ALL_YES = {"sure": "yes", "understand": "yes", "risk_benefit": "yes", "encouragement": "yes"}


@pytest.fixture
def specialist(db):
    return UserFactory(role="specialist")


def test_sure_before_is_asked_on_the_sent_page_and_scored(client, patient):
    case = CaseFactory(owner=patient, submitted=True)
    client.force_login(patient)
    page = client.get(reverse("requests_app:case_sent", args=[case.uuid]))
    assert "Do you feel SURE about the best choice for you?" in page.content.decode()
    response = client.post(
        reverse("outcomes:sure_before", args=[case.uuid]),
        {**ALL_YES, "understand": "no", "encouragement": "no"},
    )
    assert response.status_code == 302
    row = SureAnswer.objects.get(case=case, moment="before")
    assert (row.score, row.skipped, row.understand, row.conflict) == (2, False, False, True)
    page = client.get(reverse("requests_app:case_sent", args=[case.uuid]))
    assert "You answered yes to 2 of 4 questions." in page.content.decode()
    # A second send (double submit) keeps the first answers.
    client.post(reverse("outcomes:sure_before", args=[case.uuid]), ALL_YES)
    assert SureAnswer.objects.get(case=case, moment="before").score == 2


def test_a_missing_or_out_of_range_answer_is_the_forms_error_and_keeps_the_rest(client, patient):
    case = CaseFactory(owner=patient, submitted=True)
    client.force_login(patient)
    response = client.post(
        reverse("outcomes:sure_before", args=[case.uuid]),
        {"sure": "yes", "understand": "maybe", "risk_benefit": "no"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert body.count("Answer yes or no to this question (or skip all four).") >= 2
    assert re.search(r'<input[^>]*name="sure"[^>]*value="yes"[^>]*checked', body)
    assert not SureAnswer.objects.exists()


def test_the_patient_can_skip(client, patient):
    case = CaseFactory(owner=patient, submitted=True)
    client.force_login(patient)
    client.post(reverse("outcomes:sure_before", args=[case.uuid]), {"skip": "1"})
    row = SureAnswer.objects.get(case=case)
    assert row.skipped and row.score is None and row.sure is None


def test_after_the_report_the_patient_sees_their_own_change(client, patient, specialist):
    case = delivered_case(owner=patient, specialist=specialist)
    client.force_login(patient)
    SureAnswer.objects.create(
        case=case,
        moment="before",
        answered_by=patient,
        sure=True,
        understand=False,
        risk_benefit=False,
        encouragement=False,
        score=1,
    )
    report = reverse("reports:case", args=[case.uuid])
    assert "Now that you have read the report" in client.get(report).content.decode()
    response = client.post(reverse("outcomes:sure_after", args=[case.uuid]), ALL_YES)
    assert response.status_code == 302 and response["Location"] == report
    assert "Before: 1 of 4 — after: 4 of 4" in client.get(report).content.decode()
    # Before is over once the report is delivered.
    assert not selectors.sure_open(case=case, moment="before")


def test_nobody_else_answers_for_the_case(client, patient, outsider, coordinator):
    case = CaseFactory(owner=patient, submitted=True)
    for person in (outsider, coordinator):
        client.force_login(person)
        response = client.post(reverse("outcomes:sure_before", args=[case.uuid]), ALL_YES)
        assert response.status_code == 404
    assert not SureAnswer.objects.exists()


def test_the_90_day_question_is_asked_once_and_only_when_due(
    patient, specialist, django_capture_on_commit_callbacks
):
    now = timezone.now()
    due = delivered_case(
        owner=patient, specialist=specialist, delivered_at=now - datetime.timedelta(days=91)
    )
    delivered_case(
        owner=patient, specialist=specialist, delivered_at=now - datetime.timedelta(days=89)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.outcomes_ask_due.delay().result == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.outcomes_ask_due.delay().result == 0  # never twice
    assert list(TreatmentOutcome.objects.values_list("case_id", flat=True)) == [due.pk]
    notes = Notification.objects.filter(kind="outcome_asked")
    assert notes.count() == 1
    assert notes.get().url == reverse("outcomes:treatment", args=[due.uuid])
    # A second ask of the same case does nothing.
    assert services.outcome_ask(case_id=due.pk) is False
    assert Notification.objects.filter(kind="outcome_asked").count() == 1


def test_the_owner_answers_the_90_day_question_in_the_app(client, patient, outsider, specialist):
    case = delivered_case(owner=patient, specialist=specialist)
    url = reverse("outcomes:treatment", args=[case.uuid])
    client.force_login(patient)
    assert client.get(url).status_code == 302  # not asked yet
    TreatmentOutcome.objects.create(case=case)
    assert "Did the second opinion change your treatment?" in client.get(url).content.decode()
    response = client.post(url, {"answer": "sometimes"})
    assert response.status_code == 400
    assert "Choose one of the four answers." in response.content.decode()
    assert client.post(url, {"answer": "as_advised"}).status_code == 302
    assert TreatmentOutcome.objects.get(case=case).answer == "as_advised"
    client.force_login(outsider)
    assert client.post(url, {"answer": "unchanged"}).status_code == 404
    assert TreatmentOutcome.objects.get(case=case).answer == "as_advised"


def test_turnaround_median_and_90th_percentile():
    assert selectors.median([5, 1, 3]) == 3
    assert selectors.median([1, 2, 3, 4]) == 2.5
    values = list(range(1, 21))  # 1..20
    assert selectors.percentile(values, 0.9) == 18
    assert selectors.percentile([7], 0.9) == 7


def _many(owner, specialist, n, *, days, **fields):
    now = timezone.now()
    cases = []
    for _i in range(n):
        case = delivered_case(owner=owner, specialist=specialist, delivered_at=now, **fields)
        type(case).objects.filter(pk=case.pk).update(
            submitted_at=now - datetime.timedelta(days=days)
        )
        cases.append(case)
    return cases


def test_the_public_page_shows_nothing_under_11(client, patient, specialist):
    _many(patient, specialist, 5, days=10)
    response = client.get(reverse("outcomes:public"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "5 reports delivered so far." in body
    assert "fewer than 11, so no figures are shown" in body
    assert "21% of 286" in body and "37.4% of 6,791" in body


def test_the_public_page_shows_figures_and_hides_small_cells(client, patient, specialist):
    _many(patient, specialist, 14, days=10, diagnosis_opinion="agrees")
    _many(patient, specialist, 3, days=20, diagnosis_opinion="different")
    facts = selectors.delivered_facts()
    assert len(facts) == 17
    body = client.get(reverse("outcomes:public")).content.decode()
    assert "17 reports delivered so far." in body
    assert "fewer than 11" in body  # the 3 different diagnoses
    assert ">3<" not in body and ">3 " not in body
    # Turnaround over all 17: the median is 10 days, 9 in 10 within 20.
    assert "10.0" in body and "20.0" in body


def test_third_opinions_are_counted_apart_from_the_second_opinions(client, patient, specialist):
    _many(patient, specialist, 12, days=10, diagnosis_opinion="agrees")
    first = selectors.delivered_facts()
    parents = list(
        selectors.delivered_cases().order_by("pk")[:12]
    )  # each second opinion may have one third opinion
    for parent in parents:
        delivered_case(
            owner=patient, specialist=specialist, parent=parent, diagnosis_opinion="different"
        )
    facts = selectors.delivered_facts()
    assert len(first) == 12 and len(facts) == 24
    assert sum(f.third_opinion for f in facts) == 12
    body = client.get(reverse("outcomes:public")).content.decode()
    # The second opinions' figures are theirs alone; the third opinions have their own.
    assert "12 reports delivered so far." in body
    assert "Third opinions: the third specialist" in body
    assert "12 third opinions, counted in their own table below." in body
