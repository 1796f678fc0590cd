"""The index (三方强基指数): a crafted compound's known score, versions and snapshots, checks."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from engine.authoring.publishing import publish
from engine.definitions.checks import definition_problems
from engine.definitions.definitions import current_version, digest
from engine.metrics import facts, indices
from engine.store.models import DefinitionVersion, IndexSnapshot, Pack

NOW = dt.datetime(2026, 11, 27, 1, 0, 0)
CRAFTED = {
    "key": "crafted",
    "kind": "index",
    "name": "crafted",
    "dimensions": [
        {
            "key": "one",
            "name": "一",
            "indicators": [
                {
                    "key": "a",
                    "name": "A",
                    "formula": {"var": "x"},
                    "target": 100,
                    "weight": 2,
                    "normalise": {"min": 0, "max": 100},
                },
                {
                    "key": "b",
                    "name": "B",
                    "formula": {"var": "y"},
                    "target": 0,
                    "weight": 1,
                    "higher_is_better": False,
                    "normalise": {"min": 0, "max": 10},
                },
            ],
        },
        {
            "key": "two",
            "name": "二",
            "indicators": [
                {
                    "key": "c",
                    "name": "C",
                    "formula": {"var": "z"},
                    "target": 100,
                    "weight": 1,
                    "normalise": {"min": 0, "max": 100},
                },
                {
                    "key": "d",
                    "name": "D",
                    "formula": {"/": [{"var": "x"}, {"var": "zero"}]},
                    "target": 1,
                    "weight": 5,
                    "normalise": {"min": 0, "max": 1},
                },
            ],
        },
    ],
}


def _version(body):
    return DefinitionVersion(body=body, digest=digest(body), number=1)


def test_crafted_compound_has_the_score_worked_out_by_hand():
    score = indices.score_compound(_version(CRAFTED), {"x": 50, "y": 2, "z": True, "zero": 0})
    # a: 50; b: 1 - 2/10 = 80; c: true = 100; d fails (division by zero): no data, left out.
    assert score.indicators["a"]["score"] == 50.0 and score.indicators["b"]["score"] == 80.0
    assert score.indicators["d"]["value"] is None and score.indicators["d"]["score"] is None
    assert score.score == 70.0  # (2·50 + 1·80 + 1·100) / 4
    assert score.dimensions == {"one": 60.0, "two": 100.0}
    # Gap to target in points of the whole index, weight over all weights (9).
    assert score.indicators["a"]["gap"] == round(100 * 2 / 9 * 0.5, 2)
    assert score.indicators["b"]["gap"] == round(100 * 1 / 9 * 0.2, 2)
    down = indices.pulls_down(_version(CRAFTED), score)
    assert [r["key"] for r in down] == ["a", "b"]


def test_rollup_is_the_mean_of_compounds_or_weighted_by_households(little):
    facts.refresh(now=NOW)
    version = current_version("strong-base")
    scores = indices.scores(version)
    a, b = scores[little["a"].id].score, scores[little["b"].id].score
    assert scores[little["community"].id].score == round((a + b) / 2, 2)
    body = copy.deepcopy(version.body) | {"rollup": {"mean_by": "profile.households"}}
    weighted = indices.scores(_version(body))
    assert weighted[little["street"].id].score == round((300 * a + 100 * b) / 400, 2)
    assert a > b  # the compound with the full file scores higher


def test_weight_change_is_a_new_version_and_old_snapshots_stay(little):
    facts.refresh(now=NOW)
    old = current_version("strong-base")
    assert indices.snapshot_all(["strong-base"], now=NOW) > 0
    before = {s.node_id: (s.version, s.score) for s in IndexSnapshot.select()}
    body = copy.deepcopy(old.body)
    body["dimensions"][0]["indicators"][0]["weight"] = 60
    new = publish(Pack.get(), body, now=NOW + dt.timedelta(days=1), by=None)
    assert new.number == old.number + 1
    indices.snapshot_all(["strong-base"], now=NOW + dt.timedelta(days=1))
    after = list(indices.trend("strong-base", little["b"]))
    assert [s.version for s in after] == [old.number, new.number]
    assert after[0].score == before[little["b"].id][1]
    assert after[1].score < after[0].score  # B has no party organisation, now weighted heavier
    assert {
        s.node_id: (s.version, s.score)
        for s in IndexSnapshot.select().where(IndexSnapshot.version == old.number)
    } == before


@pytest.mark.parametrize(
    "change, path",
    [
        (
            lambda b: b["dimensions"][0]["indicators"][0].update(
                formula={"method": ["x", "upper"]}
            ),
            "/dimensions/0/indicators/0/formula",
        ),
        (
            lambda b: b["dimensions"][0]["indicators"][1].update(normalise={"min": 5, "max": 5}),
            "/dimensions/0/indicators/1/normalise",
        ),
        (
            lambda b: b["dimensions"][1]["indicators"][0].update(target=500),
            "/dimensions/1/indicators/0/target",
        ),
        (
            lambda b: b["dimensions"][1]["indicators"][0].update(key="a"),
            "/dimensions/1/indicators/0/key",
        ),
        (lambda b: b["dimensions"][0]["indicators"][0].pop("weight"), "/dimensions/0/indicators/0"),
    ],
)
def test_index_mistakes_point_at_their_path(change, path):
    body = copy.deepcopy(CRAFTED)
    change(body)
    problems = definition_problems(body, roles=set(), units=set())
    assert problems and problems[0].path.startswith(path), problems


def test_scores_are_kept_until_the_facts_change(little):
    facts.refresh(now=NOW)
    version = current_version("strong-base")
    first = indices.scores(version)
    assert indices.scores(version) is first  # nothing changed: the same scores, not scored again
    little["b"].profile = little["a"].profile
    little["b"].save()
    assert indices.scores(version) is first  # a file changed, but the cached facts did not yet
    facts.refresh(now=NOW)  # the same moment, new facts
    again = indices.scores(version)
    b, a = again[little["b"].id], again[little["a"].id]
    assert again is not first and b.score != first[little["b"].id].score
    assert b.dimensions["leadership"] == a.dimensions["leadership"]  # from the file alone


def test_scheduled_snapshot_is_taken_once_per_period(little):
    """The seed's index is snapshotted monthly by the sweep: twice in a month → one each."""
    facts.refresh(now=NOW)
    assert current_version("strong-base").body["snapshot"] == "monthly"
    first = indices.snapshot_due(now=NOW)
    assert first > 0
    assert indices.snapshot_due(now=NOW + dt.timedelta(days=2)) == 0  # same month: nothing
    # Even if a second sweep missed the check (concurrent), the unique key keeps one row.
    version = current_version("strong-base")
    indices.insert_snapshots(indices._rows(version, NOW, indices.period_of("monthly", NOW)))
    per_node = list(
        IndexSnapshot.select(IndexSnapshot.node, IndexSnapshot.period).where(
            IndexSnapshot.node == little["a"].id
        )
    )
    assert [s.period for s in per_node] == ["2026-11"]
    assert indices.snapshot_due(now=NOW + dt.timedelta(days=10)) == first  # December: a new one
    assert [s.period for s in indices.trend("strong-base", little["a"])] == ["2026-11", "2026-12"]


