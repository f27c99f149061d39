"""The patient's physician takes part (issue 21, item 4): one question through
their link, only with the patient's consent on the share, answered by the
assigned specialist as an addendum both read; withdrawn consent or a withdrawn
link refuses with nothing of the case shown."""

import pytest
from django.http import Http404
from django.urls import reverse

from requests_app.aftercare import consent, services
from requests_app.aftercare.models import PhysicianQuestion, Share
from secondop.audit.models import AuditEvent
from secondop.notifications.models import Notification
from tests.accounts.factories import UserFactory, enrol_totp
from tests.aftercare.factories import delivered_case, sent_share

pytestmark = pytest.mark.django_db

QUESTION = "Would a short course of steroids change the plan before surgery?"
ANSWER = "No: steroids would not change the plan; keep the operation date."


@pytest.fixture
def case(patient, specialist, coordinator):
    return delivered_case(
        owner=patient,
        specialist=specialist,
        case_manager=coordinator,
        patient_name="Maria Lopez",
    )


@pytest.fixture
def link(case):
    share, token = sent_share(case=case, participation=True)
    share.recipient_name = "Dr. Ana Ruiz"
    share.save(update_fields=["recipient_name"])
    return share, token


# --- Services ---------------------------------------------------------------------------------
def test_the_physician_asks_once_and_the_specialist_and_patient_are_told(case, link):
    share, token = link
    question = services.physician_question_ask(token=token, text=f"  {QUESTION} ")
    assert question.text == QUESTION and question.share == share and question.case == case
    kinds = set(Notification.objects.filter(kind="physician").values_list("recipient", flat=True))
    assert kinds == {case.owner_id, case.specialist_id}
    event = AuditEvent.objects.get(action="aftercare.physician.asked")
    assert event.actor is None
    with pytest.raises(services.AftercareError, match="one question"):
        services.physician_question_ask(token=token, text="And another?")
    assert PhysicianQuestion.objects.count() == 1


def test_a_second_link_to_the_same_doctor_does_not_give_a_second_question(case, link):
    services.physician_question_ask(token=link[1], text=QUESTION)
    _other, token = sent_share(case=case, participation=True)  # same address
    with pytest.raises(services.AftercareError, match="one question"):
        services.physician_question_ask(token=token, text="And another?")


def test_without_the_patients_consent_the_physician_cannot_ask(case):
    _share, token = sent_share(case=case)
    with pytest.raises(services.ConsentWithdrawn):
        services.physician_question_ask(token=token, text=QUESTION)
    assert not PhysicianQuestion.objects.exists()


def test_withdrawn_consent_and_a_revoked_link_refuse(case, link):
    share, token = link
    services.participation_withdraw(actor=case.owner, share_ref=share.uuid)
    share.refresh_from_db()
    assert share.participation_withdrawn_at is not None and not share.may_take_part
    with pytest.raises(services.ConsentWithdrawn):
        services.physician_question_ask(token=token, text=QUESTION)
    _revoked, revoked_token = sent_share(case=case, revoked=True, participation=True)
    with pytest.raises(services.ShareRefused) as refused:
        services.physician_question_ask(token=revoked_token, text=QUESTION)
    assert refused.value.reason == "revoked"


def test_only_the_owner_withdraws_consent(case, link, outsider):
    with pytest.raises(Http404):
        services.participation_withdraw(actor=outsider, share_ref=link[0].uuid)
    assert Share.objects.get(pk=link[0].pk).may_take_part


def test_only_the_assigned_specialist_answers(case, link, coordinator):
    question = services.physician_question_ask(token=link[1], text=QUESTION)
    outsider = UserFactory(role="specialist")
    with pytest.raises(Http404):
        services.physician_question_answer(
            actor=outsider, question_ref=question.uuid, answer=ANSWER
        )
    with pytest.raises(services.AftercareError, match="Enter your answer"):
        services.physician_question_answer(
            actor=case.specialist, question_ref=question.uuid, answer="  "
        )
    answered = services.physician_question_answer(
        actor=case.specialist, question_ref=question.uuid, answer=ANSWER
    )
    assert answered.answer == ANSWER and answered.answered_by == case.specialist
    assert Notification.objects.filter(kind="physician", recipient=case.owner).count() == 2
    with pytest.raises(services.AftercareError, match="already answered"):
        services.physician_question_answer(
            actor=case.specialist, question_ref=question.uuid, answer=ANSWER
        )


def test_the_share_stores_the_participation_consent_with_its_version(case):
    share = services.share_create(
        actor=case.owner,
        case_ref=case.uuid,
        email="dr.ruiz@clinic.example",
        consented=True,
        participation=True,
    )
    assert share.participation_consent_version == consent.PARTICIPATION_VERSION
    assert share.participation_consented_at is not None
    plain = services.share_create(
        actor=case.owner, case_ref=case.uuid, email="dr.other@clinic.example", consented=True
    )
    assert plain.participation_consent_version == "" and not plain.may_take_part


