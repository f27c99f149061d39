"""The care team opens a patient's records in Chromium, against the S3-compatible
test server: the case manager and the assigned specialist see the previews and the
study's series; an unassigned specialist and another patient get 404s for the
record page and its download URL. Axe on every page."""

import re

import pytest
from django.conf import settings as django_settings

from demo.builders import files as sample_files
from records import services as record_services
from records.models import Record, State
from records.storage import save_bytes
from requests_app.models import CaseStatus
from tests.accounts.factories import UserFactory, enrol_totp
from tests.e2e.a11y import assert_accessible
from tests.e2e.conftest import assert_no_csp_violations, screenshot
from tests.e2e.test_intake import sign_in, sign_out
from tests.e2e.test_matching import _staff_sign_in
from tests.requests_app.factories import CaseFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def upload(patient, case, category, title, files):
    slots = record_services.record_slots_create(
        actor=patient,
        case_ref=case.uuid,
        category=category,
        title=title,
        service_date=None,
        answers=None,
        files=[
            {
                "client_id": name,
                "name": name.rsplit("/", 1)[-1],
                "size": len(data),
                "relative_path": name if len(files) > 1 else "",
            }
            for name, data in files.items()
        ],
    )
    for slot in slots.files:
        save_bytes(slot.file.key, files[slot.client_id])
    record_services.record_confirm(actor=patient, record_ref=slots.record.uuid)
    return Record.objects.get(pk=slots.record.pk)


@pytest.fixture
def world(s3_storage, settings):
    settings.CLAMD_ADDRESS = ""
    patient = UserFactory(email="maria@example.com", full_name="Maria Lopez")
    coordinator = UserFactory(
        role="coordinator", email="grace@example.com", full_name="Grace Nurse"
    )
    specialist = UserFactory(
        role="specialist", email="marsh@example.com", full_name="Dr. Helen Marsh"
    )
    stranger = UserFactory(role="specialist", email="far@example.com", full_name="Dr. Far Away")
    for person in (coordinator, specialist, stranger):
        enrol_totp(person)
    case = CaseFactory(
        owner=patient,
        submitted=True,
        status=CaseStatus.IN_REVIEW,
        case_manager=coordinator,
        specialist=specialist,
    )
    pdf = upload(
        patient,
        case,
        "pathology",
        "Core biopsy, left breast",
        {
            "biopsy.pdf": sample_files.text_pdf(
                "Surgical pathology report", ["Invasive ductal carcinoma, grade 2"]
            )
        },
    )
    study = upload(patient, case, "imaging", "CT and MR disc", sample_files.dicom_study())
    assert [pdf.state, study.state] == [State.VERIFIED, State.VERIFIED], (pdf.reason, study.reason)
    return patient, coordinator, specialist, stranger, case, pdf, study


def _thumbnails_drawn(page) -> list[int]:
    page.wait_for_load_state("load")
    return page.eval_on_selector_all(
        "img.record-thumb, .series-card img, img.record-preview",
        "images => images.map(i => i.complete ? i.naturalWidth : 0)",
    )


@pytest.mark.parametrize("who", ["coordinator", "specialist"])
def test_the_care_team_opens_the_records_and_sees_their_previews(page, live_server, world, who):
    patient, coordinator, specialist, _stranger, case, pdf, _study = world
    person = coordinator if who == "coordinator" else specialist
    _staff_sign_in(page, person.email)
    page.wait_for_load_state()
    page.goto(f"{live_server.url}/records/case/{case.uuid}/")
    assert page.get_by_role("link", name="Core biopsy, left breast").is_visible()
    widths = _thumbnails_drawn(page)
    assert len(widths) == 2 and all(w > 0 for w in widths), widths
    assert_accessible(page, f"records page, {who}")

    page.get_by_role("link", name="CT and MR disc").click()
    cards = page.locator(".series-card")
    assert cards.count() == 2
    assert all(w > 0 for w in _thumbnails_drawn(page))
    text = page.locator("main").inner_text()
    assert "CT" in text and "MR" in text
    assert "The viewer program on your CD was not kept: we show the images ourselves." in text
    assert "not checked for viruses" in text  # no scanner in this world
    assert_accessible(page, f"study page, {who}")
    screenshot(page, f"records-study-{who}")

    page.goto(f"{live_server.url}/records/{pdf.uuid}/")
    with page.expect_popup() as opened:
        page.get_by_role("link", name=re.compile("Open in a new tab")).click()
    tab = opened.value
    tab.wait_for_load_state()
    assert tab.url.startswith(django_settings.STORAGES["default"]["OPTIONS"]["endpoint_url"])
    tab.close()
    assert_no_csp_violations(page)

    sign_out(page)
    sign_in(page, patient.email)
    page.goto(f"{live_server.url}/records/{pdf.uuid}/")
    looked = page.locator("main").inner_text()
    assert f"{person.full_name} ({person.get_role_display()}): opened" in looked
    assert f"{person.full_name} ({person.get_role_display()}): downloaded" in looked


def test_outsiders_get_404_for_the_record_page_and_the_download(page, live_server, world):
    _patient, _coordinator, _specialist, stranger, case, pdf, study = world
    other_patient = UserFactory(email="olly@example.com", full_name="Olly Outsider")
    urls = [
        f"/records/{pdf.uuid}/",
        f"/records/{pdf.uuid}/download/",
        f"/records/{study.uuid}/",
        f"/records/case/{case.uuid}/",
    ]
    _staff_sign_in(page, stranger.email)
    page.wait_for_load_state()
    for url in urls:
        assert page.goto(f"{live_server.url}{url}").status == 404, url
    sign_out(page)
    sign_in(page, other_patient.email)
    for url in urls:
        assert page.goto(f"{live_server.url}{url}").status == 404, url
    assert_accessible(page, "404 page")
