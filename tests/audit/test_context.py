"""Where audited work comes from is set once, where the work starts."""

import pytest
from celery import shared_task
from django.urls import reverse

from secondop.audit.context import audit_source, current_source
from secondop.audit.models import AuditEvent
from secondop.audit.services import log_event

pytestmark = pytest.mark.django_db


@shared_task(name="tests.audit.write_row")
def write_row(user_id: int) -> str:
    log_event(actor=None, action="tests.audit.task_row")
    return current_source().via


def test_a_request_sets_its_path_and_address_for_the_rows_it_writes(client, patient):
    client.force_login(patient)
    response = client.post(reverse("requests_app:case_start"), REMOTE_ADDR="198.51.100.7")
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="requests.case.started")
    assert (event.source, event.path, event.ip_address) == (
        "web",
        reverse("requests_app:case_start"),
        "198.51.100.7",
    )


def test_a_task_run_inside_a_request_has_its_own_source_and_gives_the_requests_back():
    with audit_source("web", ip="198.51.100.7", path="/x/"):
        assert write_row.delay(1).get() == "task:tests.audit.write_row"
        assert current_source().via == "web"
    row = AuditEvent.objects.get(action="tests.audit.task_row")
    assert (row.source, row.path, row.ip_address) == ("task:tests.audit.write_row", "", None)


def test_a_block_gives_the_source_before_it_back():
    with audit_source("command:seed_demo"):
        assert log_event(actor=None, action="tests.audit.inner").source == "command:seed_demo"
    # tests/conftest.py sets "test" around every test.
    assert log_event(actor=None, action="tests.audit.outer").source == "test"