# --- Views ------------------------------------------------------------------------------------
def test_the_physician_asks_from_their_page_and_reads_the_answer(client, case, link):
    _share, token = link
    url = reverse("aftercare:shared_report", args=[token])
    html = client.get(url).content.decode()
    assert "Your question to the specialist" in html and "Send the question" in html
    response = client.post(url, {"text": ""})
    assert response.status_code == 400 and "Enter your question." in response.content.decode()
    response = client.post(url, {"text": QUESTION})
    assert response.status_code == 302 and response["Referrer-Policy"] == "no-referrer"
    html = client.get(url).content.decode()
    assert QUESTION in html and "Waiting for the specialist" in html
    assert "Send the question" not in html
    # A second question: refused with the reason, the first kept.
    response = client.post(url, {"text": "And another?"})
    assert response.status_code == 400
    assert "You have asked your one question" in response.content.decode()
    question = PhysicianQuestion.objects.get()
    services.physician_question_answer(
        actor=case.specialist, question_ref=question.uuid, answer=ANSWER
    )
    html = client.get(url).content.decode()
    assert ANSWER in html and "An answer, added to the report" in html


def test_without_consent_the_page_offers_no_question_and_a_post_shows_nothing(client, case):
    _share, token = sent_share(case=case)
    url = reverse("aftercare:shared_report", args=[token])
    assert "Your question to the specialist" not in client.get(url).content.decode()
    response = client.post(url, {"text": QUESTION})
    html = response.content.decode()
    assert response.status_code == 410 and "has not agreed" in html
    assert "Maria Lopez" not in html and "Second-opinion report for" not in html


def test_after_consent_is_withdrawn_a_post_shows_nothing_of_the_case(client, case, link):
    share, token = link
    client.force_login(case.owner)
    response = client.post(reverse("aftercare:participation_withdraw", args=[share.uuid]))
    assert response.status_code == 302
    client.logout()
    response = client.post(reverse("aftercare:shared_report", args=[token]), {"text": QUESTION})
    assert response.status_code == 410 and "Maria Lopez" not in response.content.decode()
    assert not PhysicianQuestion.objects.exists()


def test_the_patient_sees_their_doctor_and_the_specialist_answers(client, case, link):
    _share, token = link
    client.get(reverse("aftercare:shared_report", args=[token]))
    question = services.physician_question_ask(token=token, text=QUESTION)
    client.force_login(case.owner)
    html = client.get(reverse("requests_app:case_detail", args=[case.uuid])).content.decode()
    assert "Your doctor" in html and QUESTION in html
    assert "Dr. Ana Ruiz opened your report" in html
    assert "Dr. Ana Ruiz asked the specialist a question" in html
    client.force_login(case.specialist)
    html = client.get(reverse("requests_app:staff_case", args=[case.uuid])).content.decode()
    answer_url = reverse("aftercare:physician_answer", args=[question.uuid])
    assert answer_url in html
    response = client.post(answer_url, {"answer": ""})
    assert response.status_code == 400 and "Enter your answer." in response.content.decode()
    response = client.post(answer_url, {"answer": ANSWER})
    assert response.status_code == 302
    client.force_login(case.owner)
    html = client.get(reverse("requests_app:case_detail", args=[case.uuid])).content.decode()
    assert ANSWER in html and "The specialist answered Dr. Ana Ruiz" in html


def test_outsiders_get_404_on_the_answer_page_and_the_withdrawal(client, case, link, outsider):
    question = services.physician_question_ask(token=link[1], text=QUESTION)
    stranger = UserFactory(role="specialist")
    enrol_totp(stranger)
    client.force_login(stranger)
    assert (
        client.get(reverse("aftercare:physician_answer", args=[question.uuid])).status_code == 404
    )
    client.force_login(outsider)
    url = reverse("aftercare:participation_withdraw", args=[link[0].uuid])
    assert client.post(url).status_code == 404


def test_the_share_form_records_the_optional_participation_consent(client, case):
    client.force_login(case.owner)
    url = reverse("aftercare:share", args=[case.uuid])
    html = client.get(url).content.decode()
    assert str(consent.PARTICIPATION_WORDING) in html
    client.post(url, {"email": "dr.ruiz@clinic.example", "consent": "on", "participation": "on"})
    share = Share.objects.get(recipient_email="dr.ruiz@clinic.example")
    assert share.participation_consent_version == consent.PARTICIPATION_VERSION
    html = client.get(url).content.decode()
    assert "Stop dr.ruiz@clinic.example taking part" in html
