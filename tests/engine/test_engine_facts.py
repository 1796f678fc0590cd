"""Facts on a hand-made district equal the numbers worked out by hand."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from engine.metrics import facts
from engine.records.profiles import file_facts
from engine.store.models import NodeFacts

NOW = dt.datetime(2026, 11, 27, 1, 0, 0)  # as in conftest.py

DOCS = Path(__file__).resolve().parents[2] / "docs" / "facts.md"


def test_compound_items_by_hand(little):
    doc = facts.compute_all(now=NOW)[little["a"].id]
    items = doc["items"]
    assert (items["total"], items["open"], items["overdue"], items["resolved"]) == (4, 2, 1, 3)
    assert items["resolution_rate"] == 75.0  # 3 of 4
    assert items["overdue_rate"] == 50.0  # 1 of 2 open
    assert items["reopen_rate"] == 25.0  # 1 of 4
    assert items["hours_to_resolve"] == {"mean": 14.0, "p50": 10.0, "p90": 30.0}  # 2, 10, 30
    assert items["satisfaction"] == {"rated": 2, "mean": 4.0, "satisfied_rate": 50.0}
    assert doc["by_type"]["bell"]["states"] == {"closed": 2, "resolved": 1, "handling": 1}
    assert doc["summons"] == {
        "total": 2,
        "reported": 2,
        "reported_on_time": 1,
        "report_on_time_rate": 50.0,
        "done": 2,
        "done_on_time": 1,
        "done_on_time_rate": 50.0,
        "overdue": 0,
    }


def test_compound_profile_by_hand(little):
    profile = facts.compute_all(now=NOW)[little["a"].id]["profile"]
    assert profile["committee_party_ratio"] == 60.0
    assert profile["building_leader_ratio"] == 80.0
    assert profile["party_member_building_rate"] == 50.0
    assert profile["in_service_report_rate"] == 90.0
    assert profile["has_commissioner"] and profile["has_party_org"] and profile["has_committee"]


def test_rollup_to_community_and_street_by_hand(little):
    docs = facts.compute_all(now=NOW)
    for key in ("community", "street"):
        doc = docs[little[key].id]
        assert (
            doc["items"]["total"] == 5
            and doc["items"]["open"] == 3
            and doc["items"]["overdue"] == 1
        )
        assert doc["items"]["resolution_rate"] == 60.0
        assert doc["by_type"]["repair"]["states"] == {"submitted": 1}
        cov = doc["coverage"]
        assert cov["compounds"] == 2 and cov["households"] == 400
        assert cov["party_org_rate"] == 50.0 and cov["committee_rate"] == 50.0
        assert cov["committee_party_half_rate"] == 100.0  # the one committee has 60 %
        assert cov["party_member_building_rate"] == 25.0  # 5 of 20 buildings
        assert cov["in_service_report_rate"] == 95.0  # 19 of 20
        assert cov["fee_collection_rate"] == 85.0  # (90·300 + 70·100) / 400
        assert cov["petition_change_rate"] == -50.0  # 10 this year, 20 last year
        assert cov["evote_rate"] == 0.0


def test_department_counts_its_own_summons(little):
    doc = facts.compute_all(now=NOW)[little["dept"].id]
    assert set(doc) == {"node", "summons"}
    assert doc["summons"]["total"] == 2 and doc["summons"]["done_on_time"] == 1


def test_refresh_caches_with_time(little):
    count = facts.refresh(now=NOW)
    assert count == NodeFacts.select().count()
    doc, at = facts.cached(little["a"])
    assert at == NOW and doc["items"]["total"] == 4


def test_the_stamp_is_the_newest_time_and_the_count_read_alone_or_with_the_facts(little):
    """``stamp`` and ``cached_with_times`` (which reads the stamp along) agree, and move
    with a refresh; the newest time is read on the computed_at index, which an instance
    made before it gets from ``create_tables``."""
    from engine.core import memo
    from engine.store.db import database
    from engine.store.models import create_tables

    def both() -> tuple[tuple, tuple]:
        alone = facts.stamp()[1:]  # outside a request: read each time
        memo.begin()  # as a request does: the stamp read along is kept
        try:
            facts.cached_with_times([little["a"].id])
            return alone, memo.peek("facts_stamp")
        finally:
            memo.end()

    facts.refresh(now=NOW)
    first, along = both()
    assert first == along == (str(NOW), NodeFacts.select().count())
    NodeFacts.delete().where(NodeFacts.node == little["b"].id).execute()
    later = NOW + dt.timedelta(hours=1)
    NodeFacts.update(computed_at=later).where(NodeFacts.node == little["a"].id).execute()
    second, along = both()
    assert second == along == (str(later), NodeFacts.select().count()) and second[1] < first[1]

    index = "node_facts_computed_at"
    assert index in {i.name for i in database.get_indexes("node_facts")}
    database.execute_sql(f'DROP INDEX "{index}"')
    create_tables()
    assert index in {i.name for i in database.get_indexes("node_facts")}


def test_every_computed_fact_is_documented(little):
    documented = set(
        re.findall(r"^\| `([a-z_<>.0-9 ]+)` \|", DOCS.read_text("utf-8"), re.MULTILINE)
    )
    declared = file_facts()
    fields = {f.key for f in declared.facts if f.rule is None}
    derived = {f.key for f in declared.facts if f.rule is not None}
    area = set(declared.area_labels())
    computed: set[str] = set()
    for doc in facts.compute_all(now=NOW).values():
        for path in facts.paths(doc):
            parts = path.split(".")
            if parts[0] == "profile":  # declared by the pack: one line per kind of fact
                parts[1] = (
                    "<field>"
                    if parts[1] in fields
                    else "<fact>"
                    if parts[1] in derived
                    else parts[1]
                )
            if parts[0] == "coverage" and parts[1] != "compounds":
                parts[1] = (
                    "<area fact>"
                    if parts[1] in area
                    else "<fact>"
                    if parts[1] in fields | derived
                    else parts[1]
                )
                if len(parts) == 3:
                    parts[2] = "<option>"
            if parts[0] == "kpi_final":
                parts[1:] = ["<list>", *(["facts", "<fact>"] if parts[2] == "facts" else parts[2:])]
            if parts[0] == "checklists" and parts[1] == "by_list":
                parts[2] = "<list>"
            if parts[0] == "gates" and parts[1] == "by_decision":
                parts[2] = "<decision>"
            if parts[0] == "meetings" and parts[1] == "by_definition":
                parts[2] = "<key>"
            if parts[0] == "directories":
                parts[1] = "<key>"
                if parts[2] == "sum":
                    parts[3] = "<field>"
                if parts[2] in ("by", "share"):
                    parts[3:5] = ["<field>", "<option>"]
            if parts[0] == "by_type":
                parts[1] = "<type>"
                if parts[2] == "states":
                    parts[3] = "<state>"
            computed.add(".".join(parts))
    assert computed - documented == set()


def test_the_file_still_declares_evote_but_the_facts_count_ballots(little):
    a = little["a"]
    a.profile = {**a.profile, "evote_used": True}
    a.save()
    docs = facts.compute_all(now=NOW)
    assert docs[a.id]["profile"]["evote_used"] is True
    assert docs[little["b"].id]["profile"]["evote_used"] is False  # not filed: false
    assert docs[little["community"].id]["coverage"]["evote_rate"] == 50.0  # one of two compounds
    assert "evote" not in docs[a.id]
    # Electronic voting is measured from the ballots of real votes (engine/decisions), which
    # the checkbox does not make.
    assert docs[a.id]["polls"]["evote_share"] is None and docs[a.id]["polls"]["ballots"] == 0
