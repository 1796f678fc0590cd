"""Civil Code art. 278 as the seed pack ships it, on crafted compounds: exact thresholds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.definitions.tally import Voter, result

BODY = json.loads(
    (Path(__file__).parents[2] / "seed/gongshu/polls/owners-decision.json").read_text("utf-8")
)
ORDINARY = next(c for c in BODY["categories"] if c["key"] == "fund-use")  # item (5): ordinary
SPECIAL = next(c for c in BODY["categories"] if c["key"] == "fund-raise")  # item (6)


def decide(voters, ballots, category=ORDINARY):
    return result(
        voters,
        {u: [c] for u, c in ballots.items()},
        options=BODY["options"],
        category=category,
        rule_set=BODY["thresholds"],
    )


def owners(*areas: int) -> list[Voter]:
    """One unit per owner, with these areas (hundredths of a m²)."""
    return [Voter(i + 1, a, f"o{i + 1}") for i, a in enumerate(areas)]


def test_exactly_two_thirds_of_area_and_heads_is_quorate():
    out = decide(owners(10000, 10000, 10000), {1: "yes", 2: "yes"})
    assert out["area"] == {"eligible": "300.00", "voted": "200.00", "yes": "200.00"}
    assert out["owners"] == {"eligible": 3, "voted": 2, "yes": 2}
    assert out["quorum"] is True and out["passed"] is True
    quorum = [c for c in out["checks"] if c["rule"] == "quorum"]
    assert [(c["part"], c["fraction"], c["inclusive"], c["met"]) for c in quorum] == [
        ("area.voted", "2/3", True, True),
        ("owners.voted", "2/3", True, True),
    ]


def test_a_hundredth_of_a_square_metre_below_two_thirds_of_the_area_is_not_quorate():
    out = decide(owners(10000, 10000, 10001), {1: "yes", 2: "yes"})
    assert out["owners"]["voted"] * 3 == out["owners"]["eligible"] * 2  # heads exactly 2/3
    assert out["quorum"] is False and out["passed"] is False
    met = {c["part"]: c["met"] for c in out["checks"] if c["rule"] == "quorum"}
    assert met == {"area.voted": False, "owners.voted": True}


def test_enough_area_but_too_few_heads_is_not_quorate():
    out = decide(owners(20000, 100, 100, 9800), {1: "yes", 2: "yes"})
    assert out["area"]["voted"] == "201.00" and out["area"]["eligible"] == "300.00"
    assert out["owners"] == {"eligible": 4, "voted": 2, "yes": 2}
    assert out["quorum"] is False
    met = {c["part"]: c["met"] for c in out["checks"] if c["rule"] == "quorum"}
    assert met == {"area.voted": True, "owners.voted": False}


def test_exactly_half_agreeing_fails_an_ordinary_matter():
    out = decide(owners(10000, 10000, 10000, 10000), {1: "yes", 2: "yes", 3: "no", 4: "no"})
    assert out["quorum"] is True and out["passed"] is False
    passing = {c["part"]: (c["percent"], c["met"]) for c in out["checks"] if c["rule"] == "passing"}
    assert passing == {"area.yes": ("50.00", False), "owners.yes": ("50.00", False)}


def test_a_hundredth_more_than_half_passes_an_ordinary_matter_only_with_the_heads():
    voters = owners(10001, 10000, 10000, 9999)
    assert decide(voters, {1: "yes", 2: "yes", 3: "no", 4: "no"})["passed"] is False  # 2 of 4 heads
    assert decide(voters, {1: "yes", 2: "yes", 3: "no"})["passed"] is True  # 200.01 of 300.01


def test_exactly_three_quarters_passes_a_special_matter_and_just_below_fails():
    ballots = {1: "yes", 2: "yes", 3: "yes", 4: "no"}
    out = decide(owners(10000, 10000, 10000, 10000), ballots, SPECIAL)
    assert out["matter"] == {"category": "fund-raise", "special": True}
    assert out["quorum"] is True and out["passed"] is True
    assert {c["fraction"] for c in out["checks"] if c["rule"] == "passing"} == {"3/4"}
    below = decide(owners(10000, 10000, 9999, 10000), ballots, SPECIAL)
    assert below["passed"] is False  # 299.99 of 399.99 m² is under 3/4
    assert (
        decide(owners(10000, 10000, 10000), {1: "yes", 2: "yes", 3: "no"}, SPECIAL)["passed"]
        is False
    )  # 2/3 passes an ordinary matter, not a special one
    assert decide(owners(10000, 10000, 10000), {1: "yes", 2: "yes", 3: "no"})["passed"] is True


def test_one_owner_with_three_units_counts_once_by_head_and_three_times_by_area():
    voters = [Voter(1, 10000, "x"), Voter(2, 10000, "x"), Voter(3, 10000, "x")]
    voters += [Voter(4, 10000, "y"), Voter(5, 10000, "z")]
    out = decide(voters, {1: "yes", 2: "yes", 3: "yes", 4: "no"})
    assert out["owners"] == {"eligible": 3, "voted": 2, "yes": 1}
    assert out["area"] == {"eligible": "500.00", "voted": "400.00", "yes": "300.00"}
    assert out["quorum"] is True and out["passed"] is False  # 1 of 2 heads is not more than half
    split = decide(voters, {1: "yes", 2: "no", 3: "yes", 4: "yes"})
    assert split["owners"]["yes"] == 1  # an owner whose ballots differ does not agree by head


def test_unsold_developer_units_count_once_together():
    voters = [Voter(i, 9000, "developer") for i in range(1, 11)]
    voters += [Voter(11, 9000, "unit:11"), Voter(12, 9000, "unit:12")]
    out = decide(voters, {i: "yes" for i in range(1, 11)} | {11: "no"})
    assert out["owners"] == {"eligible": 3, "voted": 2, "yes": 1}
    assert out["units"] == {"eligible": 12, "voted": 11}
    assert out["area"]["yes"] == "900.00" and out["quorum"] is True
    assert out["passed"] is False  # most of the area, but one head of two


def test_abstentions_take_part_but_do_not_agree():
    voters = owners(10000, 10000, 10000)
    out = decide(voters, {1: "yes", 2: "abstain"})
    assert out["quorum"] is True and out["owners"]["voted"] == 2
    assert out["passed"] is False  # nobody opposed, yet half did not agree
    assert out["options"]["abstain"] == {"area": "100.00", "owners": 1, "units": 1}
    assert decide(voters, {1: "yes", 2: "yes", 3: "abstain"})["passed"] is True


def test_nobody_voted_is_not_quorate_and_no_share_is_reported():
    out = decide(owners(10000, 10000), {})
    assert out["quorum"] is False and out["passed"] is False
    assert [c["percent"] for c in out["checks"] if c["rule"] == "passing"] == [None, None]


@pytest.mark.parametrize(
    ("areas", "voted", "quorate"),
    [((10, 20, 30), (1, 3), True), ((10, 21, 30), (1, 3), False)],
)
def test_tiny_areas_are_exact(areas, voted, quorate):
    # 0.40 of 0.60 m² is exactly 2/3; floats of 0.1 + 0.3 would round it.
    voters = [Voter(i + 1, a, f"o{i}") for i, a in enumerate(areas)]
    out = decide(voters, {u: "yes" for u in voted})
    assert out["quorum"] is quorate
