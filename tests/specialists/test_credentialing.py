import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from requests_app.models import Case
from secondop.audit.models import AuditEvent
from secondop.notifications.models import Notification
from specialists import credentialing, profile_services
from specialists.matching import rank_specialists
from specialists.models import Licence, Offer, npi_is_valid
from tests.requests_app.factories import CaseFactory
from tests.specialists.factories import SpecialistFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(patient):
    return CaseFactory(
        owner=patient,
        submitted=True,
        status="matching",
        icd10=None,
        due_at=timezone.now() + datetime.timedelta(days=7),
    )


def test_an_unverified_licence_never_qualifies_and_a_verified_one_does(case, admin_user):
    profile = SpecialistFactory(licence_verification="unverified")
    assert rank_specialists(case=case).candidates == []
    licence = profile.licences.get()
    credentialing.licence_verify(
        actor=admin_user, licence_id=licence.pk, source="state_board", note="Active"
    )
    ranking = rank_specialists(case=case)
    assert [c.profile for c in ranking.candidates] == [profile]
    today = timezone.localdate().isoformat()
    assert f"licensed in NY (verified {today}, expires 2030-01)" in ranking.candidates[0].reasons
    event = AuditEvent.objects.get(action="specialists.licence.verified")
    assert event.old_values["verification"] == "unverified"
    assert event.new_values["source"] == "state_board"
    assert Notification.objects.filter(recipient=profile.user, kind="credentialing").exists()


def test_a_refused_licence_never_qualifies(case, admin_user):
    profile = SpecialistFactory(licence_verification="unverified")
    credentialing.licence_refuse(
        actor=admin_user,
        licence_id=profile.licences.get().pk,
        note="The board lists this number as lapsed.",
    )
    assert rank_specialists(case=case).excluded == {"licence": 1}


def test_verifying_twice_does_nothing_twice(admin_user):
    profile = SpecialistFactory(licence_verification="unverified")
    licence_id = profile.licences.get().pk
    for _ in range(2):
        credentialing.licence_verify(actor=admin_user, licence_id=licence_id, source="state_board")
    assert AuditEvent.objects.filter(action="specialists.licence.verified").count() == 1


def test_only_administrators_verify(coordinator):
    profile = SpecialistFactory(licence_verification="unverified")
    with pytest.raises(PermissionDenied):
        credentialing.licence_verify(
            actor=coordinator, licence_id=profile.licences.get().pk, source="state_board"
        )


def test_a_licence_stops_counting_on_its_expiry_day(patient):
    today = timezone.localdate()
    case = CaseFactory(
        owner=patient,
        submitted=True,
        status="matching",
        icd10=None,
        due_at=timezone.now() + datetime.timedelta(days=7),
    )
    due = timezone.localtime(case.due_at).date()
    SpecialistFactory(user__full_name="Dr. Expires On Due", licence_expires=due)
    SpecialistFactory(
        user__full_name="Dr. Day After", licence_expires=due + datetime.timedelta(days=1)
    )
    ranking = rank_specialists(case=case)
    assert [c.profile.user.full_name for c in ranking.candidates] == ["Dr. Day After"]
    assert today < due


def test_a_new_number_makes_a_verified_licence_wait_and_takes_back_open_offers(
    case, coordinator, specialist
):
    profile = SpecialistFactory()
    offer = Offer.objects.create(
        case=case,
        specialist=profile.user,
        offered_by=coordinator,
        deadline=timezone.now() + datetime.timedelta(hours=40),
    )
    Case.objects.filter(pk=case.pk).update(status="offered")
    licence = profile.licences.get()
    profile_services.specialist_licence_update(
        actor=profile.user,
        profile=profile,
        state="NY",
        number="NY-NEW-1",
        expires_on=licence.expires_on,
    )
    licence.refresh_from_db()
    offer.refresh_from_db()
    case.refresh_from_db()
    assert licence.verification == "unverified" and licence.verified_by is None
    assert offer.status == "withdrawn" and case.status == "matching"
    assert Notification.objects.filter(recipient=profile.user, kind="offer_withdrawn").exists()


def test_a_renewal_counts_up_to_the_checked_date_until_it_is_checked(case, admin_user):
    profile = SpecialistFactory(licence_expires=timezone.localdate() + datetime.timedelta(days=3))
    licence = profile.licences.get()
    profile_services.specialist_licence_update(
        actor=profile.user,
        profile=profile,
        state="NY",
        number=licence.number,
        expires_on=licence.expires_on + datetime.timedelta(days=365),
    )
    licence.refresh_from_db()
    assert licence.verification == "verified"
    # The case is due in 7 days: the checked date (3 days) does not reach it.
    assert rank_specialists(case=case).excluded == {"licence": 1}
    assert list(credentialing.licences_waiting()) == [licence]
    credentialing.licence_verify(actor=admin_user, licence_id=licence.pk, source="state_board")
    assert [c.profile for c in rank_specialists(case=case).candidates] == [profile]
    assert not credentialing.licences_waiting().exists()


