"""The image viewer in Chromium, on frames really rendered: the patient's CD (a
compressed CT study, RLE Lossless, in two series) is uploaded to the S3-compatible
test server, checked, and its frames rendered by the eager tasks. The assigned
specialist opens a series from the study's page, scrolls with the keyboard and the
mouse wheel, hears the position, switches to the lung window (made when first asked
for) and sees other pixels; each series opened is one access-log row the patient
sees. The patient opens "Your scans" on a 390 px phone with touch and swipes
through the slices. Axe on every page; no CSP violation."""

import hashlib
import re

import numpy as np
import pytest
from playwright.sync_api import expect

from records.imaging.models import FrameSet, Series
from records.models import State
from requests_app.models import CaseStatus
from secondop.audit.models import AccessLog
from tests.accounts.factories import UserFactory, enrol_totp
from tests.e2e.a11y import assert_accessible
from tests.e2e.conftest import assert_no_csp_violations, new_page, screenshot
from tests.e2e.test_intake import sign_in
from tests.e2e.test_matching import _staff_sign_in
from tests.e2e.test_records_staff import upload
from tests.records.imaging.dicoms import ct_slice, instance
from tests.requests_app.factories import CaseFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

AXIAL = 20
CORONAL = 6
STUDY = "1.2.826.0.1.3680043.8.498.20"


def _slice(index: int, count: int) -> np.ndarray:
    """A CT slice with a bright nodule that moves from top to bottom through the
    series, so every image differs from its neighbours."""
    pixels = ct_slice(side=256, seed=index).astype(np.int32)
    row = 40 + int(170 * index / max(count - 1, 1))
    pixels[row : row + 14, 110:124] = 1024 + 300
    return pixels.astype(np.uint16)


def ct_disc() -> dict[str, bytes]:
    files = {}
    for number, (series, description, count) in enumerate(
        ((f"{STUDY}.1", "Chest axial 1.25 mm", AXIAL), (f"{STUDY}.2", "Chest coronal", CORONAL)),
        1,
    ):
        for index in range(count):
            files[f"CD/DICOM/S{number}/IM{index + 1:04d}"] = instance(
                _slice(index, count),
                study=STUDY,
                series=series,
                number=index + 1,
                position=float(index) * 1.25,
                rle=True,
                RescaleSlope=1,
                RescaleIntercept=-1024,
                WindowCenter=40,
                WindowWidth=400,
                SeriesDescription=description,
                SeriesNumber=number,
                StudyDescription="CT chest with contrast",
                BodyPartExamined="CHEST",
            )
    files["CD/AUTORUN.INF"] = b"[autorun]\r\nopen=viewer\\viewer.exe\r\n"
    return files


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
    for person in (coordinator, specialist):
        enrol_totp(person)
    case = CaseFactory(
        owner=patient,
        submitted=True,
        status=CaseStatus.IN_REVIEW,
        case_manager=coordinator,
        specialist=specialist,
    )
    study = upload(patient, case, "imaging", "CT chest, March 2026", ct_disc())
    assert study.state == State.VERIFIED, study.reason
    axial, coronal = Series.objects.filter(record=study).order_by("position")
    assert (axial.image_count, coronal.image_count) == (AXIAL, CORONAL)
    stored = FrameSet.objects.filter(series__record=study, preset="stored")
    assert stored.count() == 4 and all(f.state == "ready" for f in stored), list(
        stored.values_list("state", "reason")
    )
    return patient, specialist, case, study, axial, coronal


def _position(page):
    return page.locator("[data-viewer-position]")


def _frame_digest(page) -> str:
    """The shown frame's bytes, from the frame URL the page shows (data-frame)."""
    data = page.evaluate(
        """async () => {
            const image = document.querySelector("[data-viewer-image]");
            await image.decode();
            const response = await fetch(image.dataset.frame);
            return Array.from(new Uint8Array(await response.arrayBuffer()));
        }"""
    )
    return hashlib.sha256(bytes(data)).hexdigest()


