"""Records upload in Chromium: the same widget (templates/records/includes/uploader.html,
static/js/records-upload.js, the vendored Uppy 6) against an S3-compatible server
(moto) and in local mode (no bucket). Files go straight to storage: the request
log shows every upload byte going to the storage host and none to the app."""

import io
import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from records.models import Record, RecordFile
from tests.accounts.factories import UserFactory
from tests.e2e.a11y import assert_accessible
from tests.e2e.conftest import assert_no_csp_violations, screenshot
from tests.e2e.test_intake import sign_in
from tests.records import samples
from tests.records.factories import RecordRequestFactory
from tests.requests_app.factories import CaseFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

MiB = 1024 * 1024
KIND = "What kind of record is this?"
UPLOAD_TIMEOUT = 120_000


# --- Files a patient has -------------------------------------------------------------------
def _pdf(extra: int = 0) -> bytes:
    """A one-page PDF; `extra` bytes ride in an object no page uses (a big scan's weight)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        b"<< /Length 0 >>\nstream\n\nendstream",
    ]
    if extra:
        objects.append(b"<< /Length %d >>\nstream\n" % extra + bytes(extra) + b"\nendstream")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


def _noisy_png(side: int = 1100) -> bytes:
    """A lab report photo of a few MB (noise does not compress)."""
    import numpy as np
    from PIL import Image

    pixels = np.random.default_rng(7).integers(0, 256, (side, side, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def files(tmp_path):
    """A pathology PDF, a lab PNG of several MB, and an imaging CD: a CT and an MR
    image in DICOM/ (no extension, as CDs have them) beside the viewer's AUTORUN.INF."""
    pdf = tmp_path / "Pathology report.pdf"
    pdf.write_bytes(_pdf())
    png = tmp_path / "Blood count.png"
    png.write_bytes(_noisy_png())
    cd = tmp_path / "CD"
    (cd / "DICOM").mkdir(parents=True)
    # Labelled for nobody (anonymised): whose images they are is test_imaging's (and tests/records/test_identity.py).
    (cd / "DICOM" / "IM0001").write_bytes(samples.anonymised("CT_small.dcm"))
    (cd / "DICOM" / "IM0002").write_bytes(samples.anonymised("MR_small.dcm"))
    (cd / "AUTORUN.INF").write_text("[autorun]\nopen=viewer.exe\n")
    assert png.stat().st_size > 3 * MiB
    return {"pdf": pdf, "png": png, "cd": cd}


@pytest.fixture
def patient_case(db):
    patient = UserFactory(email="maria@example.com", full_name="Maria Lopez")
    return patient, CaseFactory(owner=patient, submitted=True)


# --- Steps -----------------------------------------------------------------------------------
def _open_records(page, patient, case):
    sign_in(page, patient.email)
    page.wait_for_url(re.compile("/requests/"))
    response = page.goto(f"/records/case/{case.uuid}/")
    expect(page.locator("[data-uploader-form]")).to_be_visible()
    return response


CSP_WATCH = """
    window.cspViolations = [];
    document.addEventListener("securitypolicyviolation",
        (event) => window.cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`));
"""


def _item(page, name):
    return page.locator("[data-item]").filter(
        has=page.get_by_role("heading", name=name, exact=True)
    )


def _queue_all(page, files):
    page.locator("[data-pick-files]").set_input_files([files["pdf"], files["png"]])
    page.locator("[data-pick-folder]").set_input_files(files["cd"])
    expect(page.locator("[data-item]")).to_have_count(3)
    _item(page, "Pathology report.pdf").get_by_label(KIND).select_option("pathology")
    _item(page, "Blood count.png").get_by_label(KIND).select_option("labs")


