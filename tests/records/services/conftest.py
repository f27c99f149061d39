import pytest

from tests.requests_app.factories import CaseFactory


@pytest.fixture
def case(patient):
    return CaseFactory(owner=patient, submitted=True)
