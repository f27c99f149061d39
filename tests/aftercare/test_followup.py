"""Follow-up questions: asked within the window and up to the limit, answered
by the assigned specialist, and the case's moves between delivered and
follow-up."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from requests_app.aftercare import selectors, services
from requests_app.aftercare.models import FollowUpQuestion
from requests_app.aftercare.notices import FOLLOW_UP
from requests_app.models import CaseStatus
from secondop.notifications.models import Notification
from tests.accounts.factories import UserFactory, enrol_totp
from tests.aftercare.factories import delivered_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(patient, specialist, coordinator):
    return delivered_case(owner=patient, specialist=specialist, case_manager=coordinator)


def ask(client, case, text="Which tests should I have before surgery?"):
    client.force_login(case.owner)
    return client.post(reverse("aftercare:follow_up", args=[case.uuid]), {"text": text})


def answer(client, specialist, question, kind="addendum", text="A genomic assay first."):
    client.force_login(specialist)
    return client.post(
        reverse("aftercare:follow_up_answer", args=[question.uuid]), {"kind": kind, "answer": text}
    )


def follow_up_notices(user):
    return Notification.objects.filter(recipient=user, kind=FOLLOW_UP)


def test_asking_moves_the_case_to_follow_up_and_tells_the_specialist(client, case, specialist):
    response = ask(client, case)
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.FOLLOW_UP
    question = FollowUpQuestion.objects.get()
    assert question.position == 1 and question.asked_by == case.owner and question.is_open
    assert follow_up_notices(specialist).count() == 1
    assert case.events.filter(new_status=CaseStatus.FOLLOW_UP, actor=case.owner).exists()


def test_a_second_question_while_one_is_open_tells_the_specialist_again(client, case, specialist):
    ask(client, case)
    ask(client, case, "And after surgery?")
    case.refresh_from_db()
    assert case.status == CaseStatus.FOLLOW_UP
    assert list(FollowUpQuestion.objects.values_list("position", flat=True)) == [1, 2]
    assert follow_up_notices(specialist).count() == 2


def test_a_double_submit_stores_one_question(client, case, specialist, settings):
    settings.FOLLOW_UP_QUESTIONS = 1
    assert ask(client, case).status_code == 302
    assert ask(client, case).status_code == 302  # the same words again: not refused
    assert FollowUpQuestion.objects.count() == 1
    assert follow_up_notices(specialist).count() == 1
    FollowUpQuestion.objects.update(asked_at=timezone.now() - datetime.timedelta(minutes=10))
    assert ask(client, case).status_code == 400  # later, it is another question: the limit


def test_it_is_refused_after_the_limit(client, case, settings):
    settings.FOLLOW_UP_QUESTIONS = 2
    ask(client, case)
    ask(client, case, "Second")
    response = ask(client, case, "Third")
    assert response.status_code == 400
    assert "You have asked all 2 follow-up questions" in response.content.decode()
    assert FollowUpQuestion.objects.count() == 2
    with pytest.raises(services.AftercareError, match="all 2 follow-up questions"):
        services.follow_up_ask(actor=case.owner, case_ref=case.uuid, text="Fourth")


def test_it_is_refused_after_the_window(client, patient, specialist, settings):
    settings.FOLLOW_UP_DAYS = 30
    case = delivered_case(
        owner=patient,
        specialist=specialist,
        delivered_at=timezone.now() - datetime.timedelta(days=30, minutes=1),
    )
    response = ask(client, case)
    html = response.content.decode()
    assert response.status_code == 400
    assert "Follow-up questions could be asked for 30 days after the report was delivered" in html
    assert not FollowUpQuestion.objects.exists()
    case.refresh_from_db()
    assert case.status == CaseStatus.DELIVERED
    # The page says so before anyone types a question, and offers no form.
    client.force_login(patient)
    page = client.get(reverse("aftercare:follow_up", args=[case.uuid])).content.decode()
    assert "could be asked for 30 days" in page and "Send my question" not in page


def test_it_is_allowed_to_the_last_minute_of_the_window(client, patient, specialist):
    case = delivered_case(
        owner=patient,
        specialist=specialist,
        delivered_at=timezone.now() - datetime.timedelta(days=29, hours=23),
    )
    assert ask(client, case).status_code == 302


def test_the_window_counts_from_the_first_delivery(client, case, specialist):
    # An answer moves the case back to "delivered": that is not a new delivery.
    delivered = selectors.case_delivered_at(case=case)
    ask(client, case)
    answer(client, specialist, FollowUpQuestion.objects.get())
    case.refresh_from_db()
    assert case.status == CaseStatus.DELIVERED
    assert case.events.filter(new_status=CaseStatus.DELIVERED).count() == 2
    window = selectors.follow_up_window(case=case)
    assert window.delivered_at == delivered
    assert window.ends_at == delivered + datetime.timedelta(days=30)
    assert window.remaining == 2


def test_an_empty_question_is_refused(client, case):
    response = ask(client, case, "   ")
    assert response.status_code == 400 and "Enter your question." in response.content.decode()


def test_nobody_but_the_patient_asks(client, case, outsider, coordinator, specialist):
    for person in (outsider, coordinator, specialist):
        client.force_login(person)
        response = client.post(reverse("aftercare:follow_up", args=[case.uuid]), {"text": "x"})
        assert response.status_code == 404
    assert not FollowUpQuestion.objects.exists()


def test_before_delivery_there_is_no_follow_up(client, patient):
    from tests.requests_app.factories import CaseFactory

    case = CaseFactory(owner=patient, submitted=True)
    client.force_login(patient)
    assert client.get(reverse("aftercare:follow_up", args=[case.uuid])).status_code == 302
    with pytest.raises(services.AftercareError):
        services.follow_up_ask(actor=patient, case_ref=case.uuid, text="Too early")


# --- Answers -----------------------------------------------------------------------------------
def test_the_answer_returns_the_case_to_delivered_and_tells_the_patient(client, case, specialist):
    ask(client, case)
    question = FollowUpQuestion.objects.get()
    response = answer(
        client, specialist, question, kind="tests", text="An MRI of both breasts before deciding."
    )
    assert response.status_code == 302
    question.refresh_from_db()
    assert question.answer_kind == "tests" and question.answered_by == specialist
    case.refresh_from_db()
    assert case.status == CaseStatus.DELIVERED
    assert follow_up_notices(case.owner).count() == 1
    # The patient reads it on their case page.
    client.force_login(case.owner)
    html = client.get(reverse("requests_app:case_detail", args=[case.uuid])).content.decode()
    assert "Which tests should I have before surgery?" in html
    assert "An MRI of both breasts before deciding." in html
    assert "Recommends further tests" in html


def test_answering_one_of_two_keeps_the_case_in_follow_up(client, case, specialist):
    ask(client, case)
    ask(client, case, "And after surgery?")
    first = FollowUpQuestion.objects.get(position=1)
    answer(client, specialist, first, kind="consultation", text="Let us talk by video.")
    case.refresh_from_db()
    assert case.status == CaseStatus.FOLLOW_UP
    assert follow_up_notices(case.owner).count() == 1  # told all the same
    answer(client, specialist, FollowUpQuestion.objects.get(position=2))
    case.refresh_from_db()
    assert case.status == CaseStatus.DELIVERED
    assert follow_up_notices(case.owner).count() == 2


def test_a_question_is_answered_once(client, case, specialist):
    ask(client, case)
    question = FollowUpQuestion.objects.get()
    answer(client, specialist, question)
    with pytest.raises(services.AftercareError, match="already answered"):
        services.follow_up_answer(
            actor=specialist, question_ref=question.uuid, kind="addendum", answer="Again"
        )
    response = answer(client, specialist, question, text="Again")
    assert response.status_code == 302
    question.refresh_from_db()
    assert question.answer == "A genomic assay first."


def test_only_the_assigned_specialist_answers(client, case, outsider, coordinator):
    ask(client, case)
    question = FollowUpQuestion.objects.get()
    other = UserFactory(role="specialist", email="other.spec@example.com")
    enrol_totp(other)
    for person in (other, coordinator, case.owner, outsider):
        client.force_login(person)
        url = reverse("aftercare:follow_up_answer", args=[question.uuid])
        assert client.get(url).status_code == 404
        assert client.post(url, {"kind": "addendum", "answer": "x"}).status_code == 404
    question.refresh_from_db()
    assert question.is_open


def test_an_answer_needs_its_kind_and_words(client, case, specialist):
    ask(client, case)
    question = FollowUpQuestion.objects.get()
    client.force_login(specialist)
    response = client.post(reverse("aftercare:follow_up_answer", args=[question.uuid]), {})
    html = response.content.decode()
    assert response.status_code == 400
    assert "Choose what your answer is." in html and "Enter your answer." in html


def test_the_specialist_finds_the_question_on_their_case_page(client, case, specialist):
    ask(client, case)
    question = FollowUpQuestion.objects.get()
    client.force_login(specialist)
    html = client.get(reverse("requests_app:staff_case", args=[case.uuid])).content.decode()
    assert "Which tests should I have before surgery?" in html
    assert reverse("aftercare:follow_up_answer", args=[question.uuid]) in html


def test_a_coordinator_who_is_not_the_case_manager_does_not_see_the_questions(
    client, case, coordinator
):
    """The follow-up has the report's readers: the case manager and the specialist."""
    ask(client, case)
    answer(client, case.specialist, FollowUpQuestion.objects.get())
    other = UserFactory(role="coordinator")
    enrol_totp(other)
    client.force_login(other)
    html = client.get(reverse("requests_app:staff_case", args=[case.uuid])).content.decode()
    assert "Which tests should I have before surgery?" not in html
    assert "A genomic assay first." not in html
    assert "The case manager and the specialist see the follow-up questions" in html
    client.force_login(coordinator)
    html = client.get(reverse("requests_app:staff_case", args=[case.uuid])).content.decode()
    assert "Which tests should I have before surgery?" in html and "A genomic assay first." in html
