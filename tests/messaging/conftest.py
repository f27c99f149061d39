"""A case in review with its whole care team: the patient (its owner), the case
manager (the `coordinator` fixture) and the assigned specialist."""

import pytest

from requests_app.models import CaseStatus
from tests.accounts.factories import UserFactory, enrol_totp
from tests.requests_app.factories import CaseFactory


@pytest.fixture
def case(patient, coordinator, specialist):
    return CaseFactory(
        owner=patient,
        submitted=True,
        status=CaseStatus.IN_REVIEW,
        case_manager=coordinator,
        specialist=specialist,
    )


@pytest.fixture
def other_coordinator(db):
    user = UserFactory(role="coordinator", full_name="Otto Othercoordinator")
    enrol_totp(user)
    return user


@pytest.fixture
def other_specialist(db):
    user = UserFactory(role="specialist", full_name="Dr. Not Assigned")
    enrol_totp(user)
    return user
