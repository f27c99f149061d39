"""Closing: by the case manager, or by SecondOp when the follow-up window is
over with no question open; then the patient's rating, once."""

import datetime

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from requests_app.aftercare import services, tasks
from requests_app.aftercare.models import FollowUpQuestion, ServiceRating
from requests_app.models import CaseStatus
from requests_app.notices import CLOSED
from requests_app.workflow import SYSTEM_MOVES, TransitionError, case_transition
from secondop.notifications.models import Notification
from tests.aftercare.factories import delivered_case

pytestmark = pytest.mark.django_db

LONG_AGO = datetime.timedelta(days=31)


@pytest.fixture
def old_case(patient, specialist, coordinator):
    return delivered_case(
        owner=patient,
        specialist=specialist,
        case_manager=coordinator,
        delivered_at=timezone.now() - LONG_AGO,
    )


def closed(case):
    case.refresh_from_db()
    return case.status == CaseStatus.CLOSED


# --- The periodic close ---------------------------------------------------------------------
def test_the_beat_runs_the_close_every_hour():
    entry = settings.CELERY_BEAT_SCHEDULE["aftercare-close-after-follow-up"]
    assert entry["task"] == "requests_app.aftercare.tasks.cases_close_after_follow_up"
    assert entry["task"] == tasks.cases_close_after_follow_up.name
    assert (CaseStatus.DELIVERED, CaseStatus.CLOSED) in SYSTEM_MOVES


def test_it_closes_a_case_whose_window_is_over_once(old_case):
    assert tasks.cases_close_after_follow_up.delay().get() == 1
    assert closed(old_case)
    event = old_case.events.get(new_status=CaseStatus.CLOSED)
    assert event.actor is None and "30 days for follow-up questions are over" in event.reason
    assert old_case.closed_at is not None
    assert Notification.objects.filter(recipient=old_case.owner, kind=CLOSED).count() == 1
    # Idempotent: the next run finds nothing, and closing again changes nothing.
    assert tasks.cases_close_after_follow_up.delay().get() == 0
    assert services.case_close_after_follow_up(case_id=old_case.pk) is False
    assert old_case.events.filter(new_status=CaseStatus.CLOSED).count() == 1


def test_it_leaves_cases_still_in_their_window(patient, specialist):
    fresh = delivered_case(
        owner=patient,
        specialist=specialist,
        delivered_at=timezone.now() - datetime.timedelta(days=29),
    )
    assert services.cases_close_after_follow_up() == 0
    assert not closed(fresh)


def test_it_leaves_a_case_with_an_open_question(old_case, patient, specialist):
    asked = delivered_case(
        owner=patient,
        specialist=specialist,
        status=CaseStatus.FOLLOW_UP,
        delivered_at=timezone.now() - LONG_AGO,
    )
    FollowUpQuestion.objects.create(case=asked, position=1, asked_by=patient, text="Still?")
    assert services.cases_due_to_close() == [old_case.pk]
    assert services.cases_close_after_follow_up() == 1
    assert not closed(asked)
    # Once it is answered (back to delivered), the next run closes it.
    services.follow_up_answer(
        actor=specialist, question_ref=asked.follow_ups.get().uuid, kind="addendum", answer="Yes."
    )
    assert services.cases_close_after_follow_up() == 1
    assert closed(asked)


def test_a_question_asked_a_moment_ago_keeps_it_open(old_case, patient):
    # The sweep listed the case; the patient's question came before the close.
    FollowUpQuestion.objects.create(case=old_case, position=1, asked_by=patient, text="Wait")
    assert services.case_close_after_follow_up(case_id=old_case.pk) is False
    assert not closed(old_case)


def test_the_system_may_not_make_other_moves(patient, specialist):
    case = delivered_case(owner=patient, specialist=specialist, status=CaseStatus.FOLLOW_UP)
    with pytest.raises(TransitionError):
        case_transition(actor=None, ref=case.uuid, to_status=CaseStatus.CLOSED)


# --- The case manager closes ----------------------------------------------------------------
def test_the_case_manager_closes_a_case_in_follow_up(client, old_case, coordinator, specialist):
    FollowUpQuestion.objects.create(
        case=old_case, position=1, asked_by=old_case.owner, text="Open one"
    )
    case_transition(actor=old_case.owner, ref=old_case.uuid, to_status=CaseStatus.FOLLOW_UP)
    client.force_login(coordinator)
    page = client.get(reverse("requests_app:staff_case", args=[old_case.uuid])).content.decode()
    assert "Closing the case now leaves the open questions unanswered." in page
    response = client.post(
        reverse("requests_app:staff_case_move", args=[old_case.uuid]),
        {"to_status": CaseStatus.CLOSED, "reason": ""},
    )
    assert response.status_code == 302
    assert closed(old_case)
    # The open question can no longer be answered.
    with pytest.raises(services.AftercareError, match="closed"):
        services.follow_up_answer(
            actor=specialist,
            question_ref=old_case.follow_ups.get().uuid,
            kind="addendum",
            answer="Late",
        )


# --- Rating -------------------------------------------------------------------------------------
def rate(client, case, **data):
    client.force_login(case.owner)
    return client.post(
        reverse("aftercare:rating", args=[case.uuid]),
        {"score": "4", "comment": "Clear and kind.", **data},
    )


def test_the_patient_rates_once_after_closing(client, old_case, coordinator):
    services.cases_close_after_follow_up()
    client.force_login(old_case.owner)
    page = client.get(reverse("requests_app:case_detail", args=[old_case.uuid])).content.decode()
    assert "How would you rate our service?" in page and 'name="score"' in page
    assert rate(client, old_case).status_code == 302
    rating = ServiceRating.objects.get()
    assert (rating.score, rating.comment, rating.rated_by) == (4, "Clear and kind.", old_case.owner)
    # Once: the form is gone, a second post changes nothing, the service refuses.
    page = client.get(reverse("requests_app:case_detail", args=[old_case.uuid])).content.decode()
    assert 'name="score"' not in page and "You rated our service 4 out of 5" in page
    assert rate(client, old_case, score="1").status_code == 302
    assert ServiceRating.objects.get().score == 4
    with pytest.raises(services.AftercareError, match="already rated"):
        services.rating_create(actor=old_case.owner, case_ref=old_case.uuid, score=2)
    # The case manager sees it.
    client.force_login(coordinator)
    page = client.get(reverse("requests_app:staff_case", args=[old_case.uuid])).content.decode()
    assert "4 out of 5" in page and "Clear and kind." in page


def test_no_rating_before_closing(client, old_case):
    assert rate(client, old_case).status_code == 302
    assert not ServiceRating.objects.exists()
    with pytest.raises(services.AftercareError, match="once your request is closed"):
        services.rating_create(actor=old_case.owner, case_ref=old_case.uuid, score=5)


def test_a_rating_is_1_to_5(client, old_case):
    services.cases_close_after_follow_up()
    response = rate(client, old_case, score="9")
    assert response.status_code == 400
    assert not ServiceRating.objects.exists()
    response = rate(client, old_case, score="")
    assert "Choose a rating from 1 to 5." in response.content.decode()


def test_only_the_patient_rates(client, old_case, outsider, coordinator):
    services.cases_close_after_follow_up()
    for person in (outsider, coordinator):
        client.force_login(person)
        response = client.post(reverse("aftercare:rating", args=[old_case.uuid]), {"score": "1"})
        assert response.status_code == 404
    assert not ServiceRating.objects.exists()
