import datetime
import threading

import pytest
from django.db import close_old_connections, connection
from django.urls import reverse
from django.utils import timezone

from requests_app.models import Case, CaseStatus
from requests_app.notices import OFFER_ACCEPTED, OFFER_DECLINED, OFFER_MADE, WITHDRAWN
from secondop.notifications.models import Notification
from specialists import services
from specialists.models import Offer, OfferStatus
from specialists.tasks import offers_expire
from tests.accounts.factories import UserFactory, enrol_totp
from tests.requests_app.factories import CaseFactory
from tests.specialists.factories import SpecialistFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def matching(patient, coordinator):
    return CaseFactory(owner=patient, submitted=True, status="matching", case_manager=coordinator)


def _offer(case, coordinator, profile):
    return services.offer_make(actor=coordinator, case_ref=case.uuid, specialist_id=profile.user_id)


def test_an_offer_moves_the_case_and_tells_only_the_specialist_without_detail(
    matching, coordinator, django_capture_on_commit_callbacks
):
    from django.core import mail

    profile = SpecialistFactory()
    with django_capture_on_commit_callbacks(execute=True):
        offer = _offer(matching, coordinator, profile)
    matching.refresh_from_db()
    assert matching.status == CaseStatus.OFFERED and offer.status == OfferStatus.OPEN
    hours = (offer.deadline - timezone.now()).total_seconds() / 3600
    assert 47.9 < hours <= 48
    note = Notification.objects.get(kind=OFFER_MADE)
    assert note.recipient == profile.user
    sent = [m for m in mail.outbox if profile.user.email in m.to]
    assert sent and "breast" not in sent[0].body.lower()


def test_an_urgent_case_gets_12_hours(patient, coordinator):
    case = CaseFactory(owner=patient, submitted=True, status="matching", urgency="urgent")
    offer = _offer(case, coordinator, SpecialistFactory())
    assert (offer.deadline - timezone.now()).total_seconds() / 3600 <= 12


def test_an_unlicensed_specialist_is_never_offered(matching, coordinator):
    unlicensed = SpecialistFactory(licensed_in=("WY",))
    with pytest.raises(services.OfferError, match="without a verified licence in NY"):
        _offer(matching, coordinator, unlicensed)
    with pytest.raises(services.OfferError, match="never be relaxed"):
        services.offer_make(
            actor=coordinator,
            case_ref=matching.uuid,
            specialist_id=unlicensed.user_id,
            relax={"licence"},
            relax_reason="x",
        )
    assert not Offer.objects.exists()


def test_a_relaxed_check_needs_and_records_a_reason(matching, coordinator):
    matching.specialist_language = "Spanish"
    matching.save()
    profile = SpecialistFactory()
    with pytest.raises(services.OfferError, match="Say why"):
        services.offer_make(
            actor=coordinator,
            case_ref=matching.uuid,
            specialist_id=profile.user_id,
            relax={"language"},
        )
    offer = services.offer_make(
        actor=coordinator,
        case_ref=matching.uuid,
        specialist_id=profile.user_id,
        relax={"language"},
        relax_reason="The patient is happy with an interpreter.",
    )
    assert offer.relaxed == ["language"] and "interpreter" in offer.relax_reason


def test_the_specialist_sees_only_a_summary_until_they_accept(client, matching, coordinator):
    profile = SpecialistFactory()
    _offer(matching, coordinator, profile)
    client.force_login(profile.user)
    response = client.get(reverse("requests_app:staff_case", args=[matching.uuid]))
    assert response.url == reverse("specialists:offer", args=[matching.uuid])
    html = client.get(response.url).content.decode()
    assert "Early-stage breast cancer" in html and "50 to 59" in html and "Metro General" in html
    # What an expert decides on: the proposed treatment and the patient's questions.
    assert "Mastectomy" in html and "1. Is surgery my only option?" in html
    for private in (matching.patient_name, "212 555 0123", "1970"):
        assert private not in html
    accept = client.post(reverse("specialists:offer_accept", args=[matching.uuid]), {})
    assert accept.status_code == 400
    assert "Confirm that you have no conflict of interest" in accept.content.decode()
    client.post(reverse("specialists:offer_accept", args=[matching.uuid]), {"no_conflict": "on"})
    matching.refresh_from_db()
    assert matching.status == CaseStatus.IN_REVIEW and matching.specialist == profile.user
    html = client.get(reverse("requests_app:staff_case", args=[matching.uuid])).content.decode()
    assert matching.patient_name in html  # now the whole request