def test_period_is_local_month_or_iso_week():
    # 2026-11-30 17:00 UTC is already 1 December in Hangzhou
    at = dt.datetime(2026, 11, 30, 17, 0)
    assert indices.period_of("monthly", at) == "2026-12"
    assert indices.period_of("weekly", at) == "2026-W49"


@pytest.mark.parametrize("schedule", ["daily", "", 3])
def test_snapshot_schedule_must_be_weekly_or_monthly(schedule):
    body = copy.deepcopy(CRAFTED) | {"snapshot": schedule}
    problems = definition_problems(body, roles=set(), units=set())
    assert problems and problems[0].path == "/snapshot", problems
    assert not definition_problems(CRAFTED | {"snapshot": "weekly"}, roles=set(), units=set())


def test_demo_backfills_a_year_of_monthly_snapshots(little):
    import random

    from engine.metrics import demo

    demo.backfill(random.Random(1), now=NOW)
    rows = indices.trend("strong-base", little["a"])
    assert len(rows) == 12
    assert rows[0].period == "2025-11" and rows[-1].period == "2026-10"
    assert all(r.score is not None and 0 <= r.score <= 100 for r in rows)
    demo.backfill(random.Random(1), now=NOW)  # a second demo run adds nothing
    assert len(indices.trend("strong-base", little["a"])) == 12
