"""The layering in docs/architecture.md: the platform (identity, audit,
notifications and shared helpers) imports no domain app; the domain's layers import
only down (LAYERS); only the demo data may import everything, and nothing imports it."""

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


# The domain's layers, bottom to top (docs/architecture.md, "Layers"). A module's code
# imports code of its own layer and the layers below, never above. Declarations are
# shared by every layer: an app's models (the schema is one: a foreign key, a form's
# choices) and its notices (the names of its events). The pages and the wiring (views,
# urls, template tags, admin, apps) sit on top of their app and may compose any layer.
LAYERS = [
    ("requests_app.icd10",),  # reference data: codes, synonyms, ranges, the picker
    ("requests_app",),  # the case: access, workflow, sections, fees
    ("records",),  # the case's records
    # getting them: sources, access requests and their clocks; a study's pictures
    ("records.retrieval", "records.imaging"),
    (  # what happens around the case, with its records
        "requests_app.consultations",
        "requests_app.messaging",
        "requests_app.reports",
        "requests_app.aftercare",
        "requests_app.outcomes",
        "requests_app.caregivers",  # the patient's invited helpers and what each may do
    ),
    ("specialists",),  # who reviews it: profiles, credentialing, matching, offers
]
DECLARATIONS = ("models", "notices")
PAGES = ("views", "urls", "templatetags", "admin", "apps", "widgets")


def _layer_of(module: str) -> int | None:
    best = None
    for index, packages in enumerate(LAYERS):
        for package in packages:
            inside = module == package or module.startswith(package + ".")
            if inside and (best is None or len(package) > best[1]):
                best = (index, len(package))
    return best[0] if best else None


def _is_declaration(module: str) -> bool:
    return module.rsplit(".", 1)[-1] in DECLARATIONS


def _is_page(path: Path) -> bool:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return any(part in PAGES or part.endswith(("_views", "_urls")) for part in parts)


def _module_of(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def _resolved_imports(folder: Path):
    """(path, module) for every import in the folder, relative ones made absolute."""
    for path in folder.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        package = _module_of(path).split(".")[:-1]
        if path.name == "__init__.py":
            package = _module_of(path.parent).split(".")
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.ImportFrom):
                base = package[: len(package) - node.level + 1] if node.level else []
                stem = ".".join([*base, node.module] if node.module else base)
                if node.module:
                    yield path, stem
                else:  # from . import x: each name is a module of the package
                    for alias in node.names:
                        yield path, f"{stem}.{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    yield path, alias.name


def test_the_domain_imports_only_down_its_layers():
    found = []
    for app in ("requests_app", "records", "specialists"):
        for path, module in _resolved_imports(ROOT / app):
            if _is_page(path) or _is_declaration(module):
                continue
            mine, theirs = _layer_of(_module_of(path)), _layer_of(module)
            if mine is not None and theirs is not None and theirs > mine:
                found.append(f"{path.relative_to(ROOT)}: {module}")
    assert found == []


def test_the_layers_name_every_domain_package():
    packages = {
        _module_of(path.parent)
        for app in ("requests_app", "records", "specialists")
        for path in (ROOT / app).glob("**/apps.py")
    }
    assert packages == {package for layer in LAYERS for package in layer}


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