def test_the_specialist_scrolls_and_switches_to_the_lung_window(page, live_server, world):
    patient, specialist, _case, study, axial, coronal = world
    _staff_sign_in(page, specialist.email)
    page.wait_for_url(re.compile("/specialist/"))
    page.goto(f"{live_server.url}/records/{study.uuid}/")
    page.get_by_role("link", name=re.compile("Look at the images.*Chest axial")).click()
    page.wait_for_url(re.compile(f"/imaging/series/{axial.uuid}/"))
    expect(_position(page)).to_have_text(f"Image 1 of {AXIAL}")
    # As sent: the frame itself (no JavaScript needed); then the script's copy in memory.
    expect(page.locator("[data-viewer-image]")).to_have_attribute(
        "data-frame", re.compile(r"/stored/1024/0/$")
    )
    expect(page.locator("[data-viewer-image]")).to_have_attribute("src", re.compile("^blob:"))
    page.wait_for_function(
        "() => { const i = document.querySelector('[data-viewer-image]');"
        " return i.complete && i.naturalWidth > 0; }"
    )
    main = page.locator("main").inner_text()
    assert "Chest coronal" in main and "CT chest with contrast" in main
    assert_accessible(page, "viewer, specialist")
    screenshot(page, "viewer-specialist-1280")

    # The keyboard, on the image.
    stage = page.locator("[data-viewer-stage]")
    stage.focus()
    for _ in range(3):
        page.keyboard.press("ArrowDown")
    expect(_position(page)).to_have_text(f"Image 4 of {AXIAL}")
    page.keyboard.press("PageDown")
    expect(_position(page)).to_have_text(f"Image 14 of {AXIAL}")
    page.keyboard.press("End")
    expect(_position(page)).to_have_text(f"Image {AXIAL} of {AXIAL}")
    page.keyboard.press("Home")
    expect(_position(page)).to_have_text(f"Image 1 of {AXIAL}")
    page.keyboard.press("ArrowUp")  # nothing before the first
    expect(_position(page)).to_have_text(f"Image 1 of {AXIAL}")
    first = _frame_digest(page)

    # The mouse wheel: a notch an image.
    box = stage.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    for _ in range(5):
        page.mouse.wheel(0, 100)
    expect(_position(page)).to_have_text(f"Image 6 of {AXIAL}")
    page.mouse.wheel(0, -100)
    expect(_position(page)).to_have_text(f"Image 5 of {AXIAL}")
    expect(page.locator("[data-viewer-image]")).to_have_attribute(
        "data-frame", re.compile(r"/stored/1024/4/$")
    )
    assert _frame_digest(page) != first  # another slice
    # Said to screen readers once scrolling stops, politely.
    live = page.locator("[data-viewer-live]")
    assert live.get_attribute("aria-live") == "polite"
    expect(live).to_have_text(f"Image 5 of {AXIAL}")
    assert page.url.endswith("?i=4")  # a reload comes back here
    # The neighbours were fetched ahead.
    ahead = page.evaluate(
        """() => performance.getEntriesByType("resource")
            .map(e => e.name).filter(n => n.includes("/stored/1024/"))"""
    )
    assert any(n.endswith("/stored/1024/8/") for n in ahead), ahead

    # The lung window: made when first asked for, then shown. Same slice, other pixels.
    stored = _frame_digest(page)
    stored_picture = stage.screenshot()
    lung = page.get_by_role("button", name=re.compile("^Lung"))
    assert lung.get_attribute("aria-pressed") == "false"
    lung.click()
    expect(lung).to_have_attribute("aria-pressed", "true")
    expect(page.locator("[data-viewer-image]")).to_have_attribute(
        "data-frame", re.compile(r"/lung/1024/4/$")
    )
    page.wait_for_function(
        "() => { const i = document.querySelector('[data-viewer-image]');"
        " return i.complete && i.naturalWidth > 0 && i.dataset.frame.includes('/lung/'); }"
    )
    assert _frame_digest(page) != stored
    assert stage.screenshot() != stored_picture
    expect(_position(page)).to_have_text(f"Image 5 of {AXIAL}")
    expect(live).to_have_text("Showing the Lung setting.")
    assert FrameSet.objects.filter(series=axial, preset="lung", state="ready").count() == 2
    stage.focus()
    page.keyboard.press("ArrowDown")
    expect(page.locator("[data-viewer-image]")).to_have_attribute(
        "data-frame", re.compile(r"/lung/1024/5/$")
    )
    assert_accessible(page, "viewer, lung window")
    screenshot(page, "viewer-specialist-lung-1280")

    # The other series, from the list beside the viewer.
    page.get_by_role("link", name=re.compile("CT · Chest coronal")).click()
    expect(_position(page)).to_have_text(f"Image 1 of {CORONAL}")
    assert (
        page.get_by_role("link", name=re.compile("CT · Chest coronal")).get_attribute(
            "aria-current"
        )
        == "page"
    )
    assert_no_csp_violations(page)

    # One access-log row per series opened (none per frame), shown to the patient.
    rows = AccessLog.objects.filter(object_type="imaging.series", actor=specialist)
    assert sorted(rows.values_list("object_id", flat=True)) == sorted(
        [str(axial.pk), str(coronal.pk)]
    )
    patient_page = new_page(page.context.browser, live_server.url)
    sign_in(patient_page, patient.email)
    patient_page.wait_for_url(re.compile("/requests/"))
    patient_page.goto(f"{live_server.url}/records/{study.uuid}/")
    looked = patient_page.locator("main").inner_text()
    assert "Dr. Helen Marsh (Specialist): looked at the images" in looked
    patient_page.context.close()