def test_a_page_opened_before_a_change_cannot_verify_what_it_did_not_show(admin_user):
    profile = SpecialistFactory(licence_verification="unverified")
    licence = profile.licences.get()
    seen = {
        "number": licence.number,
        "expires_on": licence.expires_on.isoformat(),
        "verification": "unverified",
    }
    profile_services.specialist_licence_update(
        actor=profile.user,
        profile=profile,
        state="NY",
        number="NY-OTHER",
        expires_on=licence.expires_on,
    )
    with pytest.raises(ValidationError, match="changed since you opened the page"):
        credentialing.licence_verify(
            actor=admin_user, licence_id=licence.pk, source="state_board", seen=seen
        )
    credentialing.licence_refuse(
        actor=admin_user, licence_id=licence.pk, note="Lapsed", seen={**seen, "number": "NY-OTHER"}
    )
    with pytest.raises(ValidationError, match="changed since you opened the page"):
        credentialing.licence_verify(
            actor=admin_user,
            licence_id=licence.pk,
            source="state_board",
            seen={**seen, "number": "NY-OTHER"},
        )
    assert Licence.objects.get(pk=licence.pk).verification == "refused"


def test_only_administrators_reach_verify_and_refuse(client, coordinator, specialist, patient):
    profile = SpecialistFactory(licence_verification="unverified")
    licence = profile.licences.get()
    for person in (coordinator, specialist, patient):
        client.force_login(person)
        for name in ("verify", "refuse"):
            response = client.post(reverse(f"credentialing:{name}"), {"licence": licence.pk})
            assert response.status_code == 404
    assert Licence.objects.get(pk=licence.pk).verification == "unverified"


def test_a_crafted_licence_id_is_a_message_not_an_error(client, admin_user):
    client.force_login(admin_user)
    response = client.post(reverse("credentialing:verify"), {"licence": "\u00b2"})
    assert response.status_code == 302


def test_expiry_notices_go_once_per_term_to_the_specialist_and_admins(admin_user):
    soon = timezone.localdate() + datetime.timedelta(days=30)
    profile = SpecialistFactory(licence_expires=soon)
    assert credentialing.licences_expiry_notify() == 1
    assert credentialing.licences_expiry_notify() == 0
    assert Notification.objects.filter(recipient=profile.user, kind="credentialing").count() == 1
    assert Notification.objects.filter(recipient=admin_user, kind="credentialing").count() == 1


@pytest.mark.parametrize(
    ("npi", "valid"),
    [
        ("1234567893", True),
        ("1234567890", False),
        ("123456789", False),
        ("12345678a3", False),
        ("\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19\uff13", False),
    ],
)
def test_the_npi_check_digit(npi, valid):
    assert npi_is_valid(npi) is valid


def test_the_credentialing_page_is_for_administrators_only(
    client, coordinator, specialist, admin_user
):
    url = reverse("credentialing:home")
    for person in (coordinator, specialist):
        client.force_login(person)
        assert client.get(url).status_code == 404
    client.force_login(admin_user)
    SpecialistFactory(user__full_name="Dr. Waiting", licence_verification="unverified")
    page = client.get(url).content.decode()
    assert "Dr. Waiting: New York" in page and "1 licence waiting to be verified" in page


def test_verifying_on_the_page_without_a_source_keeps_the_page_with_a_message(client, admin_user):
    profile = SpecialistFactory(licence_verification="unverified")
    licence = profile.licences.get()
    client.force_login(admin_user)
    prefix = f"v{licence.pk}"
    shown = {
        "licence": licence.pk,
        f"{prefix}-licence": licence.pk,
        f"{prefix}-seen_number": licence.number,
        f"{prefix}-seen_expires_on": licence.expires_on.isoformat(),
        f"{prefix}-seen_verification": "unverified",
    }
    response = client.post(reverse("credentialing:verify"), {**shown, f"{prefix}-note": "x"})
    assert response.status_code == 400
    assert "Choose where you checked the licence." in response.content.decode()
    response = client.post(
        reverse("credentialing:verify"), {**shown, f"{prefix}-source": "state_board"}
    )
    assert response.status_code == 302
    assert Licence.objects.get(pk=licence.pk).verification == "verified"


def test_a_page_that_showed_another_number_is_told_so(client, admin_user):
    profile = SpecialistFactory(licence_verification="unverified")
    licence = profile.licences.get()
    client.force_login(admin_user)
    prefix = f"v{licence.pk}"
    response = client.post(
        reverse("credentialing:verify"),
        {
            "licence": licence.pk,
            f"{prefix}-licence": licence.pk,
            f"{prefix}-seen_number": "NY-OLD",
            f"{prefix}-seen_expires_on": licence.expires_on.isoformat(),
            f"{prefix}-seen_verification": "unverified",
            f"{prefix}-source": "state_board",
        },
    )
    assert response.status_code == 400
    assert "changed since you opened the page" in response.content.decode()
    assert Licence.objects.get(pk=licence.pk).verification == "unverified"


def test_verifying_an_expired_licence_is_refused(admin_user):
    profile = SpecialistFactory(
        licence_verification="unverified", licence_expires=timezone.localdate()
    )
    with pytest.raises(ValidationError):
        credentialing.licence_verify(
            actor=admin_user, licence_id=profile.licences.get().pk, source="state_board"
        )


def test_the_daily_task_is_scheduled_and_tells_once(settings, admin_user):
    from specialists.tasks import licences_expiry_notify

    schedule = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "specialists.tasks.licences_expiry_notify" in schedule
    SpecialistFactory(licence_expires=timezone.localdate() + datetime.timedelta(days=59))
    assert licences_expiry_notify() == 1
    assert licences_expiry_notify() == 0
