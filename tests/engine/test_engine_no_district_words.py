"""Everything district-specific is data in seed/: no Python string in engine/ or pages/ is
Chinese text or names a field of the compound file (their defaults live in the pack)."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u4e00-\u9fff]")
# Language, not district: spreadsheet cells read 是/否 as yes/no (engine/records/forms_cells.py).
ALLOWED_CJK = {"是", "有", "√", "否", "无", "×", "Write 是 or 否."}
# Field names that are also names of the engine's own concepts, where they appear.
ALLOWED_NAMES = {
    ("engine/demo/demo.py", "address"),  # a free-text item answer the demo fills with a location
    ("engine/residents/contacts.py", "address"),  # a part of a contact card entry (its place)
    ("engine/definitions/checks_residents.py", "address"),  # the same part, checked in a pack
    ("engine/residents/open311.py", "address"),  # a field of an Open311 request (GeoReport v2)
    ("engine/records/imports.py", "households"),  # the household import
    ("pages/imports.py", "households"),
}


def _strings(path: Path) -> list[str]:
    tree = ast.parse(path.read_text("utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def _python() -> list[Path]:
    return sorted(p for folder in ("engine", "pages") for p in (ROOT / folder).rglob("*.py"))


def test_no_chinese_string_in_engine_or_pages():
    found = [
        (str(p.relative_to(ROOT)), s)
        for p in _python()
        for s in _strings(p)
        if CJK.search(s) and s not in ALLOWED_CJK
    ]
    assert found == []


def test_no_compound_file_field_name_in_engine_or_pages():
    schema = json.loads(
        (ROOT / "seed" / "gongshu" / "profiles" / "compound.json").read_text("utf-8")
    )
    fields = (
        set(schema["schema"]["properties"])
        | {f["key"] for f in schema["facts"]}
        | {c["key"] for c in schema["coverage"]}
    )
    found = []
    for path in _python():
        name = str(path.relative_to(ROOT))
        for text in _strings(path):
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", text):
                continue  # prose ("a web address"), not a key or a fact path
            for word in text.split("."):
                if word in fields and (name, word) not in ALLOWED_NAMES:
                    found.append((name, word, text))
    assert found == []


def test_a_list_says_which_statuses_are_done():
    """No 已完成 default in Python: a task list without done_values is refused at its path."""
    from engine.definitions.checks import definition_problems

    body = json.loads(
        (ROOT / "seed" / "gongshu" / "checklists" / "task-list.json").read_text("utf-8")
    )
    assert body["done_values"] and definition_problems(body, roles=(), units=()) == []
    del body["done_values"]
    problems = [f"{p.path}: {p.message}" for p in definition_problems(body, roles=(), units=())]
    assert problems == ["/done_values: This list needs the statuses of a finished row"]


def test_demo_words_come_from_the_pack(app):
    """The demo's building, community and commissioner names and the units' replies are
    the pack's words (demo.json), not Python's."""
    import datetime as dt

    from engine.demo.demo import generate
    from engine.store.models import Assignment, OrgNode, User

    generate(
        ROOT / "seed" / "gongshu", compounds=40, items=40, seed=2, now=dt.datetime(2026, 11, 27, 1)
    )
    demo = json.loads((ROOT / "seed" / "gongshu" / "demo.json").read_text("utf-8"))
    community = (
        OrgNode.select()
        .where(OrgNode.key.startswith("demo-"))
        .where(OrgNode.kind == "community")
        .first()
    )
    assert community.name.endswith("社区") and "街道" not in community.name
    name = User.get(User.username == "demo-c0-zy").name  # a real-looking name from the pools
    assert name[0] in demo["surnames"] and all(c in demo["given"] for c in name[1:])
    compound = OrgNode.get(key="demo-c0")
    assert compound.profile
    assert set(compound.profile) <= set(demo["compound_file"]) | set(demo["compound_contacts"])
    replies = {a.reply for a in Assignment.select().where(Assignment.state == "done")}
    said = {
        r
        for case in demo["cases"].values()
        for r in [*case.get("replies", {}).values(), *case["resolutions"]]
    } | {
        template.format(resolution=r)
        for template in demo["unit_replies"].values()
        for case in demo["cases"].values()
        for r in case["resolutions"]
    }
    assert replies and replies <= said  # every unit's reply is one of its case's
