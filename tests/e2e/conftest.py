"""Browser tests: Playwright driving Debian's Chromium against the live server.

Playwright must never download a browser of its own: it launches
/usr/bin/chromium. A missing browser fails the run, it is never a skip."""

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; Django's ORM, used by
# the test itself between browser steps, would otherwise refuse to run.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# A loaded machine (CI, or another job on the same cores) makes every step slower: the
# tests wait for states (a URL, an element, a saved draft), never for fixed times, and
# give each wait room: 60 s for navigation, and as much for every other wait (a click
# waits for the navigation it starts: signing a report renders its PDF before the next
# page), `expect` included.
NAVIGATION_TIMEOUT_MS = 60_000
DEFAULT_TIMEOUT_MS = 60_000
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"Chromium is not installed at {CHROMIUM}: apt-get install -y chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="session", autouse=True)
def _expect_waits_long_enough():
    from playwright.sync_api import expect

    expect.set_options(timeout=DEFAULT_TIMEOUT_MS)


def new_page(browser, base_url: str, **context_options):
    """A page in a context of its own, with the suite's timeouts, collecting console
    errors (for assert_no_csp_violations)."""
    context = browser.new_context(
        base_url=base_url, **{"viewport": {"width": 1280, "height": 900}, **context_options}
    )
    context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.console_errors = errors
    return page


@pytest.fixture
def page(browser, live_server, request):
    page = new_page(browser, live_server.url)
    context = page.context
    yield page
    if getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-failure.png"), full_page=True)
    context.close()


@pytest.fixture(autouse=True)
def _every_audit_row_has_its_source(request):
    """Every audit row the browser's requests (and the tasks they queue) write says
    where it came from: a web row its path and address (secondop.audit.context)."""
    yield
    if "live_server" not in request.fixturenames:
        return
    from secondop.audit.models import AccessLog, AuditEvent

    for model in (AuditEvent, AccessLog):
        rows = model.objects.all()
        assert not rows.filter(source="").exists(), list(rows.filter(source=""))
        web = rows.filter(source="web")
        assert not web.filter(path="").exists(), list(web.filter(path=""))
        assert not web.filter(ip_address__isnull=True).exists()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def assert_no_csp_violations(page) -> None:
    violations = [e for e in page.console_errors if "Content Security Policy" in e]
    assert violations == []
