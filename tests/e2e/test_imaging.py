"""Imaging, start to end, in Chromium (issue 20's acceptance), on the S3-compatible test
server with the eager tasks really checking and rendering:

1. The patient uploads two CD folders through the records page: a compressed CT study
   (RLE Lossless, two series, anonymised) and a disc labelled for another person.
   Verification passes for the CT; the other is flagged to the patient ("Labelled for
   another person?"), and their case page says it waits for their answer rather than
   counting it as ready.
2. The assigned specialist never sees the flagged study (its page is a 404). They open
   the CT's axial series in the viewer, scroll with the keyboard and the mouse wheel,
   hear the position, switch to the lung window (made when first asked for) and see
   other pixels (the frames' bytes and the stage's picture compared).
3. The patient, on a 390 px phone with touch, opens "Your scans" and swipes through
   the slices; they remove the flagged disc after the page that asks again; "who
   looked" shows the specialist's opening and their own.

Axe on every page; no CSP violation."""

import hashlib
import re

import numpy as np
import pytest
from playwright.sync_api import expect

from records.imaging.models import FrameSet, Series
from records.models import Identity, Record, State
from requests_app.models import CaseStatus
from secondop.audit.models import AccessLog
from tests.accounts.factories import UserFactory, enrol_totp
from tests.e2e.a11y import assert_accessible
from tests.e2e.conftest import assert_no_csp_violations, new_page, screenshot
from tests.e2e.test_intake import sign_in
from tests.e2e.test_matching import _staff_sign_in
from tests.records import samples
from tests.records.imaging.dicoms import ct_slice, instance
from tests.requests_app.factories import CaseFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

UPLOAD_TIMEOUT = 120_000
AXIAL = 20
CORONAL = 6
STUDY = "1.2.826.0.1.3680043.8.498.20"
CT_FOLDER = "CT chest March 2026"
OTHER_FOLDER = "Outside hospital CT"


def _slice(index: int, count: int) -> np.ndarray:
    """A CT slice with a bright nodule that moves from top to bottom through the
    series, so every image differs from its neighbours."""
    pixels = ct_slice(side=256, seed=index).astype(np.int32)
    row = 40 + int(170 * index / max(count - 1, 1))
    pixels[row : row + 14, 110:124] = 1024 + 300
    return pixels.astype(np.uint16)


