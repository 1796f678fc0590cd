"""docs/coverage.md maps the district's article to the pack: every definition of the pack is
named in some row, and every key a row names exists."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "coverage.md"
PACK = ROOT / "seed" / "gongshu"
COLUMNS = ["原文", "功能", "定义", "页面", "事实", "状态"]
STATUSES = ("已实现", "部分实现", "未实现")
KEY = re.compile(r"`([^`]+)`")


@dataclass(frozen=True)
class Row:
    line: int
    cells: list[str]

    @property
    def keys(self) -> list[str]:
        return KEY.findall(self.cells[2])

    @property
    def status(self) -> str:
        return self.cells[5]


def pack_keys(root: Path = PACK) -> set[str]:
    """The key of every definition file of the pack (each JSON file with a ``kind``)."""
    found = set()
    for path in sorted(root.glob("*/*.json")):
        body = json.loads(path.read_text("utf-8"))
        if isinstance(body, dict) and "kind" in body:
            found.add(body["key"])
    return found


def table(text: str) -> list[Row]:
    """The rows of the coverage table (after its header and separator)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| 原文"))
    header = [c.strip() for c in lines[start].strip().strip("|").split("|")]
    assert header == COLUMNS, header
    rows = []
    for i in range(start + 2, len(lines)):
        line = lines[i]
        if not line.startswith("|"):
            break
        rows.append(Row(i + 1, [c.strip() for c in line.strip().strip("|").split("|")]))
    return rows


def problems(rows: Iterable[Row], keys: set[str]) -> list[str]:
    """What is wrong with the table: malformed rows, unknown keys, pack keys not named."""
    rows = list(rows)
    found = []
    for row in rows:
        if len(row.cells) != len(COLUMNS):
            found.append(f"line {row.line}: {len(row.cells)} cells, not {len(COLUMNS)}")
            continue
        if not row.status.startswith(STATUSES):
            found.append(f"line {row.line}: status {row.status!r} is none of {STATUSES}")
        if not row.cells[0]:
            found.append(f"line {row.line}: no words of the article")
    checked = [r for r in rows if len(r.cells) == len(COLUMNS)]
    for row in checked:
        found += [f"line {row.line}: no definition {k!r}" for k in row.keys if k not in keys]
    named = {k for row in rows if len(row.cells) == len(COLUMNS) for k in row.keys}
    found += [f"definition {k!r} is in no row" for k in sorted(keys - named)]
    return found


def test_every_definition_is_covered_and_every_named_one_exists():
    rows = table(DOC.read_text("utf-8"))
    assert len(rows) > 60
    assert problems(rows, pack_keys()) == []


def test_the_22_rows_of_the_list_each_have_a_row():
    text = DOC.read_text("utf-8")
    for no in range(1, 23):
        assert f"| 清单第{no}行" in text, no


def test_the_checker_catches_a_missing_key_an_unknown_key_and_a_bad_status():
    keys = pack_keys()
    assert {"bell", "tasks-2021", "compound-profile"} <= keys
    rows = table(DOC.read_text("utf-8"))
    without_bell = [
        Row(r.line, [c.replace("`bell`", "") if i == 2 else c for i, c in enumerate(r.cells)])
        for r in rows
    ]
    assert "definition 'bell' is in no row" in problems(without_bell, keys)
    made_up = Row(1, ["“x”", "f", "`no-such-kind`", "/", "—", "已实现"])
    assert "line 1: no definition 'no-such-kind'" in problems([*rows, made_up], keys)
    planned = Row(2, ["“x”", "f", "`no-such-kind`", "/", "—", "进行中(另一项工作)"])
    assert "line 2: no definition 'no-such-kind'" in problems([*rows, planned], keys)
    wrong = Row(3, ["“x”", "f", "`bell`", "/", "—", "done"])
    assert problems([*rows, wrong], keys) == [f"line 3: status 'done' is none of {STATUSES}"]


def test_every_fact_named_is_documented():
    documented = re.findall(
        r"^\| `([a-z0-9_<>.]+)`", (ROOT / "docs/facts.md").read_text("utf-8"), re.MULTILINE
    )
    patterns = [
        re.compile("^" + re.sub(r"<[a-z]+>", "[a-z0-9_<>-]+", re.escape(f)) + "$")
        for f in documented
    ]
    named = {f for row in table(DOC.read_text("utf-8")) for f in KEY.findall(row.cells[4])}
    assert named and [f for f in sorted(named) if not any(p.match(f) for p in patterns)] == []
