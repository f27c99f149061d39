"""axe-core (bundled by axe-playwright-python) run inside Chromium."""

from axe_playwright_python.sync_playwright import Axe

_axe = Axe()
BLOCKING = {"serious", "critical"}


def assert_accessible(page, label: str = "") -> None:
    results = _axe.run(page)
    violations = [v for v in results.response["violations"] if v.get("impact") in BLOCKING]
    details = [
        f"{v['id']} ({v['impact']}): {v['help']} -> {[n['target'] for n in v['nodes']][:3]}"
        for v in violations
    ]
    assert not violations, f"{label or page.url}: " + "; ".join(details)
