"""Withdrawal and closing end the care team's access (requests_app.selectors:
case_list and case_for_viewer, which every app loads its case through).

Withdrawing revokes the patient's HIPAA authorisation (45 CFR 164.508(b)(5)): the
case manager, the specialist and every other coordinator lose the case, its
records, report, messages, consultations and bundles at once, and are shown a
page that says so and nothing of the case. Closing leaves the case manager and
the specialist a read-only window; then nothing. The patient keeps theirs."""

import datetime
from unittest import mock

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from records import checking
from records import services as records_services
from records.models import Bundle
from requests_app import access, services
from requests_app.messaging.models import Message
from requests_app.models import CaseStatus
from requests_app.workflow import case_transition
from secondop.audit.models import AccessLog, AuditEvent
from tests.accounts.factories import UserFactory, enrol_totp
from tests.consultations.factories import ConsultationFactory
from tests.reports.factories import assigned_case, released_version

pytestmark = pytest.mark.django_db

SECRET_WORDS = (
    "Early-stage breast cancer",
    "Whether I really need surgery",
    "Core biopsy",
    "Pat Patient",
    "A private word about the biopsy",
)


@pytest.fixture
def other_coordinator(db):
    user = UserFactory(role="coordinator", full_name="Otto Othercoordinator")
    enrol_totp(user)
    return user


@pytest.fixture
def world(patient, coordinator, specialist):
    """A case in review with everything the care team reads: a checked record, a
    report version, a message, a consultation and a built bundle."""
    case = assigned_case(patient, coordinator, specialist)
    record = case.records.get()
    version = released_version(case, author=specialist, released_by=coordinator)
    Message.objects.create(case=case, author=patient, body="A private word about the biopsy")
    consultation = ConsultationFactory(case=case, specialist=specialist)
    bundle = records_services.bundle_create(actor=specialist, case_ref=case.uuid)
    checking.build_bundle(bundle.pk)
    bundle.refresh_from_db()
    return {
        "case": case,
        "record": record,
        "version": version,
        "consultation": consultation,
        "bundle": bundle,
    }


def urls(world) -> dict[str, str]:
    case, record = world["case"], world["record"]
    return {
        "case page": reverse("requests_app:staff_case", args=[case.uuid]),
        "records": reverse("records:case_records", args=[case.uuid]),
        "a record": reverse("records:detail", args=[record.uuid]),
        "a record's download": reverse("records:download", args=[record.uuid]),
        "report": reverse("reports:case", args=[case.uuid]),
        "a report version": reverse("reports:version", args=[world["version"].uuid]),
        "its PDF": reverse("reports:pdf", args=[world["version"].uuid]),
        "messages": reverse("messaging:thread", args=[case.uuid]),
        "a consultation": reverse("consultations:detail", args=[world["consultation"].uuid]),
        "bundle": reverse("records:bundle", args=[world["bundle"].uuid]),
        "bundle download": reverse("records:bundle_download", args=[world["bundle"].uuid]),
    }


PAGES = (
    "case page",
    "records",
    "a record",
    "a record's download",
    "report",
    "a report version",
    "its PDF",
    "messages",
    "a consultation",
    "bundle",
    "bundle download",
)


def body(response) -> str:
    return (
        b"".join(response.streaming_content) if response.streaming else response.content
    ).decode(errors="replace")


def withdraw(case):
    services.case_withdraw(actor=case.owner, case_ref=case.uuid, reason="I changed my mind")


# --- Withdrawal --------------------------------------------------------------------------
@pytest.mark.parametrize("who", ["coordinator", "specialist", "other_coordinator"])
def test_after_withdrawal_the_care_team_gets_404_and_nothing_of_the_case(
    client, request, world, who, django_capture_on_commit_callbacks
):
    person = request.getfixturevalue(who)
    client.force_login(person)
    could = [page for page in PAGES if client.get(urls(world)[page]).status_code in (200, 302)]
    expected = {
        "coordinator": set(PAGES) - {"bundle", "bundle download"},  # the specialist's
        "specialist": set(PAGES),
        "other_coordinator": {"case page"},
    }[who]
    assert set(could) == expected  # before: they could
    with django_capture_on_commit_callbacks(execute=True):
        withdraw(world["case"])
    reads = AccessLog.objects.filter(actor=person).count()
    for page in PAGES:
        response = client.get(urls(world)[page])
        assert response.status_code == 404, page
        html = body(response)
        assert not [word for word in SECRET_WORDS if word in html], page
        assert world["case"].reference not in html and str(world["case"].uuid) not in html
        if page not in ("bundle", "bundle download"):  # the bundle itself is gone: plain 404
            assert "The patient withdrew this request" in html, page
    assert AccessLog.objects.filter(actor=person).count() == reads  # nothing was read