def test_accepting_tells_the_patient_who_and_the_case_manager(
    client, matching, coordinator, patient
):
    profile = SpecialistFactory(
        user__full_name="Dr. Helen Marsh",
        title="MD, PhD",
        institution="Lakeside University Hospital",
    )
    _offer(matching, coordinator, profile)
    services.offer_accept(actor=profile.user, case_ref=matching.uuid, conflict_attested=True)
    assert Notification.objects.filter(recipient=coordinator, kind=OFFER_ACCEPTED).exists()
    assert Notification.objects.filter(recipient=patient, kind=OFFER_ACCEPTED).exists()
    client.force_login(patient)
    html = client.get(reverse("requests_app:case_detail", args=[matching.uuid])).content.decode()
    assert (
        "Dr. Helen Marsh, MD, PhD (Medical Oncology, Lakeside University Hospital) has "
        "accepted your case."
    ) in html
    assert reverse("directory:detail", args=[profile.public_id]) in html  # their profile


def test_a_decline_returns_the_case_to_matching_and_never_again(matching, coordinator):
    profile = SpecialistFactory()
    _offer(matching, coordinator, profile)
    with pytest.raises(services.OfferError, match="Choose why"):
        services.offer_decline(actor=profile.user, case_ref=matching.uuid, reason="")
    services.offer_decline(
        actor=profile.user, case_ref=matching.uuid, reason="capacity", note="Back in May"
    )
    matching.refresh_from_db()
    assert matching.status == CaseStatus.MATCHING
    assert Notification.objects.filter(recipient=coordinator, kind=OFFER_DECLINED).exists()
    with pytest.raises(services.OfferError, match="already offered this case"):
        _offer(matching, coordinator, profile)


def test_the_expiry_task_returns_the_offer_to_matching_and_tells_the_case_manager(
    matching, coordinator
):
    profile = SpecialistFactory()
    offer = _offer(matching, coordinator, profile)
    assert offers_expire() == 0  # not due yet
    Offer.objects.filter(pk=offer.pk).update(deadline=timezone.now() - datetime.timedelta(1))
    assert offers_expire() == 1
    assert offers_expire() == 0  # idempotent
    offer.refresh_from_db()
    matching.refresh_from_db()
    assert offer.status == OfferStatus.EXPIRED and matching.status == CaseStatus.MATCHING
    event = matching.events.latest("id")
    assert event.actor is None and "did not answer in time" in event.reason
    assert Notification.objects.filter(recipient=coordinator, kind=OFFER_DECLINED).exists()
    with pytest.raises(services.OfferError, match="closed"):
        services.offer_accept(actor=profile.user, case_ref=matching.uuid, conflict_attested=True)


def test_an_expired_offer_cannot_be_accepted_even_before_the_task_runs(matching, coordinator):
    profile = SpecialistFactory()
    offer = _offer(matching, coordinator, profile)
    Offer.objects.filter(pk=offer.pk).update(deadline=timezone.now() - datetime.timedelta(1))
    with pytest.raises(services.OfferError, match="time to answer"):
        services.offer_accept(actor=profile.user, case_ref=matching.uuid, conflict_attested=True)
    assert Case.objects.get(pk=matching.pk).specialist is None


def test_another_specialist_cannot_answer_someone_elses_offer(client, matching, coordinator):
    _offer(matching, coordinator, SpecialistFactory())
    intruder = SpecialistFactory()
    client.force_login(intruder.user)
    for name in ("specialists:offer", "specialists:offer_accept", "specialists:offer_decline"):
        method = client.get if name == "specialists:offer" else client.post
        response = method(reverse(name, args=[matching.uuid]), {"no_conflict": "on"})
        assert response.status_code == 404, name
    assert Case.objects.get(pk=matching.pk).specialist is None


