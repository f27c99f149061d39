"""A SMART Health Link pasted in by a patient: SecondOp's own issuer served by the
live server (with and without passcode), and every refusal (plain HTTP, a private
address, a redirect elsewhere, a wrong passcode, an expired or withdrawn link, a
huge manifest, a file that does not decrypt, too many files, no SHL at all), each
with nothing stored and the passcode in no audit row or log line."""

import hashlib
import http.server
import json
import logging
import socket
import threading
import time
from unittest import mock

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from records import services
from records.models import Record, RecordFile
from requests_app.aftercare import services as aftercare_services
from secondop import shlink
from secondop.audit.models import AuditEvent
from tests.accounts.factories import UserFactory
from tests.aftercare.factories import PDF, delivered_case
from tests.records import samples
from tests.requests_app.factories import CaseFactory

PASSCODE = "otter-creek-58"


@pytest.fixture
def case_b(db):
    owner = UserFactory(role="patient", email="bea@example.com", full_name="Bea Brown")
    return CaseFactory(owner=owner, submitted=True)


REAL_PDF = samples.pdf()


def released_with_a_real_pdf(case):
    """The released report's PDF as a PDF verification opens (the factory's is a stub)."""
    version = case.report.versions.get()
    default_storage.delete(version.pdf_key)
    default_storage.save(version.pdf_key, ContentFile(REAL_PDF))
    version.pdf_sha256, version.pdf_size = hashlib.sha256(REAL_PDF).hexdigest(), len(REAL_PDF)
    version.save(update_fields=["pdf_sha256", "pdf_size"])


def _issue(live_server, settings, passcode=""):
    """A physician share of case A made through the services, as a SMART Health Link."""
    settings.SITE_URL = live_server.url
    owner = UserFactory(role="patient", email="ann@example.com", full_name="Ann Able")
    case_a = delivered_case(owner=owner, specialist=UserFactory(role="specialist"))
    released_with_a_real_pdf(case_a)
    shared = aftercare_services.share_create_with_smart_link(
        actor=owner,
        case_ref=case_a.uuid,
        email="dr.lee@clinic.example",
        consented=True,
        passcode=passcode,
    )
    return shared


def _pull(case, link, passcode=""):
    return services.records_from_smart_link(
        actor=case.owner, case_ref=case.uuid, link=link, passcode=passcode, category="records"
    )


def _refused(case, link, passcode="", *, field="link"):
    with pytest.raises(services.RecordError) as caught:
        _pull(case, link, passcode)
    assert field in caught.value.errors
    assert not Record.objects.filter(case=case).exists()
    return caught.value.message


# --- The real issuer: SecondOp's own, on the live server ----------------------------------
@pytest.mark.django_db(transaction=True)
def test_it_reads_secondops_link_with_its_passcode(live_server, settings, case_b, caplog):
    settings.SMART_LINK_FETCH_ALLOW_LOOPBACK_HTTP = True
    shared = _issue(live_server, settings, passcode=PASSCODE)
    caplog.set_level(logging.DEBUG)
    result = _pull(case_b, shared.link, PASSCODE)
    assert len(result.records) == 2 and result.left_out == 0
    files = {f.name.rsplit(".", 1)[1]: f for f in RecordFile.objects.filter(record__case=case_b)}
    assert set(files) == {"json", "pdf"}
    with default_storage.open(files["pdf"].key, "rb") as handle:
        assert handle.read() == REAL_PDF
    with default_storage.open(files["json"].key, "rb") as handle:
        assert json.loads(handle.read())["resourceType"] == "Bundle"
    for record in Record.objects.filter(case=case_b):
        assert record.uploaded_by == case_b.owner
        assert record.title.startswith(shlink.LABEL)
        assert record.state == "verified"  # verification ran on commit (eager in tests)
    fhir_record = Record.objects.get(case=case_b, mime="application/fhir+json")
    assert fhir_record.health  # verification read the Bundle and summarised it
    rows = AuditEvent.objects.filter(action="records.record.received")
    assert rows.count() == 2
    everything = json.dumps(
        list(AuditEvent.objects.values("old_values", "new_values")), default=str
    )
    assert PASSCODE not in everything and PASSCODE not in caplog.text


