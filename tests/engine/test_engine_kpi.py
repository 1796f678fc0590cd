"""The 22-row KPI list: every measurable row at, above and below its goal; statuses; checks."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import pytest

from engine.definitions.checks import definition_problems
from engine.metrics import facts
from engine.records import kpi

LIST = json.loads(
    (Path(__file__).resolve().parents[2] / "seed/gongshu/checklists/tasks-2021.json").read_text(
        "utf-8"
    )
)
MEASURED = [row for row in LIST["rows"] if "measure" in row]
BEFORE = dt.datetime(2021, 9, 1)  # before every deadline
AFTER = dt.datetime(2026, 11, 27)  # after all of them


def _doc(path: str, value: float) -> dict:
    doc: dict = {}
    *parents, leaf = path.split(".")
    at = doc
    for part in parents:
        at = at.setdefault(part, {})
    at[leaf] = value
    return doc


def test_the_list_has_22_rows_and_the_measurable_ones():
    assert [r["no"] for r in LIST["rows"]] == list(range(1, 23))
    assert [r["no"] for r in MEASURED] == [1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14]
    named = {u for r in LIST["rows"] for u in r["lead"]} | {
        s["unit"] for r in LIST["rows"] for s in r["responsible_units"] if "unit" in s
    }
    assert definition_problems(LIST, roles=set(), units=named) == []
    assert all(r["responsible_units"] for r in LIST["rows"])  # every row says who reports


@pytest.mark.parametrize("row", MEASURED, ids=lambda r: r["key"])
def test_each_row_at_above_and_below_its_goal(row):
    path, goal = row["measure"]["var"], row["goal"]
    better = 5 if goal["op"].startswith(">") else -5
    at = kpi.measure_row(row, _doc(path, goal["value"]), now=BEFORE)
    above = kpi.measure_row(row, _doc(path, goal["value"] + better), now=BEFORE)
    below = kpi.measure_row(row, _doc(path, goal["value"] - better), now=BEFORE)
    late = kpi.measure_row(row, _doc(path, goal["value"] - better), now=AFTER)
    assert (at.status, above.status, below.status, late.status) == (
        "met",
        "met",
        "unmet",
        "overdue",
    )
    assert at.value == goal["value"]
    assert kpi.measure_row(row, {}, now=BEFORE).status == "no_data"


def test_unmeasurable_rows_are_reported_by_the_responsible_unit():
    row = next(r for r in LIST["rows"] if r["no"] == 2)
    assert kpi.measure_row(row, {"anything": 1}, now=AFTER).status == "reported"


def test_street_values_from_real_facts(little):
    facts.refresh(now=AFTER)
    doc, _ = facts.cached(little["street"])
    statuses = {s.row["no"]: s for s in kpi.measure_list(LIST, doc, now=AFTER)}
    assert statuses[5].value == 50.0 and statuses[5].status == "overdue"  # 1 of 2 compounds
    assert statuses[7].value == 95.0 and statuses[7].status == "met"  # 19 of 20 reported
    assert statuses[10].value == -50.0 and statuses[10].status == "met"  # petitions halved
    assert statuses[12].value == 0.0 and statuses[12].status == "overdue"  # no meeting held
    counts = kpi.progress(list(statuses.values()))
    # Rows 1 and 3 (街道联席会议, 社区三方办) read the meetings' on-time facts (issue 14).
    assert statuses[1].status == "overdue" and statuses[1].value == 0.0  # none held
    assert counts["measurable"] == 12 and counts["reported"] == 10


def test_checklist_mistakes_point_at_their_path():
    body = copy.deepcopy(LIST)
    body["rows"][3]["lead"] = ["nowhere"]
    del body["rows"][4]["goal"]
    paths = [
        p.path for p in definition_problems(body, roles=set(), units={"sanfangban", "dept-zzb"})
    ]
    assert "/rows/3/lead/0" in paths and "/rows/4" in paths
