"""The browser tests wait for states, never for fixed times, and give every wait room
enough for a loaded machine (tests/e2e/conftest.py): a guard over their source."""

import ast
from pathlib import Path

from tests.e2e import conftest

E2E = Path(__file__).resolve().parent


def _calls(name: str) -> list[str]:
    """Where the tests (not conftest.py, which sets the suite's timeouts) call `name`."""
    found = []
    for path in sorted(set(E2E.glob("*.py")) - {E2E / "conftest.py"}):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == name:
                found.append(f"{path.name}:{node.lineno}")
    return found


def test_no_browser_test_sleeps_for_a_fixed_time():
    assert _calls("wait_for_timeout") == []
    assert _calls("sleep") == []


def test_no_browser_test_shortens_the_suites_timeouts():
    assert _calls("set_default_timeout") == []
    assert conftest.NAVIGATION_TIMEOUT_MS >= 60_000
    assert conftest.DEFAULT_TIMEOUT_MS >= 30_000