@pytest.mark.django_db(transaction=True)
def test_it_reads_a_link_without_passcode_and_the_viewer_form(live_server, settings, case_b):
    settings.SMART_LINK_FETCH_ALLOW_LOOPBACK_HTTP = True
    shared = _issue(live_server, settings)
    result = _pull(case_b, f"https://viewer.example/#{shared.link}")
    assert len(result.records) == 2


@pytest.mark.django_db(transaction=True)
def test_a_wrong_passcode_is_the_issuers_401(live_server, settings, case_b):
    settings.SMART_LINK_FETCH_ALLOW_LOOPBACK_HTTP = True
    shared = _issue(live_server, settings, passcode=PASSCODE)
    message = _refused(case_b, shared.link, "not-the-one", field="passcode")
    assert "passcode is not right" in message and "Tries left" in message
    assert "protected by a passcode" in _refused(case_b, shared.link, "", field="passcode")


@pytest.mark.django_db(transaction=True)
def test_a_withdrawn_link_is_the_issuers_404(live_server, settings, case_b):
    settings.SMART_LINK_FETCH_ALLOW_LOOPBACK_HTTP = True
    shared = _issue(live_server, settings)
    aftercare_services.share_revoke(actor=shared.share.created_by, share_ref=shared.share.uuid)
    assert "expired or was withdrawn" in _refused(case_b, shared.link)


# --- Refusals before any network ------------------------------------------------------------
def _link(url, *, key=None, passcode=False):
    return shlink.link(url=url, key=key or shlink.new_key(), expires_at=None, passcode=passcode)


def test_what_is_not_an_shl_is_said(case_b):
    assert "not a SMART Health Link" in _refused(case_b, "https://example.com/records")
    assert "not a SMART Health Link" in _refused(case_b, "shlink:/bm90IGpzb24")


def test_an_expired_payload_is_refused_before_fetching(case_b):
    body = {
        "url": "https://issuer.example/m",
        "key": shlink.new_key(),
        "exp": int(time.time()) - 60,
    }
    link = shlink.PREFIX + shlink.b64url(json.dumps(body).encode())
    with mock.patch("socket.getaddrinfo") as resolve:
        assert "expired" in _refused(case_b, link)
    resolve.assert_not_called()


def test_plain_http_is_refused(case_b, settings):
    settings.SMART_LINK_FETCH_ALLOW_LOOPBACK_HTTP = False
    assert "unencrypted" in _refused(case_b, _link("http://issuer.example/manifest"))
    # Not even to this machine while the tests' switch is off.
    assert "unencrypted" in _refused(case_b, _link("http://127.0.0.1:9/manifest"))


@pytest.mark.parametrize(
    "address", ["10.1.2.3", "127.0.0.1", "169.254.169.254", "192.168.0.4", "100.64.0.1", "::1"]
)
def test_a_private_address_is_refused(case_b, address):
    host = f"[{address}]" if ":" in address else address
    assert "private network address" in _refused(case_b, _link(f"https://{host}/manifest"))


def test_a_name_with_any_private_address_is_refused(case_b):
    answers = [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 443)),
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", 443)),
    ]
    with (
        mock.patch("socket.getaddrinfo", return_value=answers),
        mock.patch("socket.create_connection") as connect,
    ):
        assert "private network address" in _refused(
            case_b, _link("https://records.issuer.example/manifest")
        )
    connect.assert_not_called()


# --- Refusals from a small local server -----------------------------------------------------
class _Issuer(http.server.BaseHTTPRequestHandler):
    routes: dict = {}

    def _answer(self):
        status, headers, body = self.routes.get(self.path, (404, {}, b"{}"))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self._answer()

    do_GET = _answer

    def log_message(self, *args):
        pass


@pytest.fixture
def issuer(settings):
    settings.SMART_LINK_FETCH_ALLOW_LOOPBACK_HTTP = True
    routes: dict = {}
    handler = type("Handler", (_Issuer,), {"routes": routes})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.routes = routes
    server.base = f"http://127.0.0.1:{server.server_address[1]}"
    yield server
    server.shutdown()
    server.server_close()


