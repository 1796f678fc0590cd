"""The 22-row KPI list: every measurable row at, above and below its goal; statuses; checks."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import pytest

import rules
from engine.definitions.checks import definition_problems
from engine.definitions.definitions import current_version
from engine.metrics import facts
from engine.records import kpi
from engine.store.resident_tables import DirectoryEntry
from tests.engine.conftest import make_item

LIST = json.loads(
    (Path(__file__).resolve().parents[2] / "seed/gongshu/checklists/tasks-2021.json").read_text(
        "utf-8"
    )
)
MEASURED = [row for row in LIST["rows"] if kpi.measurable(row)]
# one row per measured target: a row with several targets is tested on each alone
TARGETS = [
    {**{k: v for k, v in row.items() if k != "measures"}, **spec, "key": f"{row['key']}-{i}"}
    for row in MEASURED
    for i, spec in enumerate(kpi.targets(row))
]
BEFORE = dt.datetime(2021, 9, 1)  # before every deadline
AFTER = dt.datetime(2026, 11, 27)  # after all of them, and after the list's period
PERIOD = kpi.period_of(LIST)


def _doc(measure: dict, value: float) -> dict:
    """A facts document where the measure reads ``value``: its first fact holds it, any other
    fact it adds (row 18: two kinds of projects) holds 0."""
    doc: dict = {}
    first, *others = rules.vars_used(measure) if "var" not in measure else [measure["var"]]
    for path, number in [(first, value)] + [(o, 0) for o in others]:
        *parents, leaf = path.split(".")
        at = doc
        for part in parents:
            at = at.setdefault(part, {})
        at[leaf] = number
    return doc


def test_the_list_has_22_rows_and_the_measurable_ones():
    assert [r["no"] for r in LIST["rows"]] == list(range(1, 23))
    assert [r["no"] for r in MEASURED] == [1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 18, 19, 22]
    named = {u for r in LIST["rows"] for u in r["lead"]} | {
        s["unit"] for r in LIST["rows"] for s in r["responsible_units"] if "unit" in s
    }
    assert definition_problems(LIST, roles=set(), units=named) == []
    assert all(r["responsible_units"] for r in LIST["rows"])  # every row says who reports


@pytest.mark.parametrize("row", TARGETS, ids=lambda r: r["key"])
def test_each_row_at_above_and_below_its_goal(row):
    path, goal = row["measure"], row["goal"]
    better = 5 if goal["op"].startswith(">") else -5
    at = kpi.measure_row(row, _doc(path, goal["value"]), now=BEFORE)
    above = kpi.measure_row(row, _doc(path, goal["value"] + better), now=BEFORE)
    below = kpi.measure_row(row, _doc(path, goal["value"] - better), now=BEFORE)
    late = kpi.measure_row(row, _doc(path, goal["value"] - better), now=AFTER)
    final = kpi.measure_row(row, _doc(path, goal["value"] - better), now=AFTER, period=PERIOD)
    done = kpi.measure_row(row, _doc(path, goal["value"]), now=AFTER, period=PERIOD)
    assert (at.status, above.status, below.status, late.status) == (
        "met",
        "met",
        "unmet",
        "overdue",
    )
    assert (final.status, done.status) == ("missed", "achieved")  # never overdue once over
    assert at.value == goal["value"]
    assert kpi.measure_row(row, {}, now=BEFORE).status == "no_data"


def test_unmeasurable_rows_are_reported_by_the_responsible_unit():
    row = next(r for r in LIST["rows"] if r["no"] == 2)
    assert kpi.measure_row(row, {"anything": 1}, now=AFTER).status == "reported"


def _in_service_register(compound, reported: int, pending: int) -> None:
    """The register of in-service party members (在职党员报到) of a compound, written as is."""
    version = current_version("in-service-members")
    for i in range(reported + pending):
        DirectoryEntry.create(
            definition=version.definition_id,
            version=version,
            node=compound,
            node_path=compound.path,
            title="单位",
            data={
                "name": f"党员{i}",
                "unit": "单位",
                "status": "reported" if i < reported else "pending",
            },
            created_at=AFTER,
        )


def test_street_values_from_real_facts(little):
    _in_service_register(little["a"], 9, 1)
    _in_service_register(little["b"], 10, 0)
    # row 10 reads the petitions raised (or imported), not the compound file: 2 this
    # year against 4 by the same day last year
    for days in (4, 8, 380, 420, 500, 600):
        make_item(little["a"], "petition", state="received", raised_hours_ago=24 * days)
    make_item(little["b"], "petition", state="received", raised_hours_ago=24 * 700)  # 2024
    facts.refresh(now=AFTER)
    doc, _ = facts.cached(little["street"])
    statuses = {s.row["no"]: s for s in kpi.measure_list(LIST, doc, now=AFTER)}
    # 2021 is over: the list shows its final state
    assert statuses[5].value == 50.0 and statuses[5].status == "missed"  # 1 of 2 compounds
    assert statuses[7].value == 95.0 and statuses[7].status == "achieved"  # 19 of 20 reported
    assert (
        statuses[10].value == -50.0 and statuses[10].status == "achieved"
    )  # petitions halved (items)
    assert statuses[12].value == 0.0 and statuses[12].status == "missed"  # no meeting held
    counts = kpi.progress(list(statuses.values()))
    assert statuses[18].value == 0.0 and statuses[22].status == "missed"  # nothing registered
    # Rows 1 and 3 (街道联席会议, 社区三方办) read the meetings' on-time facts (issue 14).
    assert statuses[1].value == 0.0 and statuses[1].status == "missed"  # none held
    assert counts["measurable"] == 15 and counts["reported"] == 7


def test_checklist_mistakes_point_at_their_path():
    body = copy.deepcopy(LIST)
    body["rows"][3]["lead"] = ["nowhere"]
    del body["rows"][4]["goal"]
    paths = [
        p.path for p in definition_problems(body, roles=set(), units={"sanfangban", "dept-zzb"})
    ]
    assert "/rows/3/lead/0" in paths and "/rows/4" in paths


@pytest.mark.parametrize("now", [BEFORE, AFTER])
def test_a_version_measured_with_its_kept_measures_as_its_body_is(now):
    from engine.store.models import DefinitionVersion

    body = copy.deepcopy(LIST)
    body["rows"][0] = {**body["rows"][0], "measure": {"no such operator": [1]}}  # an error
    version = DefinitionVersion(id=10**6, digest="test", body=body)
    doc = {}
    for target in TARGETS:
        doc = {**doc, **_doc(target["measure"], 50)}
    for facts_doc in (doc, None, {}):
        expected = kpi.measure_list(body, facts_doc, now=now)
        assert kpi.measure_version(version, facts_doc, now=now) == expected
        assert kpi.measure_version(version, facts_doc, now=now) == expected  # kept measures