# --- Two at once: never two assignments -------------------------------------------------
def _race(*calls):
    """Run each call in its own thread and database connection, released together."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait(5)
            outcomes[i] = call()
        except Exception as error:
            outcomes[i] = error
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_two_coordinators_offering_at_once_make_one_offer(patient):
    from specialists.services import certifications_load, specialties_load

    specialties_load()
    certifications_load()
    first = UserFactory(role="coordinator", email="first@example.com")
    second = UserFactory(role="coordinator", email="second@example.com")
    enrol_totp(first)
    enrol_totp(second)
    case = CaseFactory(owner=patient, submitted=True, status="matching")
    one, two = SpecialistFactory(), SpecialistFactory()
    outcomes = _race(
        lambda: services.offer_make(actor=first, case_ref=case.uuid, specialist_id=one.user_id),
        lambda: services.offer_make(actor=second, case_ref=case.uuid, specialist_id=two.user_id),
    )
    made = [o for o in outcomes if isinstance(o, Offer)]
    refused = [o for o in outcomes if isinstance(o, services.OfferError)]
    assert len(made) == 1 and len(refused) == 1, outcomes
    assert "not waiting for a specialist" in str(refused[0])
    assert Offer.objects.filter(case=case).count() == 1


@pytest.mark.django_db(transaction=True)
def test_accepting_while_the_offer_is_withdrawn_makes_at_most_one_assignment(patient):
    from specialists.services import certifications_load, specialties_load

    specialties_load()
    certifications_load()
    coordinator = UserFactory(role="coordinator", email="c@example.com")
    enrol_totp(coordinator)
    case = CaseFactory(owner=patient, submitted=True, status="matching")
    profile = SpecialistFactory()
    offer = services.offer_make(
        actor=coordinator, case_ref=case.uuid, specialist_id=profile.user_id
    )
    Offer.objects.filter(pk=offer.pk).update(
        deadline=timezone.now() + datetime.timedelta(milliseconds=300)
    )

    def expire_when_due():
        import time

        time.sleep(0.3)
        return services.offer_expire(offer_id=offer.pk)

    outcomes = _race(
        lambda: services.offer_accept(
            actor=profile.user, case_ref=case.uuid, conflict_attested=True
        ),
        expire_when_due,
    )
    case.refresh_from_db()
    offer.refresh_from_db()
    if offer.status == OfferStatus.ACCEPTED:  # the specialist was first
        assert case.specialist == profile.user and case.status == CaseStatus.IN_REVIEW
        assert outcomes[1] is False
    else:  # the deadline won: nobody is assigned
        assert offer.status == OfferStatus.EXPIRED
        assert case.specialist is None and case.status == CaseStatus.MATCHING


def test_a_specialist_with_an_offer_cannot_move_the_case_from_the_coordinators_page(
    client, matching, coordinator
):
    profile = SpecialistFactory()
    _offer(matching, coordinator, profile)
    client.force_login(profile.user)
    for name, data in [
        ("requests_app:staff_case_move", {"to_status": "matching"}),
        ("requests_app:staff_case_claim", {}),
        ("requests_app:staff_case_insurance", {"insurance_status": "covered"}),
    ]:
        assert client.post(reverse(name, args=[matching.uuid]), data).status_code == 404, name
    matching.refresh_from_db()
    assert matching.status == CaseStatus.OFFERED and matching.case_manager == coordinator


def test_a_case_withdrawn_while_offered_takes_the_offer_with_it(
    client, matching, coordinator, patient
):
    profile = SpecialistFactory()
    _offer(matching, coordinator, profile)
    from requests_app.services import case_withdraw

    case_withdraw(actor=patient, case_ref=matching.uuid, reason="Decided on surgery")
    assert Offer.objects.get(case=matching).status == OfferStatus.WITHDRAWN
    assert Notification.objects.filter(recipient=profile.user, kind=WITHDRAWN).exists()
    client.force_login(profile.user)
    assert client.get(reverse("specialists:offer", args=[matching.uuid])).status_code == 404
    with pytest.raises(services.OfferError):
        services.offer_decline(actor=profile.user, case_ref=matching.uuid, reason="capacity")


def test_a_declined_offer_tells_the_patient_nothing_of_the_reason(matching, coordinator):
    profile = SpecialistFactory()
    _offer(matching, coordinator, profile)
    services.offer_decline(actor=profile.user, case_ref=matching.uuid, reason="conflict")
    event = matching.events.latest("id")
    assert "onflict" not in event.reason and event.reason == "We are finding another specialist."
    assert Offer.objects.get(case=matching).decline_reason == "conflict"


def test_an_offer_past_its_deadline_shows_nothing_at_once_whatever_the_sweep(
    client, matching, coordinator
):
    """The expiry task has not run (beat down, or between its runs): from the deadline
    on, the offer page, the answer forms and the case's other pages show nothing."""
    profile = SpecialistFactory()
    offer = _offer(matching, coordinator, profile)
    client.force_login(profile.user)
    offer_url = reverse("specialists:offer", args=[matching.uuid])
    assert matching.diagnosis in client.get(offer_url).content.decode()
    home = client.get(reverse("specialists:home")).content.decode()
    assert matching.reference in home
    Offer.objects.filter(pk=offer.pk).update(
        deadline=timezone.now() - datetime.timedelta(seconds=1)
    )
    response = client.get(offer_url)
    html = response.content.decode()
    assert response.status_code == 410
    assert "The time to answer this offer has passed" in html
    assert matching.diagnosis not in html and matching.reference not in html
    accept = client.post(
        reverse("specialists:offer_accept", args=[matching.uuid]), {"no_conflict": "on"}
    )
    assert accept.status_code == 410
    assert matching.diagnosis not in accept.content.decode()
    assert matching.reference not in client.get(reverse("specialists:home")).content.decode()
    assert client.get(reverse("records:case_records", args=[matching.uuid])).status_code == 404
    matching.refresh_from_db()
    assert matching.specialist is None and matching.status == CaseStatus.OFFERED
    assert Offer.objects.get(pk=offer.pk).status == OfferStatus.OPEN  # the task has not run