def _manifest(files):
    return (200, {"Content-Type": "application/json"}, json.dumps({"files": files}).encode())


def test_a_redirect_to_another_host_is_not_followed(case_b, issuer):
    elsewhere = f"http://localhost:{issuer.server_address[1]}/m"
    issuer.routes["/m"] = (307, {"Location": elsewhere}, b"")
    assert "another address" in _refused(case_b, _link(f"{issuer.base}/m"))


def test_a_huge_manifest_is_refused(case_b, issuer, settings):
    settings.SMART_LINK_MANIFEST_MAX_BYTES = 10_000
    issuer.routes["/m"] = (200, {}, b" " * 20_000)
    assert "too large" in _refused(case_b, _link(f"{issuer.base}/m"))


def test_too_many_files_are_refused(case_b, issuer, settings):
    settings.SMART_LINK_MAX_FILES = 2
    key = shlink.new_key()
    one = {
        "contentType": "application/pdf",
        "embedded": shlink.encrypt(PDF, key=key, content_type="application/pdf"),
    }
    issuer.routes["/m"] = _manifest([one, one, one])
    assert "at most 2" in _refused(case_b, _link(f"{issuer.base}/m", key=key))


def test_a_file_that_does_not_decrypt_keeps_nothing(case_b, issuer):
    key = shlink.new_key()
    good = shlink.encrypt(PDF, key=key, content_type="application/pdf")
    bad = shlink.encrypt(PDF, key=shlink.new_key(), content_type="application/pdf")
    issuer.routes["/m"] = _manifest(
        [{"contentType": "application/pdf", "embedded": e} for e in (good, bad)]
    )
    with mock.patch("secondop.storage.save_bytes") as saved:
        assert "could not be unlocked" in _refused(case_b, _link(f"{issuer.base}/m", key=key))
    saved.assert_not_called()


def test_a_file_by_location_is_fetched_with_get(case_b, issuer):
    key = shlink.new_key()
    issuer.routes["/m"] = _manifest(
        [{"contentType": "application/pdf", "location": f"{issuer.base}/files/1"}]
    )
    issuer.routes["/files/1"] = (
        200,
        {},
        shlink.encrypt(PDF, key=key, content_type="application/pdf").encode(),
    )
    result = _pull(case_b, _link(f"{issuer.base}/m", key=key))
    (record,) = result.records
    with default_storage.open(record.files.get().key, "rb") as handle:
        assert handle.read() == PDF


def test_a_slow_issuer_meets_the_deadline(case_b, issuer, settings):
    settings.SMART_LINK_FETCH_TIMEOUT = 0.5
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # accepts, never answers
        port = silent.getsockname()[1]
        started = time.monotonic()
        assert "too long" in _refused(case_b, _link(f"http://127.0.0.1:{port}/m"))
    assert time.monotonic() - started < 3


