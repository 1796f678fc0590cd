"""rules/ is pure: nothing of ours, no web or database library, no clock."""

from __future__ import annotations

import ast
from pathlib import Path

RULES = Path(__file__).parents[2] / "rules"
ALLOWED_TOP = {
    "__future__",
    "collections",
    "dataclasses",
    "datetime",
    "fractions",
    "decimal",  # exact shares (rules/ratios.py)
    "functools",
    "json",
    "json_logic",
    "math",
    "re",
    "sys",
    "types",
    "typing",
    "rules",
}
CLOCK = {"now", "today", "utcnow", "time", "monotonic", "perf_counter", "time_ns"}


def _modules() -> list[Path]:
    return sorted(RULES.glob("*.py"))


def test_imports_are_standard_library_or_json_logic() -> None:
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            for name in names:
                assert name.split(".")[0] in ALLOWED_TOP, f"{path.name} imports {name}"


def test_no_clock_reads() -> None:
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute):
                assert node.attr not in CLOCK, f"{path.name}:{node.lineno} reads the clock"


def test_modules_stay_small() -> None:
    for path in _modules():
        assert len(path.read_text(encoding="utf-8").splitlines()) < 400, path.name
