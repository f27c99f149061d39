"""Issue 18's rules for the plumbing, read from the code: one access module, the
audit's source in a context (no `request=` on a service), services that never
import their tasks (no services <-> tasks circle)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ("requests_app", "records", "specialists", "secondop", "demo")


def _modules(kind: str):
    """Every `<kind>.py` module, or package of that name, in the apps."""
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            if path.stem == kind or kind in path.relative_to(ROOT).parts[:-1]:
                yield path


def _app_code():
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" not in path.parts:
                yield path


@pytest.mark.parametrize("kind", ["services", "selectors"])
def test_no_service_or_selector_takes_the_request(kind):
    found = []
    for path in _modules(kind):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                args = node.args
                names = [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs]
                if "request" in names:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}")
    assert found == []


def test_no_service_imports_a_tasks_module():
    """Tasks import services; services queue tasks by name (secondop.queueing)."""
    found = []
    for path in _modules("services"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                module = node.module or ""
                names = [alias.name for alias in node.names]
                if module.endswith("tasks") or module == "tasks" or "tasks" in names:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {module}")
            elif isinstance(node, ast.Import):
                found += [
                    f"{path.relative_to(ROOT)}:{node.lineno} {alias.name}"
                    for alias in node.names
                    if alias.name.endswith(".tasks")
                ]
    assert found == []


def _raises_404(handler: ast.ExceptHandler) -> bool:
    for node in ast.walk(handler):
        if isinstance(node, ast.Raise) and node.exc is not None:
            target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(target, ast.Name) and target.id == "Http404":
                return True
    return False


def test_only_the_access_module_turns_a_missing_row_into_a_404():
    found = []
    for path in _app_code():
        if path == ROOT / "requests_app" / "access.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.ExceptHandler)
                and "DoesNotExist" in ast.unparse(node.type or ast.Name("x"))
                and _raises_404(node)
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == []
