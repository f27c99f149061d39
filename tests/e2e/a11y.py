"""axe-core (bundled by axe-playwright-python) run inside Chromium, at the page's
own width and on a 320 px phone, where no page may scroll sideways (WCAG 1.4.10)."""

from axe_playwright_python.sync_playwright import Axe

_axe = Axe()
BLOCKING = {"serious", "critical"}
PHONE_WIDTH = 320


def _axe_violations(page, label: str) -> list[str]:
    results = _axe.run(page)
    violations = [v for v in results.response["violations"] if v.get("impact") in BLOCKING]
    return [
        f"{label}: {v['id']} ({v['impact']}): {v['help']} -> "
        f"{[n['target'] for n in v['nodes']][:3]}"
        for v in violations
    ]


def sideways_overflow(page) -> list[str]:
    """What sticks out past the right edge, if the page scrolls sideways."""
    return page.evaluate("""() => {
        const root = document.documentElement;
        if (root.scrollWidth <= window.innerWidth) return [];
        const wide = [];
        for (const el of document.body.querySelectorAll("*")) {
            const box = el.getBoundingClientRect();
            if (box.right > window.innerWidth + 1 && el.offsetParent !== null
                && !el.closest(".table-wrapper, pre")) {
                wide.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
                          + (el.className && typeof el.className === "string"
                             ? "." + el.className.trim().split(/\\s+/).join(".") : ""));
            }
        }
        return [`scrollWidth ${root.scrollWidth} > ${window.innerWidth}`, ...wide.slice(0, 5)];
    }""")


def assert_accessible(page, label: str = "", *, phone: bool = True) -> None:
    """axe at the page's width, then at 320 px: axe again, and no sideways scroll.
    `phone=False` only where the same page is checked at 320 px elsewhere and a
    resize is too slow to bear (a 2 MB paste re-wrapped)."""
    label = label or page.url
    problems = _axe_violations(page, label)
    size = page.viewport_size
    if phone and size and size["width"] > PHONE_WIDTH:
        page.set_viewport_size({"width": PHONE_WIDTH, "height": size["height"]})
        try:
            overflow = sideways_overflow(page)
            if overflow:
                problems.append(f"{label} at {PHONE_WIDTH} px scrolls sideways: {overflow}")
            problems += _axe_violations(page, f"{label} at {PHONE_WIDTH} px")
        finally:
            page.set_viewport_size(size)
    assert not problems, "; ".join(problems)
