"""The signed-in floor bench/pages.py serves beside the pages (bench/settings.py):
bench-only, behind sign-in, one query besides the user."""

import copy

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import Resolver404, resolve

from bench.signed_in import FLOOR_PATH
from tests.requests_app.factories import CaseFactory


@pytest.fixture
def floor_urls(settings):
    templates = copy.deepcopy(django_settings.TEMPLATES)
    templates[0]["DIRS"] = [
        *templates[0]["DIRS"],
        django_settings.BASE_DIR / "bench" / "signed_in" / "templates",
    ]
    settings.TEMPLATES = templates
    settings.ROOT_URLCONF = "bench.signed_in.urls"


def test_the_floor_is_not_in_the_projects_urls():
    with pytest.raises(Resolver404):
        resolve(FLOOR_PATH, urlconf="secondop.urls")


def test_the_floor_sends_a_visitor_to_sign_in(client, floor_urls):
    response = client.get(FLOOR_PATH)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/bench/")


def test_the_floor_shows_the_viewers_own_requests_with_one_query(client, floor_urls, patient):
    mine = CaseFactory(owner=patient, submitted=True)
    other = CaseFactory(submitted=True)
    client.force_login(patient)
    client.get(FLOOR_PATH)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(FLOOR_PATH)
    html = response.content.decode()
    assert response.status_code == 200
    assert mine.reference in html and other.reference not in html
    # The user (the session is in the cache), then the floor's own query.
    assert len(queries.captured_queries) == 2, [q["sql"] for q in queries.captured_queries]