# --- The page -------------------------------------------------------------------------------
def test_the_page_keeps_the_link_not_the_passcode(client, case_b):
    client.force_login(case_b.owner)
    url = reverse("records:smart_link", args=[case_b.uuid])
    assert client.get(url).status_code == 200
    response = client.post(
        url, {"link": "not a link at all", "passcode": "secret-pass-1", "category": "records"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "not a link at all" in page and "not a SMART Health Link" in page
    assert "secret-pass-1" not in page


def test_someone_elses_case_is_a_404(client, case_b, outsider):
    client.force_login(outsider)
    url = reverse("records:smart_link", args=[case_b.uuid])
    assert client.get(url).status_code == 404
    assert client.post(url, {"link": "shlink:/x", "category": "records"}).status_code == 404


def test_the_records_page_offers_it_to_the_owner(client, case_b):
    client.force_login(case_b.owner)
    page = client.get(reverse("records:case_records", args=[case_b.uuid])).content.decode()
    assert reverse("records:smart_link", args=[case_b.uuid]) in page


# --- A picture of the link's QR code ------------------------------------------------------
def _qr_picture(text: str, *, kind: str = "png", scale: int = 8, canvas: int = 0) -> bytes:
    """A QR code as a screenshot (PNG) or as a photo (a JPEG, the code small on a large
    grey page, as a phone takes it)."""
    import io

    import segno
    from PIL import Image

    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="png", scale=scale, border=4)
    if not canvas and kind == "png":
        return out.getvalue()
    code = Image.open(io.BytesIO(out.getvalue())).convert("RGB")
    page = Image.new("RGB", (canvas or code.width, canvas or code.height), (200, 200, 200))
    page.paste(code, ((page.width - code.width) // 2, (page.height - code.height) // 2))
    photo = io.BytesIO()
    page.save(photo, format="JPEG", quality=85)
    return photo.getvalue()


def _read_picture(data: bytes) -> str:
    import io

    from records import smart_links

    return smart_links.link_from_picture(io.BytesIO(data), size=len(data))


def _picture_refused(data: bytes) -> str:
    from records import smart_links

    with pytest.raises(smart_links.SmartLinkUnreadable) as caught:
        _read_picture(data)
    assert caught.value.field == "picture"
    return caught.value.message


LINK = "shlink:/eyJ1cmwiOiJodHRwczovL2lzc3Vlci5leGFtcGxlL20iLCJrZXkiOiJhYmMifQ"


def test_the_link_is_read_from_a_screenshot_and_from_a_large_photo():
    assert _read_picture(_qr_picture(LINK)) == LINK
    # A 4,000-pixel photo is reduced before the code is looked for; it is still found.
    assert _read_picture(_qr_picture(LINK, kind="jpeg", scale=12, canvas=4000)) == LINK
    assert _read_picture(_qr_picture(f"https://viewer.example/#{LINK}")).endswith(LINK)


def test_a_picture_without_a_link_says_why():
    import io

    from PIL import Image

    blank = io.BytesIO()
    Image.new("RGB", (600, 400), (255, 255, 255)).save(blank, format="PNG")
    assert "could not find a QR code" in _picture_refused(blank.getvalue())
    assert "not a SMART Health Link" in _picture_refused(_qr_picture("https://example.com/"))
    assert "not a picture we can read" in _picture_refused(REAL_PDF)
    huge = b"\x89PNG" + bytes(16 * 1024 * 1024)
    assert "too large" in _picture_refused(huge)


def test_a_picture_of_too_many_pixels_is_refused_before_decoding():
    import io

    from PIL import Image

    # A PNG that declares 9,000 by 9,000 pixels but is tiny on disk (one colour).
    out = io.BytesIO()
    Image.new("1", (9_000, 9_000), 1).save(out, format="PNG")
    assert len(out.getvalue()) < 1024 * 1024
    assert "too large to read" in _picture_refused(out.getvalue())


@pytest.mark.django_db(transaction=True)
def test_the_page_reads_a_picture_of_the_code_and_keeps_nothing_of_it(
    client, live_server, settings, case_b
):
    settings.SMART_LINK_FETCH_ALLOW_LOOPBACK_HTTP = True
    shared = _issue(live_server, settings, passcode=PASSCODE)
    client.force_login(case_b.owner)
    url = reverse("records:smart_link", args=[case_b.uuid])
    picture = ContentFile(_qr_picture(shared.link), name="IMG_2041.png")
    response = client.post(
        url, {"link": "", "picture": picture, "passcode": PASSCODE, "category": "records"}
    )
    assert response.status_code == 302
    assert Record.objects.filter(case=case_b).count() == 2
    assert not RecordFile.objects.filter(name__icontains="IMG_2041").exists()


def test_the_page_asks_for_the_link_or_a_picture(client, case_b):
    client.force_login(case_b.owner)
    url = reverse("records:smart_link", args=[case_b.uuid])
    response = client.post(url, {"link": "", "passcode": "", "category": "records"})
    assert response.status_code == 400
    assert "Paste the link you were given, or choose a picture of its QR code." in (
        response.content.decode()
    )
    blank = ContentFile(REAL_PDF, name="scan.pdf")
    response = client.post(url, {"picture": blank, "category": "records"})
    assert response.status_code == 400
    assert "not a picture we can read" in response.content.decode()
    assert not Record.objects.filter(case=case_b).exists()
