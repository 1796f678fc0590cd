"""engine/ is arranged by capability, in layers: a package imports only packages of lower
layers (never one of its own layer, never a higher one), so no two packages depend on each
other, however deep inside a function the import is."""

from __future__ import annotations

import ast
from pathlib import Path

ENGINE = Path(__file__).parents[2] / "engine"

# Lowest first; packages on one line are independent of each other.
LAYERS = [
    {"core"},
    {"store"},
    {"org"},
    {"definitions"},
    {"trail"},
    {"accounts", "delivery"},
    {"records"},
    {"workflow"},
    {"decisions", "residents"},
    {"supervision", "metrics", "authoring"},
    {"demo"},
]
LAYER_OF = {package: n for n, layer in enumerate(LAYERS) for package in layer}
FORBIDDEN_TOP = {"flask", "flask_htmx", "flask_wtf", "wtforms", "pages", "jinja2"}


def _imports(path: Path) -> list[tuple[int, str]]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out += [(node.lineno, node.module)]
            if node.module == "engine":
                out += [(node.lineno, f"engine.{a.name}") for a in node.names]
        elif isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
    return out


def _packages() -> list[Path]:
    return sorted(p for p in ENGINE.iterdir() if p.is_dir() and (p / "__init__.py").exists())


def test_every_module_lives_in_a_package_of_the_layer_list() -> None:
    flat = sorted(p.name for p in ENGINE.glob("*.py") if p.name != "__init__.py")
    assert flat == [], f"modules outside a package: {flat}"
    assert {p.name for p in _packages()} == set(LAYER_OF)


def _violations(package: Path) -> list[str]:
    """Imports in ``package`` of a package of its own or a higher layer, or of the web."""
    wrong = []
    for path in package.rglob("*.py"):
        for line, module in _imports(path):
            parts = module.split(".")
            if parts[0] in FORBIDDEN_TOP:
                wrong.append(f"{path.name}:{line} imports {module}")
            if parts[0] != "engine" or len(parts) < 2 or parts[1] == package.name:
                continue
            other = parts[1]
            if other not in LAYER_OF or LAYER_OF[other] >= LAYER_OF[package.name]:
                wrong.append(f"{path.name}:{line} imports {module}")
    return wrong


def test_packages_import_only_lower_layers() -> None:
    assert [w for package in _packages() for w in _violations(package)] == []


def test_the_contract_catches_an_upward_import_inside_a_function(tmp_path: Path) -> None:
    """The check is not vacuous: a lower package importing a higher one, even deep inside a
    function, and engine code importing Flask, are both caught."""
    package = tmp_path / "definitions"
    package.mkdir()
    (package / "bad.py").write_text(
        "def f():\n    from engine.workflow import items\n    import flask\n", "utf-8"
    )
    assert _violations(package) == [
        "bad.py:2 imports engine.workflow",
        "bad.py:3 imports flask",
    ]


# What only engine/store/backends.py may say: which database it is, or its own SQL.
BACKEND_WORDS = (
    "is_postgres",
    "PostgresqlDatabase",
    "GLOB",
    "julianday",
    "percentile_cont",
    "pg_get_serial_sequence",
    "EXTRACT(EPOCH",
    "execute_values",
    "LOCK TABLE",
)


def test_backend_differences_live_behind_one_interface() -> None:
    allowed = {ENGINE / "store" / "backends.py", ENGINE / "store" / "db.py"}
    found = [
        f"{path.relative_to(ENGINE.parent)} says {word}"
        for folder in ("engine", "pages")
        for path in sorted((ENGINE.parent / folder).rglob("*.py"))
        if path not in allowed
        for word in BACKEND_WORDS
        if word in path.read_text(encoding="utf-8")
    ]
    assert found == []