def ct_disc() -> dict[str, bytes]:
    """A hospital CD: a CT study compressed with RLE Lossless, in two series, beside
    the viewer program's AUTORUN.INF. Anonymised (no name to compare)."""
    files = {}
    for number, (series, description, count) in enumerate(
        ((f"{STUDY}.1", "Chest axial 1.25 mm", AXIAL), (f"{STUDY}.2", "Chest coronal", CORONAL)),
        1,
    ):
        for index in range(count):
            files[f"DICOM/S{number}/IM{index + 1:04d}"] = instance(
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
    files["AUTORUN.INF"] = b"[autorun]\r\nopen=viewer\\viewer.exe\r\n"
    return files


def _write(folder, files: dict[str, bytes]):
    for name, data in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return folder


@pytest.fixture
def world(s3_storage, settings, tmp_path):
    settings.CLAMD_ADDRESS = ""
    patient = UserFactory(email="maria@example.com", full_name="Maria Lopez")
    coordinator = UserFactory(
        role="coordinator", email="grace@example.com", full_name="Grace Nurse"
    )
    specialist = UserFactory(
        role="specialist", email="marsh@example.com", full_name="Dr. Helen Marsh"
    )
    enrol_totp(specialist)
    case = CaseFactory(
        owner=patient,
        submitted=True,
        status=CaseStatus.IN_REVIEW,
        case_manager=coordinator,
        specialist=specialist,
    )
    ct = _write(tmp_path / CT_FOLDER, ct_disc())
    # Another hospital's disc, labelled for someone else.
    other = _write(
        tmp_path / OTHER_FOLDER,
        samples.study_files(
            series=1, instances=2, patient_name="WHITAKER^ROSALIND", birth_date="19580214"
        ),
    )
    return patient, specialist, case, ct, other


def _position(page):
    return page.locator("[data-viewer-position]")


def _frame_shown(page, pattern: str) -> None:
    """The viewer shows a decoded frame whose URL matches `pattern`."""
    expect(page.locator("[data-viewer-image]")).to_have_attribute("data-frame", re.compile(pattern))
    page.wait_for_function(
        "() => { const i = document.querySelector('[data-viewer-image]');"
        " return i.complete && i.naturalWidth > 0; }"
    )


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


def test_a_cd_is_uploaded_read_in_the_viewer_and_the_wrong_patients_disc_is_caught(
    page, browser, live_server, world
):
    patient, specialist, case, ct_folder, other_folder = world
    records_url = f"/records/case/{case.uuid}/"

    # --- 1. The patient uploads both discs through the records page ---------------------
    sign_in(page, patient.email)
    page.wait_for_url(re.compile("/requests/"))
    page.goto(records_url)
    page.locator("[data-pick-folder]").set_input_files(ct_folder)
    page.locator("[data-pick-folder]").set_input_files(other_folder)
    expect(page.locator("[data-item]")).to_have_count(2)
    page.get_by_role("button", name="Upload", exact=True).click()
    question = page.locator("[data-identity-question]")
    expect(question).to_be_visible(timeout=UPLOAD_TIMEOUT)
    expect(page.locator(".record-row")).to_have_count(2)
    # What became of the upload: one ready, one waiting for the patient's answer.
    expect(page.locator("[data-records-outcome-text]")).to_have_text(
        "1 file checked and ready, 1 waiting for your answer (labelled for another person?)."
    )

    # Verification passed for the CT: checked, and every series rendered by the tasks.
    study = Record.objects.get(case=case, title=CT_FOLDER)
    other = Record.objects.get(case=case, title=OTHER_FOLDER)
    assert study.state == State.VERIFIED and study.is_study, study.reason
    assert other.state == State.VERIFIED and other.identity == Identity.ASKED
    axial, coronal = Series.objects.filter(record=study).order_by("position")
    assert (axial.image_count, coronal.image_count) == (AXIAL, CORONAL)
    stored = FrameSet.objects.filter(series__record=study, preset="stored")
    assert sorted(stored.values_list("state", flat=True)) == ["ready"] * 4
    ct_row = page.locator(".record-row").filter(has_text=CT_FOLDER)
    expect(ct_row).to_contain_text("Ready, not checked for viruses")  # no scanner here
    expect(ct_row).to_contain_text("The viewer program on your CD was not kept")

    # The other disc is flagged to the patient, with what its images say.
    expect(question.get_by_role("heading", name="Labelled for another person?")).to_be_visible()
    expect(question).to_contain_text("ROSALIND WHITAKER")
    expect(question).to_contain_text("14 February 1958")
    assert_accessible(page, "records page, a disc flagged")
    screenshot(page, "imaging-records-flagged-1280")

    # The case page counts it apart: waiting for the patient, not "checked and ready".
    page.goto(f"/requests/{case.uuid}/")
    main = page.locator("main")
    expect(main).to_contain_text(
        "1 checked and ready, 1 waiting for your answer (labelled for another person?)"
    )
    expect(main).to_contain_text(
        "Tell us whether a study you sent is yours: it is labelled for another person"
    )
    expect(main.get_by_role("link", name=re.compile("^Go to your records"))).to_be_visible()
    expect(main).to_contain_text("1 record checked and ready")
    expect(main).not_to_contain_text("2 records checked and ready")
    assert_accessible(page, "case page, a study waits for the patient")
    screenshot(page, "imaging-case-flagged-1280")
    # "Your scans" on a laptop: the CT's two series, nothing of the flagged disc.
    page.goto(f"/imaging/case/{case.uuid}/scans/")
    expect(page.locator(".scans-card img")).to_have_count(2)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.scans-card img')]"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )
    assert_accessible(page, "your scans, 1280 px", phone=False)
    screenshot(page, "imaging-your-scans-1280")

    # --- 2. The specialist reads the CT; the flagged disc is not theirs to see ---------
    marsh = new_page(browser, live_server.url)
    _staff_sign_in(marsh, specialist.email)
    marsh.wait_for_url(re.compile("/specialist/"))
    marsh.goto(records_url)
    expect(marsh.locator(".record-row")).to_have_count(1)
    expect(marsh.locator(".record-row")).to_contain_text(CT_FOLDER)
    assert marsh.goto(f"/records/{other.uuid}/").status == 404
    assert not AccessLog.objects.filter(object_id=str(other.pk), actor=specialist).exists()

    marsh.goto(f"/records/{study.uuid}/")
    marsh.get_by_role("link", name=re.compile("Look at the images.*Chest axial")).click()
    marsh.wait_for_url(re.compile(f"/imaging/series/{axial.uuid}/"))
    expect(_position(marsh)).to_have_text(f"Image 1 of {AXIAL}")
    # The frame as sent (no script needed), then the script's copy in memory.
    _frame_shown(marsh, r"/stored/1024/0/$")
    expect(marsh.locator("[data-viewer-image]")).to_have_attribute("src", re.compile("^blob:"))
    viewer_text = marsh.locator("main").inner_text()
    assert "Chest coronal" in viewer_text and "CT chest with contrast" in viewer_text
    assert_accessible(marsh, "viewer, specialist")
    screenshot(marsh, "imaging-viewer-specialist-1280")

    # The keyboard, on the image.
    stage = marsh.locator("[data-viewer-stage]")
    stage.focus()
    for _ in range(3):
        marsh.keyboard.press("ArrowDown")
    expect(_position(marsh)).to_have_text(f"Image 4 of {AXIAL}")
    marsh.keyboard.press("PageDown")
    expect(_position(marsh)).to_have_text(f"Image 14 of {AXIAL}")
    marsh.keyboard.press("End")
    expect(_position(marsh)).to_have_text(f"Image {AXIAL} of {AXIAL}")
    marsh.keyboard.press("Home")
    expect(_position(marsh)).to_have_text(f"Image 1 of {AXIAL}")
    marsh.keyboard.press("ArrowUp")  # nothing before the first
    expect(_position(marsh)).to_have_text(f"Image 1 of {AXIAL}")
    first = _frame_digest(marsh)

    # The mouse wheel: a notch an image.
    box = stage.bounding_box()
    marsh.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    for _ in range(5):
        marsh.mouse.wheel(0, 100)
    expect(_position(marsh)).to_have_text(f"Image 6 of {AXIAL}")
    marsh.mouse.wheel(0, -100)
    expect(_position(marsh)).to_have_text(f"Image 5 of {AXIAL}")
    _frame_shown(marsh, r"/stored/1024/4/$")
    assert _frame_digest(marsh) != first  # another slice
    # Said to screen readers once scrolling stops, politely.
    live = marsh.locator("[data-viewer-live]")
    assert live.get_attribute("aria-live") == "polite"
    expect(live).to_have_text(f"Image 5 of {AXIAL}")
    assert marsh.url.endswith("?i=4")  # a reload comes back here
    ahead = marsh.evaluate(
        """() => performance.getEntriesByType("resource")
            .map(e => e.name).filter(n => n.includes("/stored/1024/"))"""
    )
    # The neighbours were preloaded, with the page's frame token (the short check).
    assert any(re.search(r"/stored/1024/8/\?t=.+", n) for n in ahead), ahead

    # The lung window: made when first asked for, then shown. Same slice, other pixels.
    stored_digest = _frame_digest(marsh)
    stored_picture = stage.screenshot()
    lung = marsh.get_by_role("button", name=re.compile("^Lung"))
    assert lung.get_attribute("aria-pressed") == "false"
    lung.click()
    expect(lung).to_have_attribute("aria-pressed", "true")
    _frame_shown(marsh, r"/lung/1024/4/$")
    marsh.wait_for_function(
        "() => document.querySelector('[data-viewer-image]').dataset.frame.includes('/lung/')"
    )
    assert _frame_digest(marsh) != stored_digest
    assert stage.screenshot() != stored_picture
    expect(_position(marsh)).to_have_text(f"Image 5 of {AXIAL}")
    expect(live).to_have_text("Showing the Lung setting.")
    assert FrameSet.objects.filter(series=axial, preset="lung", state="ready").count() == 2
    stage.focus()
    marsh.keyboard.press("ArrowDown")
    _frame_shown(marsh, r"/lung/1024/5/$")
    assert_accessible(marsh, "viewer, lung window")
    screenshot(marsh, "imaging-viewer-specialist-lung-1280")

    # The other series, from the list beside the viewer.
    marsh.get_by_role("link", name=re.compile("CT · Chest coronal")).click()
    expect(_position(marsh)).to_have_text(f"Image 1 of {CORONAL}")
    assert_no_csp_violations(marsh)
    marsh.context.close()
    # One access-log row per series opened, none per frame.
    opened = AccessLog.objects.filter(object_type="imaging.series", actor=specialist)
    assert sorted(opened.values_list("object_id", flat=True)) == sorted(
        [str(axial.pk), str(coronal.pk)]
    )

    # --- 3. The patient on a phone: "Your scans", a swipe, and the other disc removed ---
    assert_no_csp_violations(page)
    phone = new_page(
        browser,
        live_server.url,
        viewport={"width": 390, "height": 844},
        has_touch=True,
        is_mobile=True,
        device_scale_factor=2,
    )
    sign_in(phone, patient.email)
    phone.wait_for_url(re.compile("/requests/"))
    phone.goto(records_url)
    phone.get_by_role("link", name="See your scans").click()
    phone.wait_for_url(re.compile(f"/imaging/case/{case.uuid}/scans/"))
    expect(phone.get_by_role("heading", name="Your scans", level=1)).to_be_visible()
    assert "These are the pictures from your scans" in phone.locator("main").inner_text()
    pictures = phone.locator(".scans-card img")
    expect(pictures).to_have_count(2)  # the CT's two series; nothing of the other disc
    for index in range(2):  # drawn as they scroll into view (loading="lazy")
        pictures.nth(index).scroll_into_view_if_needed()
    phone.wait_for_function(
        "() => [...document.querySelectorAll('.scans-card img')]"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )
    phone.evaluate("() => window.scrollTo(0, 0)")
    assert_accessible(phone, "your scans, 390 px")
    screenshot(phone, "imaging-your-scans-390")

    phone.get_by_role("link", name=re.compile("CT · Chest axial")).click()
    phone.wait_for_url(re.compile(f"/imaging/series/{axial.uuid}/"))
    expect(_position(phone)).to_have_text(f"Image 1 of {AXIAL}")
    _frame_shown(phone, r"/stored/512/0/$")  # the phone's set
    assert "These are the pictures from your scan" in phone.locator("main").inner_text()
    stage = phone.locator("[data-viewer-stage]")
    stage.scroll_into_view_if_needed()
    _swipe(phone, stage, dx=-100)  # finger to the left: on through the slices
    expect(_position(phone)).to_have_text(f"Image 7 of {AXIAL}")
    _frame_shown(phone, r"/stored/512/6/$")
    _swipe(phone, stage, dx=50)  # and back
    expect(_position(phone)).to_have_text(f"Image 4 of {AXIAL}")
    assert phone.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    assert_accessible(phone, "viewer, patient, 390 px")
    screenshot(phone, "imaging-viewer-patient-390")

    # The disc labelled for another person: "Remove it" asks again before anything goes.
    phone.goto(records_url)
    flagged = phone.locator("[data-identity-question]")
    flagged.get_by_role("link", name=re.compile("^Remove it")).click()
    phone.wait_for_url(re.compile(f"/records/{other.uuid}/identity/remove/"))
    expect(phone.get_by_role("heading", level=1)).to_have_text(f"Remove “{OTHER_FOLDER}”?")
    expect(phone.locator("main")).to_contain_text("ROSALIND WHITAKER")
    assert Record.objects.get(pk=other.pk).state == State.VERIFIED  # nothing gone yet
    assert_accessible(phone, "remove the other person's disc?, 390 px")
    screenshot(phone, "imaging-remove-confirm-390")
    phone.get_by_role("button", name="Yes, remove them").click()
    phone.wait_for_url(re.compile(records_url))
    expect(
        phone.get_by_text(f"“{OTHER_FOLDER}” was removed: nothing of it is kept.")
    ).to_be_visible()
    expect(phone.locator("[data-identity-question]")).to_have_count(0)
    expect(phone.locator(".record-row")).to_have_count(1)
    other.refresh_from_db()
    assert other.state == State.REJECTED and other.reason == "other_person"
    assert not other.files.exists()

    # "Who looked": the specialist's opening of the images, and the patient's own.
    phone.goto(f"/records/{study.uuid}/")
    looked = phone.locator("section").filter(
        has=phone.get_by_role("heading", name="Who has looked at this record")
    )
    expect(looked).to_contain_text("Dr. Helen Marsh (Specialist): looked at the images")
    expect(looked).to_contain_text("You: looked at the images")
    assert_accessible(phone, "record page, who looked, 390 px")
    assert AccessLog.objects.filter(
        object_type="imaging.series", object_id=str(axial.pk), actor=patient
    ).exists()
    assert_no_csp_violations(phone)
    phone.context.close()
