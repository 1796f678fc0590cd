"""The count of a vote done by the database: a few GROUP BY queries whose answers are a
handful of rows, whatever the size of the compound.

Same result as :func:`engine.decisions.tally.count` (the reference, pure Python; a test
compares them on random compounds). A head agrees with an option when every ballot of its
units chose it: heads whose ballots are all the same text are counted in SQL, the rare
heads whose ballots differ are read and settled in Python.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from engine.definitions.tally import area_text
from engine.store.db import database

# Heads: each unit whose owner owns no other unit is one; the others are told apart by key.
TOTALS = """
SELECT COUNT(*), COALESCE(SUM(area_hundredths), 0),
  SUM(CASE WHEN shared THEN 0 ELSE 1 END) + COUNT(DISTINCT CASE WHEN shared THEN head END)
FROM poll_unit WHERE poll_id = {p}
"""
# Per ballot text: units, their area, and the units whose owner owns no other unit (each
# such unit is a head of its own: no GROUP BY over thousands of heads is needed).
BY_BALLOT = """
SELECT b.choices, COUNT(*), SUM(u.area_hundredths), SUM(CASE WHEN u.shared THEN 0 ELSE 1 END)
FROM ballot b JOIN poll_unit u ON u.id = b.unit_id
WHERE b.poll_id = {p} GROUP BY b.choices
"""
# Per head owning several units that voted: the one text all its ballots share, or NULL.
BY_HEAD = """
SELECT CASE WHEN MIN(b.choices) = MAX(b.choices) THEN MIN(b.choices) END
FROM ballot b JOIN poll_unit u ON u.id = b.unit_id
WHERE b.poll_id = {p} AND u.shared GROUP BY u.head
"""
MIXED = """
SELECT u.head, b.choices
FROM ballot b JOIN poll_unit u ON u.id = b.unit_id
WHERE b.poll_id = {p} AND u.head IN (
  SELECT u2.head FROM ballot b2 JOIN poll_unit u2 ON u2.id = b2.unit_id
  WHERE b2.poll_id = {p} AND u2.shared GROUP BY u2.head
  HAVING MIN(b2.choices) <> MAX(b2.choices))
"""


def _rows(sql: str, poll_id: int, times: int = 1) -> list[tuple[Any, ...]]:
    return list(database.execute_sql(sql.format(p=database.param), (poll_id,) * times))


def count(
    poll_id: int, *, options: Sequence[Mapping[str, Any]], category: Mapping[str, Any]
) -> dict[str, Any]:
    """The rule document of a poll's tally (see :func:`engine.decisions.tally.count`)."""
    keys = [o["key"] for o in options]
    agreeing = next((o["key"] for o in options if o.get("agrees")), None)
    [(units, eligible, heads)] = _rows(TOTALS, poll_id)
    area_of = dict.fromkeys(keys, 0)
    units_of = dict.fromkeys(keys, 0)
    owners_of = dict.fromkeys(keys, 0)
    voted_units = voted_area = 0
    single: list[tuple[str, int]] = []
    for text, n, area, alone in _rows(BY_BALLOT, poll_id):
        voted_units += n
        voted_area += int(area or 0)
        single.append((text, int(alone or 0)))
        for key in set(json.loads(text)):
            if key in area_of:
                area_of[key] += int(area or 0)
                units_of[key] += n
    taking_part = 0
    for text, n in single + _by_head(poll_id):
        taking_part += n
        for key in set(json.loads(text)) if text is not None and n else ():
            if key in owners_of:
                owners_of[key] += n
    return {
        "matter": {"category": category.get("key"), "special": bool(category.get("special"))},
        "area": {
            "eligible": area_text(int(eligible)),
            "voted": area_text(voted_area),
            "yes": area_text(area_of.get(agreeing, 0) if agreeing else 0),
        },
        "owners": {
            "eligible": int(heads or 0),
            "voted": taking_part,
            "yes": owners_of.get(agreeing, 0) if agreeing else 0,
        },
        "units": {"eligible": int(units), "voted": voted_units},
        "options": {
            k: {"area": area_text(area_of[k]), "owners": owners_of[k], "units": units_of[k]}
            for k in keys
        },
    }


def _by_head(poll_id: int) -> list[tuple[str | None, int]]:
    """(the options text every ballot of a head chose, heads) — heads whose ballots differ
    are settled here: they take part, and agree with the options all their ballots chose."""
    out: dict[str | None, int] = {}
    mixed = 0
    for (text,) in _rows(BY_HEAD, poll_id):  # a row per head
        if text is None:
            mixed += 1
        else:
            out[text] = out.get(text, 0) + 1
    if mixed:
        chosen: dict[str, list[set[str]]] = {}
        for head, text in _rows(MIXED, poll_id, times=2):
            chosen.setdefault(head, []).append(set(json.loads(text)))
        for sets in chosen.values():
            common = json.dumps(sorted(set.intersection(*sets)))
            out[common] = out.get(common, 0) + 1
    return list(out.items())
