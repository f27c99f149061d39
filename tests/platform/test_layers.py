"""The layering in DESIGN.md: the platform (identity, audit, notifications and
shared helpers) imports no domain app; requests_app imports neither records nor
specialists' services; only the demo data may import everything, and nothing
imports it."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = ("requests_app", "records", "specialists", "demo")


def _imports_file(path: Path):
    """(path, module) for every absolute import in one file."""
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield path, node.module
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield path, alias.name


def _imports(folder: Path):
    for path in folder.rglob("*.py"):
        if "migrations" not in path.parts:
            yield from _imports_file(path)


@pytest.mark.parametrize(
    "package", ["secondop/accounts", "secondop/audit", "secondop/notifications"]
)
def test_the_platform_imports_no_domain_app(package):
    found = [
        f"{path.relative_to(ROOT)}: {module}"
        for path, module in _imports(ROOT / package)
        if module.startswith(DOMAIN)
    ]
    assert found == []


def test_the_platforms_loose_modules_import_no_domain_app():
    found = [
        f"{path.name}: {module}"
        for path in (ROOT / "secondop").glob("*.py")
        for _p, module in _imports_file(path)
        if module.startswith(DOMAIN)
    ]
    assert found == []


def test_requests_app_calls_no_service_of_the_apps_above_it():
    """It may name their models and read through their selectors (their one visibility
    rule: messages attach records, the report ticks them), never call their services
    or other code. Storage and file names are the platform's (secondop.storage,
    secondop.filenames)."""
    found = [
        f"{path.relative_to(ROOT)}: {module}"
        for path, module in _imports(ROOT / "requests_app")
        if module.startswith(("records", "specialists"))
        and not module.endswith((".models", ".selectors"))
    ]
    assert found == []


def _imports_demo(module: str) -> bool:
    return module == "demo" or module.startswith("demo.")


def test_no_app_imports_the_demo_data():
    """demo sits above every app: it imports them all, and no app imports it (only
    its own modules, the tests and the benchmarks may)."""
    apps = [
        path
        for path in ROOT.iterdir()
        if (path / "__init__.py").exists() and path.name not in ("demo", "tests", "bench")
    ]
    assert {"secondop", "requests_app", "records", "specialists"} <= {p.name for p in apps}
    found = [
        f"{path.relative_to(ROOT)}: {module}"
        for app in apps
        for path, module in _imports(app)
        if _imports_demo(module)
    ]
    assert found == []
