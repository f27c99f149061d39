"""The matching page and the specialist's workspace: what they show and that
their query counts do not grow with the rows shown."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from specialists import services
from specialists.models import Offer
from tests.helpers import assert_constant_queries
from tests.requests_app.factories import CaseFactory
from tests.specialists.factories import SpecialistFactory

pytestmark = pytest.mark.django_db


def test_the_matching_page_runs_the_same_queries_for_1_or_50_specialists(
    client, patient, coordinator
):
    case = CaseFactory(owner=patient, submitted=True, status="matching")
    client.force_login(coordinator)

    def grow(n):
        from specialists.models import SpecialistProfile

        while SpecialistProfile.objects.count() < n:
            SpecialistFactory()

    assert_constant_queries(
        client, lambda n: reverse("specialists:case_match", args=[case.uuid]), grow, sizes=(1, 50)
    )


def test_the_workspace_runs_the_same_queries_for_1_or_50_cases(client, patient, coordinator):
    profile = SpecialistFactory(max_open_cases=200)
    client.force_login(profile.user)

    def grow(n):
        while Offer.objects.filter(specialist=profile.user).count() < n:
            case = CaseFactory(owner=patient, submitted=True, status="offered")
            Offer.objects.create(
                case=case,
                specialist=profile.user,
                offered_by=coordinator,
                deadline=timezone.now() + datetime.timedelta(hours=30),
            )
            CaseFactory(owner=patient, submitted=True, status="in_review", specialist=profile.user)

    assert_constant_queries(client, lambda n: reverse("specialists:home"), grow, sizes=(1, 50))


def test_the_workspace_shows_offers_with_time_left_and_cases_due(client, patient, coordinator):
    profile = SpecialistFactory()
    offered = CaseFactory(owner=patient, submitted=True, status="matching")
    services.offer_make(actor=coordinator, case_ref=offered.uuid, specialist_id=profile.user_id)
    mine = CaseFactory(owner=patient, submitted=True, status="in_review", specialist=profile.user)
    client.force_login(profile.user)
    html = client.get(reverse("specialists:home")).content.decode()
    assert offered.reference in html and mine.reference in html
    assert re.search(r"1\s+day", html)  # of the 48 hours left
    assert patient.full_name not in html  # a reference is enough here


def test_offering_from_the_page_with_no_specialist_chosen_says_so(client, patient, coordinator):
    case = CaseFactory(owner=patient, submitted=True, status="matching")
    client.force_login(coordinator)
    response = client.post(reverse("specialists:case_offer", args=[case.uuid]), follow=True)
    assert "Choose a specialist from the list." in response.content.decode()


def test_the_matching_page_shows_the_urgency_and_the_due_date_with_the_time_left(
    client, patient, coordinator
):
    case = CaseFactory(
        owner=patient,
        submitted=True,
        status="matching",
        urgency="urgent",
        due_at=timezone.now() + datetime.timedelta(days=2, hours=5),
    )
    client.force_login(coordinator)
    html = client.get(reverse("specialists:case_match", args=[case.uuid])).content.decode()
    facts = html[html.index('<dl class="summary-list">') : html.index("</dl>")]
    assert "Urgency" in facts and "tag-red" in facts and "Urgent" in facts
    assert re.search(r"2\xa0days, [45]\xa0hours left", facts)