def test_the_withdrawn_page_is_for_those_who_could_see_it_outsiders_get_the_plain_404(
    client, world, outsider
):
    withdraw(world["case"])
    stranger = UserFactory(role="specialist")
    enrol_totp(stranger)
    for person in (outsider, stranger):
        client.force_login(person)
        html = body(client.get(urls(world)["case page"]))
        assert "withdrew" not in html and "Page not found" in html


def test_the_patient_keeps_their_own_request_after_withdrawing(client, patient, world):
    withdraw(world["case"])
    client.force_login(patient)
    for name in ("records", "a record", "report", "a report version", "messages"):
        assert client.get(urls(world)[name]).status_code == 200, name


def test_withdrawal_deletes_built_bundles_and_cancels_unbuilt_ones(
    world, specialist, coordinator, django_capture_on_commit_callbacks
):
    built = world["bundle"]
    building = records_services.bundle_create(actor=coordinator, case_ref=world["case"].uuid)
    with django_capture_on_commit_callbacks(execute=True):
        withdraw(world["case"])
    assert not Bundle.objects.exists()
    assert not default_storage.exists(built.key)
    assert checking.build_bundle(building.pk) == "cancelled"
    assert not default_storage.exists(building.storage_key)
    actions = dict(
        AuditEvent.objects.filter(action__startswith="records.bundle.")
        .exclude(action="records.bundle.created")
        .values_list("object_id", "action")
    )
    assert actions == {
        str(built.pk): "records.bundle.deleted",
        str(building.pk): "records.bundle.cancelled",
    }


def test_after_withdrawal_no_new_bundle_and_no_list_shows_the_case(world, specialist, coordinator):
    withdraw(world["case"])
    for person in (specialist, coordinator):
        assert not access.case_list(viewer=person).exists()
        with pytest.raises(access.CaseAccessEnded):
            records_services.bundle_create(actor=person, case_ref=world["case"].uuid)


# --- Closing: a read-only window, then nothing --------------------------------------------
def close(world, coordinator):
    case = world["case"]
    case.status = CaseStatus.DELIVERED
    case.save()
    case_transition(actor=coordinator, ref=case.uuid, to_status=CaseStatus.CLOSED)
    case.refresh_from_db()
    return case


def later(days: int):
    """The clock moved `days` ahead."""
    moved = timezone.now() + datetime.timedelta(days=days)
    return mock.patch("django.utils.timezone.now", return_value=moved)


READ_PAGES = (
    "case page",
    "records",
    "a record",
    "a record's download",
    "report",
    "a report version",
    "messages",
    "a consultation",
)


@pytest.mark.parametrize("who", ["coordinator", "specialist"])
def test_after_closing_the_case_manager_and_specialist_read_for_the_window_then_not(
    client, request, world, who, coordinator, settings
):
    settings.CASE_STAFF_READ_DAYS_AFTER_CLOSE = 30
    close(world, coordinator)
    client.force_login(request.getfixturevalue(who))
    for name in READ_PAGES:
        assert client.get(urls(world)[name]).status_code in (200, 302), name
    with later(29):
        assert client.get(urls(world)["records"]).status_code == 200
    with later(31):
        for name in READ_PAGES:
            response = client.get(urls(world)[name])
            assert response.status_code == 404, name
            html = body(response)
            assert "This request is closed" in html and "Core biopsy" not in html, name


def test_the_window_is_a_setting(client, world, coordinator, settings):
    settings.CASE_STAFF_READ_DAYS_AFTER_CLOSE = 3
    close(world, coordinator)
    client.force_login(coordinator)
    with later(2):
        assert client.get(urls(world)["records"]).status_code == 200
    with later(4):
        assert client.get(urls(world)["records"]).status_code == 404


def test_closing_ends_other_coordinators_access_at_once(
    client, world, coordinator, other_coordinator
):
    close(world, coordinator)
    client.force_login(other_coordinator)
    response = client.get(urls(world)["case page"])
    assert response.status_code == 404 and "This request is closed" in body(response)


def test_in_the_window_nothing_can_be_changed_or_zipped(client, world, coordinator, specialist):
    case = close(world, coordinator)
    client.force_login(specialist)
    response = client.post(
        reverse("messaging:thread", args=[case.uuid]), {"body": "One more thing", "kind": "message"}
    )
    assert not Message.objects.filter(body="One more thing").exists()
    assert response.status_code in (302, 400, 403, 409)  # refused, the page says why
    with pytest.raises(records_services.RecordError, match="closed"):
        records_services.bundle_create(actor=specialist, case_ref=case.uuid)
    assert not Bundle.objects.exists()  # closing took the built one too


def test_the_patient_keeps_their_closed_request_after_the_window(
    client, patient, world, coordinator
):
    close(world, coordinator)
    client.force_login(patient)
    with later(365):
        for name in ("records", "report", "a report version", "messages"):
            assert client.get(urls(world)[name]).status_code == 200, name
