from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from requests_app import access
from requests_app.access import CaregiverRight, Relation
from requests_app.caregivers import services
from requests_app.caregivers.models import Caregiver
from tests.accounts.factories import UserFactory
from tests.caregivers.factories import caregiver_grant, caregiver_invitation
from tests.requests_app.factories import CaseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(patient):
    return CaseFactory(owner=patient, submitted=True)


def _email_error(excinfo) -> str:
    return " ".join(excinfo.value.errors["email"])


def test_it_emails_the_invitation_with_a_link_and_no_health_information(
    patient, case, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        caregiver_invitation(patient, [case], email="ana@example.com", name="Ana Pérez")

    (email,) = mail.outbox
    assert email.to == ["ana@example.com"]
    assert "/caregivers/accept/" in email.body
    for text in (case.diagnosis, case.reference, case.concerns):
        assert text not in email.body
        assert text not in email.subject


def test_it_refuses_the_patients_own_address(patient, case):
    with pytest.raises(services.CaregiverError) as excinfo:
        caregiver_invitation(patient, [case], email=patient.email.upper())
    assert "your own email address" in _email_error(excinfo)


def test_it_refuses_a_staff_address(patient, case, coordinator):
    with pytest.raises(services.CaregiverError) as excinfo:
        caregiver_invitation(patient, [case], email=coordinator.email)
    assert "staff" in _email_error(excinfo)


def test_it_refuses_a_second_invitation_to_the_same_person(patient, case):
    caregiver_invitation(patient, [case], email="ana@example.com")
    with pytest.raises(services.CaregiverError) as excinfo:
        caregiver_invitation(patient, [case], email="Ana@Example.com")
    assert "already invited" in _email_error(excinfo)
    assert Caregiver.objects.count() == 1


def test_an_expired_invitation_is_replaced_by_a_new_one(patient, case):
    old, _token = caregiver_invitation(patient, [case], email="ana@example.com")
    Caregiver.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    new, _token = caregiver_invitation(patient, [case], email="ana@example.com")
    old.refresh_from_db()
    assert old.revoked_at is not None
    assert new.revoked_at is None


def test_it_refuses_a_case_that_is_not_the_patients(patient, case, outsider):
    theirs = CaseFactory(owner=outsider, submitted=True)
    with pytest.raises(services.CaregiverError) as excinfo:
        caregiver_invitation(patient, [theirs])
    assert "cases" in excinfo.value.errors


def test_another_account_cannot_take_up_the_invitation(patient, case, outsider):
    _caregiver, token = caregiver_invitation(patient, [case], email="ana@example.com")
    with pytest.raises(services.CaregiverError) as excinfo:
        services.caregiver_accept(actor=outsider, token=token)
    assert excinfo.value.status == 403


def test_the_link_is_refused_after_revocation_and_after_expiry(patient, case):
    ana = UserFactory(email="ana@example.com")
    caregiver, token = caregiver_invitation(patient, [case], email=ana.email)
    Caregiver.objects.filter(pk=caregiver.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    with pytest.raises(services.CaregiverError) as excinfo:
        services.caregiver_accept(actor=ana, token=token)
    assert (excinfo.value.message, excinfo.value.status) == (services.Refused.EXPIRED, 410)

    Caregiver.objects.filter(pk=caregiver.pk).update(expires_at=timezone.now() + timedelta(days=1))
    services.caregiver_revoke(actor=patient, caregiver_ref=caregiver.uuid)
    with pytest.raises(services.CaregiverError) as excinfo:
        services.caregiver_accept(actor=ana, token=token)
    assert (excinfo.value.message, excinfo.value.status) == (services.Refused.REVOKED, 410)


def test_the_caregiver_is_a_relation_with_only_the_rights_given(patient, case):
    ana = UserFactory(email="ana@example.com")
    caregiver_grant(patient, ana, [case], messages=True)

    assert access.case_relation(ana, case) == Relation.CAREGIVER
    assert not access.is_care_team(viewer=ana, case=case)
    assert access.caregiver_may(ana, case, CaregiverRight.MESSAGES)
    assert not access.caregiver_may(ana, case, CaregiverRight.REPORT)
    # Nowhere a caller does not name the right it serves: the owner's pages stay theirs.
    assert not access.case_list(viewer=ana).filter(pk=case.pk).exists()
    assert access.case_list(viewer=ana, caregiving=CaregiverRight.MESSAGES).filter(pk=case.pk)
    assert not access.case_list(viewer=ana, caregiving=CaregiverRight.REPORT).filter(pk=case.pk)


def test_a_change_and_a_removal_apply_at_once(patient, case):
    ana = UserFactory(email="ana@example.com")
    grant = caregiver_grant(patient, ana, [case], messages=True)

    services.caregiver_change(
        actor=patient,
        caregiver_ref=grant.uuid,
        case_refs=[case.uuid],
        messages=False,
        consultations=False,
        report=True,
    )
    assert access.caregiver_may(ana, case, CaregiverRight.REPORT)
    assert not access.caregiver_may(ana, case, CaregiverRight.MESSAGES)

    services.caregiver_revoke(actor=patient, caregiver_ref=grant.uuid)
    assert access.case_relation(ana, case) == Relation.NONE
    assert not access.caregiving_list(viewer=ana).exists()


def test_a_withdrawn_request_is_hidden_from_its_caregivers(patient, case):
    ana = UserFactory(email="ana@example.com")
    caregiver_grant(patient, ana, [case])
    case.status = "withdrawn"
    case.save(update_fields=["status"])
    assert not access.caregiving_list(viewer=ana).exists()


def test_another_patient_cannot_change_or_remove_someone_elses_caregiver(patient, case, outsider):
    grant, _token = caregiver_invitation(patient, [case])
    with pytest.raises(Exception) as excinfo:
        services.caregiver_revoke(actor=outsider, caregiver_ref=grant.uuid)
    assert excinfo.type.__name__ == "Http404"