def _throttle_uploads(page, bytes_per_second: int):
    """A home connection's upload speed, so that progress can be seen."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": 0,
            "downloadThroughput": -1,
            "uploadThroughput": bytes_per_second,
        },
    )
    return cdp


def _wait_for_progress_between(page, item_name):
    """Some <progress> of the item shows a share strictly between 0 and 100."""
    page.wait_for_function(
        """name => [...document.querySelectorAll("[data-item]")]
            .filter(item => item.querySelector("[data-item-name]").textContent === name)
            .some(item => [...item.querySelectorAll("progress")]
                .some(bar => bar.offsetParent && bar.value > 0 && bar.value < 100))""",
        arg=item_name,
        timeout=UPLOAD_TIMEOUT,
    )


def _wait_for_reload_with_records(page, count):
    """All confirmed: the page reloads and says what became of each; the records are listed."""
    expect(page.locator("[data-records-outcome-text]")).to_have_text(
        re.compile(r"checked and ready\.$"), timeout=UPLOAD_TIMEOUT
    )
    expect(page.locator("[data-item]")).to_have_count(0)
    expect(page.locator(".record-row")).to_have_count(count)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


# --- S3 mode ----------------------------------------------------------------------------------
def test_a_patient_uploads_files_and_an_imaging_cd_straight_to_s3(
    page, live_server, s3_storage, s3_server, patient_case, files
):
    patient, case = patient_case
    requests = []
    page.on("requestfinished", lambda request: requests.append(request))
    page.add_init_script(CSP_WATCH)
    response = _open_records(page, patient, case)
    # The strict policy holds on the upload page; it may talk to the bucket, nothing else.
    policy = dict(
        part.strip().split(" ", 1)
        for part in response.headers["content-security-policy"].split(";")
        if part.strip()
    )
    assert "unsafe" not in response.headers["content-security-policy"]
    assert policy["script-src"].startswith("'self' 'nonce-")
    assert policy["style-src"] == "'self'"
    assert policy["connect-src"] == f"'self' {_origin(s3_server['endpoint'])}"

    _queue_all(page, files)
    study = _item(page, "CD")
    expect(study).to_contain_text("3 files")
    # A folder is an imaging study: the category is chosen, the title is its name.
    expect(study.get_by_label(KIND)).to_have_value("imaging")
    expect(study.get_by_label("Title")).to_have_value("CD")
    expect(_item(page, "Pathology report.pdf").get_by_label("Title")).to_have_value(
        "Pathology report"
    )
    study.get_by_label("Date of the test or visit (optional)").fill("2026-09-30")
    assert_accessible(page, "records page, three items queued")
    screenshot(page, "uploader-queued")

    cdp = _throttle_uploads(page, 1_000_000)
    page.get_by_role("button", name="Upload", exact=True).click()
    _wait_for_progress_between(page, "Blood count.png")
    live = page.locator("[data-live]")
    expect(live).to_contain_text("Upload started.")
    # Read aloud at each quarter, never byte by byte.
    expect(live).to_contain_text("Blood count.png: 25% uploaded.", timeout=UPLOAD_TIMEOUT)
    study.locator("summary").click()
    expect(study.locator("[data-file]")).to_have_count(3)
    screenshot(page, "uploader-progress")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )

    expect(live).to_contain_text(
        "All done, we are now checking your files.", timeout=UPLOAD_TIMEOUT
    )
    screenshot(page, "uploader-done")
    # Uppy and the widget ran start to end without a single blocked script, style or request
    # (read from the console, which outlives the reload that may already be under way).
    assert_no_csp_violations(page)
    _wait_for_reload_with_records(page, 3)
    assert page.evaluate("window.cspViolations") == []
    screenshot(page, "uploader-after-reload")

    records = {r.title: r for r in Record.objects.filter(case=case)}
    assert {title: r.state for title, r in records.items()} == {
        "Pathology report": "verified",
        "Blood count": "verified",
        "CD": "verified",
    }
    assert records["CD"].is_study and records["CD"].category == "imaging"
    study_row = page.locator(".record-row").filter(has_text="CD")
    expect(study_row).to_contain_text("CT, MR")
    # No scanner runs here: the record says so rather than "Checked and ready".
    expect(study_row).to_contain_text("Ready, not checked for viruses")
    expect(study_row).to_contain_text("The viewer program on your CD was not kept")
    assert not records["CD"].files.filter(name__iendswith="AUTORUN.INF").exists()
    expect(study_row).to_contain_text("30 September 2026")

    # Every byte went to the storage host; the app got small JSON only.
    storage, app = _origin(s3_server["endpoint"]), _origin(live_server.url)
    puts = [r for r in requests if r.method == "PUT"]
    assert puts and all(_origin(r.url) == storage for r in puts)
    chosen = [files["pdf"], files["png"], *(p for p in files["cd"].rglob("*") if p.is_file())]
    sent = sum(int(r.all_headers().get("content-length", 0)) for r in puts)
    assert sent == sum(p.stat().st_size for p in chosen)
    for stored in RecordFile.objects.filter(record__case=case):
        head = s3_server["client"].head_object(Bucket=s3_server["bucket"], Key=stored.key)
        assert head["ContentLength"] == stored.size
    to_app = [r for r in requests if _origin(r.url) == app]
    assert not [r for r in to_app if r.method == "PUT"]
    assert max(r.sizes()["requestBodySize"] for r in to_app) < 16_000
    # No object key was made from a file name.
    assert all("Pathology" not in r.url and "IM0001" not in r.url for r in puts)
    assert_no_csp_violations(page)


def test_a_large_scan_goes_up_in_parts_and_a_dropped_part_is_sent_again(
    page, live_server, s3_storage, s3_server, patient_case, tmp_path
):
    patient, case = patient_case
    scan = tmp_path / "Whole slide scan.pdf"
    scan.write_bytes(_pdf(extra=120 * MiB))
    requests = []
    page.on("requestfinished", lambda request: requests.append(request))
    part_two_attempts = []

    def drop_part_two_once(route):
        if route.request.method == "PUT":
            part_two_attempts.append(route.request.url)
            if len(part_two_attempts) == 1:
                route.abort("connectionreset")
                return
        route.continue_()

    page.route(re.compile(r"[?&]partNumber=2(&|$)"), drop_part_two_once)
    _open_records(page, patient, case)
    page.locator("[data-pick-files]").set_input_files(scan)
    _item(page, "Whole slide scan.pdf").get_by_label(KIND).select_option("pathology")
    page.get_by_role("button", name="Upload", exact=True).click()
    _wait_for_reload_with_records(page, 1)

    storage = _origin(s3_server["endpoint"])
    to_storage = [r for r in requests if _origin(r.url) == storage]
    assert [r for r in to_storage if r.method == "POST" and "uploads" in urlsplit(r.url).query]
    parts = [r for r in to_storage if r.method == "PUT" and "partNumber=" in r.url]
    assert len(parts) >= 12
    assert len(part_two_attempts) == 2
    assert [r for r in to_storage if r.method == "POST" and "uploadId=" in r.url]
    record = Record.objects.get(case=case)
    assert record.state == "verified"
    assert record.size == scan.stat().st_size
    assert_no_csp_violations(page)


# --- Local mode: no bucket, the same widget -------------------------------------------------
def test_local_mode_checks_what_is_typed_retries_a_failed_file_and_uploads(
    page, live_server, patient_case, files, settings
):
    assert not settings.AWS_STORAGE_BUCKET_NAME
    patient, case = patient_case
    asked = RecordRequestFactory(case=case, note="Your biopsy pathology report from March")
    _open_records(page, patient, case)
    # Files dropped on the drop zone join the list like chosen ones.
    page.evaluate(
        """([name, bytes]) => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([new Uint8Array(bytes)], name, {type: "application/pdf"}));
            const zone = document.querySelector("[data-drop-zone]");
            for (const type of ["dragenter", "dragover", "drop"]) {
              zone.dispatchEvent(new DragEvent(type, {dataTransfer: transfer, bubbles: true,
                                                      cancelable: true}));
            }
        }""",
        [files["pdf"].name, list(files["pdf"].read_bytes())],
    )
    page.locator("[data-pick-folder]").set_input_files(files["cd"])
    expect(page.locator("[data-item]")).to_have_count(2)

    # Nothing is sent until the details are right: the summary names each problem.
    pdf_item = _item(page, "Pathology report.pdf")
    pdf_item.get_by_label("Title").fill("")
    page.get_by_role("button", name="Upload", exact=True).click()
    summary = page.locator("[data-uploader-errors]")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Pathology report.pdf: Choose what kind of record this is")
    expect(summary).to_contain_text("Pathology report.pdf: Enter a title")
    title = pdf_item.get_by_label("Title")
    expect(title).to_have_attribute("aria-invalid", "true")
    described = title.get_attribute("aria-describedby").split()
    assert f"{title.get_attribute('id')}-error" in described
    assert Record.objects.count() == 0
    assert_accessible(page, "records page, items queued with errors")
    screenshot(page, "uploader-error")
    summary.get_by_role("link", name=re.compile("Enter a title")).click()
    expect(title).to_be_focused()

    # What only the server knows it says next to the field; what was typed stays.
    title.fill("Biopsy report " + "x" * 200)
    pdf_item.get_by_label(KIND).select_option("pathology")
    pdf_item.get_by_label("This answers the request:").select_option(str(asked.uuid))
    page.route(re.compile(r"/records/upload/"), lambda route: route.abort("failed"))
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(summary).to_contain_text(
        "The title must be 200 characters or fewer.", timeout=UPLOAD_TIMEOUT
    )
    expect(summary).to_be_focused()
    expect(pdf_item.locator("[data-field=title] .error-message")).to_contain_text(
        "The title must be 200 characters or fewer."
    )
    expect(title).to_have_value("Biopsy report " + "x" * 200)
    expect(pdf_item.get_by_label(KIND)).to_have_value("pathology")
    page.unroute(re.compile(r"/records/upload/"))
    # Meanwhile the study was uploaded and confirmed.
    expect(_item(page, "CD").locator("[data-item-state]")).to_have_text(
        "Uploaded", timeout=UPLOAD_TIMEOUT
    )

    # The PDF's upload fails every time (the connection drops); the storage is slow
    # to answer its confirm once.
    failing = []

    def drop(route):
        failing.append(route.request.url)
        route.abort("connectionreset")

    confirms = []

    def storage_busy_once(route):
        confirms.append(route.request.url)
        if len(confirms) == 1:
            route.fulfill(
                status=503,
                content_type="application/json",
                body='{"message": "Our file store is not answering just now."}',
            )
        else:
            route.continue_()

    title.fill("Biopsy report")
    page.route(re.compile(r"/confirm/$"), storage_busy_once)
    page.route(
        re.compile(r"/records/upload/"),
        lambda route: drop(route) if _is_for(route, "application/pdf") else route.continue_(),
    )
    page.get_by_role("button", name="Upload", exact=True).click()
    retry = pdf_item.get_by_role("button", name="Try again Pathology report.pdf")
    expect(retry).to_be_visible(timeout=UPLOAD_TIMEOUT)
    expect(pdf_item).to_contain_text("The connection failed")
    expect(page.locator("[data-live]")).to_contain_text("Pathology report.pdf was not uploaded")
    expect(page.get_by_role("link", name="Show my records")).to_be_visible()
    screenshot(page, "uploader-failed-file")

    # Try again: only that file goes again, without choosing anything again.
    page.unroute(re.compile(r"/records/upload/"))
    retry.click()
    expect(page.locator("[data-live]")).to_contain_text(
        "Pathology report.pdf: the storage service is not answering. Trying again in 2 seconds.",
        timeout=UPLOAD_TIMEOUT,
    )
    _wait_for_reload_with_records(page, 2)
    assert failing and len(confirms) == 2
    records = {r.title: r for r in Record.objects.filter(case=case)}
    assert {title: r.state for title, r in records.items()} == {
        "Biopsy report": "verified",
        "CD": "verified",
    }
    assert records["Biopsy report"].answers == asked
    expect(page.locator(".record-row").filter(has_text="CD")).to_contain_text("CT, MR")
    assert_no_csp_violations(page)


def test_a_patient_cancels_one_record_on_a_phone_and_the_rest_is_kept(
    page, live_server, patient_case, files
):
    patient, case = patient_case
    page.set_viewport_size({"width": 390, "height": 844})
    _open_records(page, patient, case)
    page.locator("[data-pick-files]").set_input_files([files["pdf"], files["png"]])
    _item(page, "Pathology report.pdf").get_by_label(KIND).select_option("pathology")
    _item(page, "Blood count.png").get_by_label(KIND).select_option("labs")
    screenshot(page, "uploader-phone-queued")
    _throttle_uploads(page, 100_000)
    page.get_by_role("button", name="Upload", exact=True).click()
    lab = _item(page, "Blood count.png")
    _wait_for_progress_between(page, "Blood count.png")
    expect(_item(page, "Pathology report.pdf").locator("[data-item-state]")).to_have_text(
        "Uploaded", timeout=UPLOAD_TIMEOUT
    )
    screenshot(page, "uploader-phone-progress")

    lab.get_by_role("button", name="Cancel upload Blood count.png").click()
    expect(lab.locator("[data-item-state]")).to_have_text("Cancelled")
    remove = lab.get_by_role("button", name="Remove Blood count.png")
    expect(remove).to_be_focused()
    expect(page.get_by_role("link", name="Show my records")).to_be_visible()
    # The cancelled record is let go at once (cancel_url), not left "uploading".
    from tests.helpers import wait_until

    wait_until(lambda: not Record.objects.filter(title="Blood count").exists())

    # Once what is left has all been confirmed, the page shows the records.
    remove.click()
    expect(page.locator("[data-records-outcome-text]")).to_have_text(
        "1 file checked and ready.", timeout=UPLOAD_TIMEOUT
    )
    expect(page.locator(".record-row").filter(has_text="Pathology report")).to_contain_text(
        "Ready, not checked for viruses"
    )
    screenshot(page, "uploader-phone-after")
    assert Record.objects.get(title="Pathology report").state == "verified"


DROP_FOLDERS = """
    // What a browser hands over when a CD's folder and a loose file are dropped: file
    // system entries, a folder's read in batches of at most 100, as Chromium does.
    () => {
      const file = (path) => ({isFile: true, isDirectory: false, name: path.split("/").pop(),
        fullPath: "/" + path, file: (done) => done(new File(["x"], path.split("/").pop(), {lastModified: 1e12}))});
      const folder = (path, children) => ({isFile: false, isDirectory: true,
        name: path.split("/").pop(), fullPath: "/" + path, createReader: () => {
          const batches = [];
          for (let i = 0; i < children.length; i += 100) batches.push(children.slice(i, i + 100));
          return {readEntries: (done) => done(batches.shift() || [])};
        }});
      const images = Array.from({length: 250}, (_, i) =>
        file(`SCANS/DICOM/SE1/IM${String(i).padStart(4, "0")}`));
      const cd = folder("SCANS", [file("SCANS/.DS_Store"), file("SCANS/AUTORUN.INF"),
        folder("SCANS/DICOM", [folder("SCANS/DICOM/SE1", images)]), folder("SCANS/EMPTY", [])]);
      const entries = [cd, file("letter.pdf"), folder("Nothing here", [])];
      const drop = new Event("drop", {bubbles: true, cancelable: true});
      Object.defineProperty(drop, "dataTransfer", {value: {
        types: ["Files"], files: [],
        items: entries.map((entry) => ({kind: "file", webkitGetAsEntry: () => entry})),
      }});
      document.querySelector("[data-drop-zone]").dispatchEvent(drop);
    }