def _swipe(page, locator, *, dx: int, steps: int = 8) -> None:
    """A finger's swipe across `locator`, as touch events from the browser's own
    input pipeline (Chromium's DevTools protocol), not synthetic DOM events."""
    box = locator.bounding_box()
    x, y = box["x"] + box["width"] * 0.75, box["y"] + box["height"] / 2
    cdp = page.context.new_cdp_session(page)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    for step in range(1, steps + 1):
        point = {"x": x + dx * step / steps, "y": y}
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def test_the_patient_opens_your_scans_on_a_phone_and_swipes(browser, live_server, world):
    patient, _specialist, case, _study, axial, _coronal = world
    page = new_page(
        browser,
        live_server.url,
        viewport={"width": 390, "height": 844},
        has_touch=True,
        is_mobile=True,
        device_scale_factor=2,
    )
    sign_in(page, patient.email)
    page.wait_for_url(re.compile("/requests/"))
    page.goto(f"{live_server.url}/records/case/{case.uuid}/")
    page.get_by_role("link", name="See your scans").click()
    page.wait_for_url(re.compile(f"/imaging/case/{case.uuid}/scans/"))
    expect(page.get_by_role("heading", name="Your scans", level=1)).to_be_visible()
    text = page.locator("main").inner_text()
    assert "These are the pictures from your scans" in text
    pictures = page.locator(".scans-card img")
    expect(pictures).to_have_count(2)
    for index in range(2):  # drawn as they scroll into view (loading="lazy")
        pictures.nth(index).scroll_into_view_if_needed()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.scans-card img')]"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )
    page.evaluate("() => window.scrollTo(0, 0)")
    assert_accessible(page, "your scans, 390 px")
    screenshot(page, "your-scans-390")

    page.get_by_role("link", name=re.compile("CT · Chest axial")).click()
    page.wait_for_url(re.compile(f"/imaging/series/{axial.uuid}/"))
    image = page.locator("[data-viewer-image]")
    expect(image).to_have_attribute("data-frame", re.compile(r"/stored/512/0/$"))  # the phone's set
    expect(_position(page)).to_have_text(f"Image 1 of {AXIAL}")
    assert "These are the pictures from your scan" in page.locator("main").inner_text()
    stage = page.locator("[data-viewer-stage]")
    stage.scroll_into_view_if_needed()
    _swipe(page, stage, dx=-100)  # finger to the left: on through the slices
    expect(_position(page)).to_have_text(f"Image 7 of {AXIAL}")
    expect(image).to_have_attribute("data-frame", re.compile(r"/stored/512/6/$"))
    _swipe(page, stage, dx=50)  # and back
    expect(_position(page)).to_have_text(f"Image 4 of {AXIAL}")
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    assert_accessible(page, "viewer, patient, 390 px")
    screenshot(page, "viewer-patient-390")
    assert_no_csp_violations(page)
    # The patient's own looking is not in the care team's access log.
    assert not AccessLog.objects.filter(object_type="imaging.series", actor=patient).exists()
    page.context.close()


def test_your_scans_and_the_viewer_at_1280_px(page, live_server, world):
    patient, _specialist, case, _study, _axial, coronal = world
    sign_in(page, patient.email)
    page.wait_for_url(re.compile("/requests/"))
    page.goto(f"{live_server.url}/imaging/case/{case.uuid}/scans/")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.scans-card img')]"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )
    assert_accessible(page, "your scans, 1280 px", phone=False)
    screenshot(page, "your-scans-1280")
    page.goto(f"{live_server.url}/imaging/series/{coronal.uuid}/")
    expect(_position(page)).to_have_text(f"Image 1 of {CORONAL}")
    screenshot(page, "viewer-patient-1280")
    assert_no_csp_violations(page)
