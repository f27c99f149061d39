"""The coordinator's specialty choice at triage, and holding a case no one can take."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from requests_app.models import Case, CaseAmendment, CaseEvent
from specialists import services
from specialists.models import Offer, Specialty
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
        specialty=None,
        specialty_unsure=True,
        due_at=timezone.now() + datetime.timedelta(days=7),
    )


def test_choosing_the_specialty_is_on_the_timeline_with_the_reason(case, coordinator):
    cardiology = Specialty.objects.get(slug="pediatric-cardiology")
    for _ in range(2):  # a double submit changes nothing twice
        services.case_specialty_change(
            actor=coordinator,
            case_ref=case.uuid,
            specialty_id=cardiology.pk,
            reason="A heart defect in a child.",
        )
    case.refresh_from_db()
    assert case.specialty == cardiology and not case.specialty_unsure
    amendment = CaseAmendment.objects.get(case=case)
    assert amendment.new_values == {"specialty": "Pediatric Cardiology"}
    assert amendment.reason == "A heart defect in a child."


def test_a_specialty_change_takes_back_an_offer_to_someone_who_no_longer_fits(case, coordinator):
    case.specialty, case.specialty_unsure = Specialty.objects.get(slug="oncology"), False
    case.status = "offered"
    case.save()
    oncologist = SpecialistFactory()
    offer = Offer.objects.create(
        case=case,
        specialist=oncologist.user,
        offered_by=coordinator,
        deadline=timezone.now() + datetime.timedelta(hours=40),
    )
    services.case_specialty_change(
        actor=coordinator,
        case_ref=case.uuid,
        specialty_id=Specialty.objects.get(slug="cardiology").pk,
        reason="It is a heart problem.",
    )
    offer.refresh_from_db()
    assert offer.status == "withdrawn"
    assert Case.objects.get(pk=case.pk).status == "matching"


def test_a_specialty_change_keeps_an_offer_that_still_fits(case, coordinator):
    case.specialty, case.specialty_unsure = Specialty.objects.get(slug="oncology"), False
    case.status = "offered"
    case.save()
    oncologist = SpecialistFactory()
    offer = Offer.objects.create(
        case=case,
        specialist=oncologist.user,
        offered_by=coordinator,
        deadline=timezone.now() + datetime.timedelta(hours=40),
    )
    services.case_specialty_change(
        actor=coordinator,
        case_ref=case.uuid,
        specialty_id=Specialty.objects.get(slug="neuro-oncology").pk,
        reason="A brain tumour.",
    )
    offer.refresh_from_db()
    assert offer.status == "open"


def test_a_change_needs_a_reason(case, coordinator):
    with pytest.raises(services.OfferError, match="Say why"):
        services.case_specialty_change(
            actor=coordinator,
            case_ref=case.uuid,
            specialty_id=Specialty.objects.first().pk,
            reason=" ",
        )


def test_holding_a_case_tells_the_patient_why_and_a_double_submit_does_nothing(
    case, coordinator, client, patient
):
    until = timezone.localdate() + datetime.timedelta(days=10)
    for _ in range(2):
        services.case_hold(actor=coordinator, case_ref=case.uuid, reason="no_licence", until=until)
    assert (
        CaseEvent.objects.filter(case=case, new_status="matching", old_status="matching").count()
        == 1
    )
    client.force_login(patient)
    page = client.get(reverse("requests_app:case_detail", args=[case.uuid])).content.decode()
    assert "We are looking for a specialist licensed in your state." in page
    assert "2 days" not in page.split("Timeline")[0]


def test_an_offer_ends_the_hold(case, coordinator):
    case.specialty, case.specialty_unsure = Specialty.objects.get(slug="oncology"), False
    case.save()
    services.case_hold(
        actor=coordinator,
        case_ref=case.uuid,
        reason="other",
        until=timezone.localdate() + datetime.timedelta(days=3),
    )
    specialist = SpecialistFactory()
    services.offer_make(actor=coordinator, case_ref=case.uuid, specialist_id=specialist.user_id)
    case.refresh_from_db()
    assert case.hold_reason == "" and case.hold_until is None


@pytest.mark.parametrize("until_days", [0, -1, 91])
def test_a_hold_needs_a_day_to_look_again_within_90_days(case, coordinator, until_days):
    with pytest.raises(services.OfferError):
        services.case_hold(
            actor=coordinator,
            case_ref=case.uuid,
            reason="other",
            until=timezone.localdate() + datetime.timedelta(days=until_days),
        )


def test_the_match_page_holds_and_tells_the_patient(case, coordinator, client):
    Case.objects.filter(pk=case.pk).update(case_manager=coordinator)
    client.force_login(coordinator)
    url = reverse("specialists:case_match", args=[case.uuid])
    page = client.get(url).content.decode()
    assert "No one qualifies." in page and "specialists considered" in page
    response = client.post(
        reverse("specialists:case_hold", args=[case.uuid]), {"reason": "no_specialty", "until": ""}
    )
    assert response.status_code == 400 and "Choose the day to look again." in (
        response.content.decode()
    )
    response = client.post(
        reverse("specialists:case_tell_patient", args=[case.uuid]),
        {"body": "We are still looking for the right specialist."},
    )
    assert response.status_code == 302
    assert case.messages.filter(body__startswith="We are still looking").exists()


def test_outsiders_get_404_on_the_new_matching_pages(case, specialist, outsider, client):
    for person in (specialist, outsider):
        client.force_login(person)
        for name in ("case_specialty", "case_hold", "case_tell_patient", "case_hold_end"):
            url = reverse(f"specialists:{name}", args=[case.uuid])
            assert (
                client.post(url) if name != "case_specialty" else client.get(url)
            ).status_code == 404