"""


def test_dropped_folders_are_walked_and_each_becomes_one_record(page, live_server, patient_case):
    patient, case = patient_case
    _open_records(page, patient, case)
    page.evaluate(DROP_FOLDERS)
    expect(page.locator("[data-item]")).to_have_count(2)
    scans = _item(page, "SCANS")
    # Every batch is read, sub-folders too; the Finder's .DS_Store is left out.
    expect(scans).to_contain_text("251 files")
    expect(scans.get_by_label(KIND)).to_have_value("imaging")
    expect(scans.locator("[data-file]")).to_have_count(251)
    expect(scans.locator("[data-file]").first).to_contain_text("AUTORUN.INF")
    expect(scans.locator("[data-file]").last).to_contain_text("DICOM/SE1/IM0249")
    expect(_item(page, "letter.pdf").get_by_label("Title")).to_have_value("letter")
    expect(page.locator("[data-live]")).to_contain_text(
        "The folder Nothing here has no files in it."
    )
    # The same files dropped again are not added twice.
    page.evaluate(DROP_FOLDERS)
    expect(page.locator("[data-live]")).to_contain_text("SCANS is already in the list.")
    expect(page.locator("[data-item]")).to_have_count(2)
    assert_accessible(page, "records page, a dropped CD queued")


def _is_for(route, content_type: str) -> bool:
    return route.request.method == "PUT" and (
        route.request.headers.get("content-type", "") == content_type
    )


def test_without_javascript_the_page_says_uploading_needs_it(browser, live_server, patient_case):
    patient, case = patient_case
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, patient.email)
        page.goto(f"/records/case/{case.uuid}/")
        expect(page.get_by_text("Uploading records needs JavaScript")).to_be_visible()
        expect(page.locator("[data-uploader-form]")).to_be_hidden()
    finally:
        context.close()


# --- The page tells the truth ----------------------------------------------------------------
WINDOWS_PROGRAM = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(50) + b"PE\x00\x00" + bytes(400)
)


def test_a_refused_upload_is_heard_kept_beside_its_record_and_can_be_removed(
    page, live_server, patient_case, files, tmp_path
):
    """On a phone: one good file and two refused ones (a Windows program named .pdf, and
    one whose name hides its .exe behind a right-to-left override)."""
    patient, case = patient_case
    page.set_viewport_size({"width": 390, "height": 844})
    fake = tmp_path / "Blood test.pdf"
    fake.write_bytes(WINDOWS_PROGRAM)
    spoofed = tmp_path / "Scan \u202egpj.exe"  # reads as "Scan exe.jpg"
    spoofed.write_bytes(WINDOWS_PROGRAM)
    _open_records(page, patient, case)
    page.locator("[data-pick-files]").set_input_files([files["pdf"], fake, spoofed])
    expect(page.locator("[data-item]")).to_have_count(3)
    # The queue shows the name as it really is: no hidden character reorders it.
    scan = _item(page, "Scan gpj.exe")
    expect(scan.get_by_label("Title")).to_have_value("Scan gpj")
    for name, kind in (
        ("Pathology report.pdf", "pathology"),
        ("Blood test.pdf", "labs"),
        ("Scan gpj.exe", "imaging"),
    ):
        _item(page, name).get_by_label(KIND).select_option(kind)
    page.get_by_role("button", name="Upload", exact=True).click()

    # Before the reload: never "all done".
    live = page.locator("[data-live]")
    expect(live).to_contain_text("Blood test.pdf was not accepted", timeout=UPLOAD_TIMEOUT)
    expect(live).to_contain_text("Upload finished, but 2 files were not accepted.")

    # After it: the top says what became of each file, and so does the live region.
    outcome = page.locator("[data-records-outcome-text]")
    expect(outcome).to_have_text(
        "1 file checked and ready, 2 not accepted: see why.", timeout=UPLOAD_TIMEOUT
    )
    records_live = page.locator("[data-records-live]")
    expect(records_live).to_contain_text("1 file checked and ready, 2 not accepted.")
    expect(records_live).to_contain_text(
        "Blood test: not accepted. Named “.pdf”, but it is really a Windows program."
    )
    expect(records_live).to_contain_text("Scan gpj: not accepted.")
    assert "Your files were uploaded" not in page.content()
    assert_accessible(page, "records page after a refused upload, 390 px")
    screenshot(page, "records-refused-phone")

    # "see why" goes to the reason, which stays beside the record.
    outcome.get_by_role("link", name="see why").click()
    blood = page.locator(".record-row").filter(has_text="Blood test")
    reason = blood.locator("[data-record-reason]")
    expect(reason).to_be_focused()
    expect(reason).to_contain_text("Named “.pdf”, but it is really a Windows program.")
    page.reload()
    expect(
        page.locator(".record-row").filter(has_text="Blood test").locator("[data-record-reason]")
    ).to_be_visible()
    expect(page.locator("[data-records-outcome]")).to_be_hidden()  # said once, not forever

    # Removed from the list: gone from view, kept in the database and the audit.
    page.get_by_role("button", name="Remove from the list Blood test").click()
    expect(page.locator(".flash-messages")).to_contain_text(
        "“Blood test” was removed from your list."
    )
    expect(page.locator(".record-row").filter(has_text="Blood test")).to_have_count(0)
    expect(page.locator(".record-row")).to_have_count(2)
    from secondop.audit.models import AuditEvent

    removed = Record.objects.get(title="Blood test")
    assert removed.dismissed_at is not None
    assert AuditEvent.objects.filter(
        action="records.record.dismissed", object_id=str(removed.pk)
    ).exists()
    spoofed_record = Record.objects.get(title="Scan gpj")
    assert spoofed_record.files.get().name == "Scan gpj.exe"
    created = AuditEvent.objects.get(
        action="records.record.slots_created", object_id=str(spoofed_record.pk)
    )
    assert created.new_values["original_names"] == [
        {"name": "Scan gpj.exe", "original": "Scan \\u202egpj.exe"}
    ]
    assert_accessible(page, "records page after removing a refused record, 390 px")
    assert_no_csp_violations(page)


def test_records_being_checked_refresh_themselves(page, live_server, patient_case):
    from tests.records.factories import RecordFactory

    patient, case = patient_case
    waiting = RecordFactory(case=case, state="scanning", title="MRI report")
    asked = []
    page.on(
        "request", lambda request: asked.append(request.url) if "/state/" in request.url else None
    )
    _open_records(page, patient, case)
    row = page.locator(".record-row").filter(has_text="MRI report")
    expect(row).to_contain_text("Being checked")
    Record.objects.filter(pk=waiting.pk).update(state="verified")
    # No reload: the row changes, and the change is heard.
    expect(row).to_contain_text("Checked and ready", timeout=30_000)
    expect(page.locator("[data-records-live]")).to_contain_text("MRI report: checked and ready.")
    # Everything is checked: the page stops asking (it schedules no further poll
    # once the status region says it is no longer checking).
    expect(page.locator("[data-records-status]")).to_have_attribute("data-checking", "false")
    assert len(asked) >= 1
    assert_no_csp_violations(page)


def test_a_name_made_only_of_hidden_characters_asks_for_a_title(
    page, live_server, patient_case, tmp_path
):
    patient, case = patient_case
    hidden = tmp_path / "\u202e\u2066\u200b"
    hidden.write_bytes(_pdf())
    _open_records(page, patient, case)
    page.locator("[data-pick-files]").set_input_files(hidden)
    item = _item(page, "Unnamed file")
    expect(item.get_by_label("Title")).to_have_value("")
    item.get_by_label(KIND).select_option("other")
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.locator("[data-uploader-errors]")).to_contain_text("Unnamed file: Enter a title")
    assert Record.objects.count() == 0
