import pytest
from django.urls import reverse

from requests_app.messaging.services import message_post
from secondop.audit.models import AccessLog
from tests.accounts.factories import UserFactory
from tests.caregivers.factories import caregiver_grant, caregiver_invitation
from tests.requests_app.factories import CaseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(patient, coordinator):
    return CaseFactory(owner=patient, submitted=True, case_manager=coordinator)


@pytest.fixture
def ana(patient, case):
    ana = UserFactory(email="ana@example.com", full_name="Ana Pérez")
    caregiver_grant(patient, ana, [case], messages=True)
    return ana


def test_it_shows_the_caregiver_the_status_and_logs_the_read(client, case, ana):
    client.force_login(ana)
    response = client.get(reverse("caregivers:case", args=[case.uuid]))
    assert response.status_code == 200
    assert "Timeline" in response.content.decode()
    assert AccessLog.objects.filter(actor=ana, object_id=str(case.pk)).count() == 1


def test_the_patient_sees_their_caregivers_read_in_who_looked(client, patient, case, ana):
    client.force_login(ana)
    client.get(reverse("caregivers:case", args=[case.uuid]))
    client.force_login(patient)
    page = client.get(reverse("requests_app:case_detail", args=[case.uuid])).content.decode()
    assert "Ana Pérez" in page
    assert "Your caregiver" in page


def test_the_caregivers_home_lists_the_requests_they_help_with(client, patient, case, ana):
    client.force_login(ana)
    home = client.get(reverse("requests_app:dashboard")).content.decode()
    assert "Requests you help with" in home and case.reference in home
    # Revoked: the panel is gone, and the patient's own home never lists it.
    ana.caregiving.update(revoked_at=case.submitted_at)
    home = client.get(reverse("requests_app:dashboard")).content.decode()
    assert "Requests you help with" not in home and case.reference not in home
    client.force_login(patient)
    assert (
        "Requests you help with"
        not in client.get(reverse("requests_app:dashboard")).content.decode()
    )


def test_an_outsider_gets_the_404(client, case, outsider):
    client.force_login(outsider)
    assert client.get(reverse("caregivers:case", args=[case.uuid])).status_code == 404


def test_a_caregiver_without_the_report_gets_the_404(client, case, ana):
    client.force_login(ana)
    assert client.get(reverse("reports:case", args=[case.uuid])).status_code == 404


def test_the_caregivers_message_is_marked_as_theirs(client, case, ana, coordinator, patient):
    message_post(actor=ana, case_ref=case.uuid, body="Is the MRI enough?")
    client.force_login(coordinator)
    staff_page = client.get(reverse("messaging:thread", args=[case.uuid])).content.decode()
    assert "Ana Pérez, the patient&#x27;s caregiver" in staff_page
    client.force_login(patient)
    own_page = client.get(reverse("messaging:thread", args=[case.uuid])).content.decode()
    assert "Ana Pérez, your caregiver" in own_page


def test_the_caregiver_cannot_post_an_internal_note(case, ana):
    from requests_app.messaging.services import MessageError

    with pytest.raises(MessageError):
        message_post(actor=ana, case_ref=case.uuid, body="note", internal=True)


def test_the_invitation_form_keeps_what_was_typed_on_an_error(client, patient, case):
    client.force_login(patient)
    response = client.post(
        reverse("caregivers:list"),
        {"name": "Ana Pérez", "email": patient.email, "cases": [str(case.uuid)], "report": "on"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "This is your own email address" in page
    assert 'value="Ana Pérez"' in page


def test_a_link_used_by_another_account_is_refused_with_a_page(client, patient, case, outsider):
    _caregiver, token = caregiver_invitation(patient, [case], email="ana@example.com")
    client.force_login(outsider)
    response = client.get(reverse("caregivers:accept", args=[token]))
    assert response.status_code == 403
    assert "This invitation cannot be used" in response.content.decode()


def test_the_caregivers_own_pages_read_at_grade_8_or_below(client, patient, case, ana):
    from bench.reading_grade import TARGET_GRADE, grade

    _pending, token = caregiver_invitation(patient, [case], email="bo@example.com")
    pages = {"invitation": client.get(reverse("caregivers:accept", args=[token]))}
    client.force_login(ana)
    pages["followed request"] = client.get(reverse("caregivers:case", args=[case.uuid]))
    pages["refused link"] = client.get(reverse("caregivers:accept", args=[token]))
    client.force_login(patient)
    pages["what they may do"] = client.get(
        reverse("caregivers:change", args=[ana.caregiving.get().uuid])
    )
    over = {}
    for name, response in pages.items():
        value, _words = grade(response.content.decode())
        if value > TARGET_GRADE:
            over[name] = round(value, 1)
    assert over == {}
