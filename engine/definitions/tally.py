"""The count of a vote (计票) under the poll definition's threshold rules, exactly.

Civil Code art. 278 and the SPC interpretation on building ownership (arts. 8–9) count
two things at once: exclusive area, unit by unit, and owners by head — one unit is one
owner, one owner holding several units counts once, and the developer's unsold or
undelivered units count once all together (each unit's ``head`` key says whose it is).
An owner whose ballots differ between their units takes part but agrees only where every
ballot of theirs chose the option: a head cannot half-agree.

Areas are whole hundredths of a m² (integers): every sum is exact, the rule document
carries them as decimal text and the pack's rules compare shares with the exact
``share_at_least``/``share_above`` operators (rules/ratios.py), never floats.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any, NamedTuple

import rules

SHARE_OPS = {"share_at_least": True, "share_above": False}  # operator -> threshold included


class Voter(NamedTuple):
    """An exclusive unit entitled to vote: its id, area (m² × 100) and owner key."""

    unit: int
    area: int
    head: str
    building: int = 0


def area_text(hundredths: int) -> str:
    """Hundredths of a m² as decimal text: 12345 -> "123.45"."""
    return str(Decimal(hundredths).scaleb(-2))


def count(
    voters: Sequence[Voter],
    ballots: Mapping[int, Sequence[str]],
    *,
    options: Sequence[Mapping[str, Any]],
    category: Mapping[str, Any],
) -> dict[str, Any]:
    """The rule document of a tally: the matter, area and owners, and each option's count.

    One pass over the units: a head (owner) takes part when one of its units voted, and
    agrees with an option when every ballot of its units chose it.

    :param ballots: unit id -> the option keys its ballot chose.
    :param options: the poll's options; the one with ``agrees`` is "yes".
    """
    keys = [o["key"] for o in options]
    agreeing = next((o["key"] for o in options if o.get("agrees")), None)
    eligible = voted = 0
    area_of = dict.fromkeys(keys, 0)
    units_of = dict.fromkeys(keys, 0)
    heads: dict[str, list[Any]] = {}  # head -> [units that voted, {option: units choosing it}]
    for voter in voters:
        eligible += voter.area
        head = heads.get(voter.head)
        if head is None:
            head = heads[voter.head] = [0, {}]
        choices = ballots.get(voter.unit)
        if choices is None:
            continue
        voted += voter.area
        head[0] += 1
        chosen = head[1]
        for key in choices:
            if key in area_of:
                area_of[key] += voter.area
                units_of[key] += 1
                chosen[key] = chosen.get(key, 0) + 1
    owners_of = dict.fromkeys(keys, 0)
    taking_part = 0
    for n_voted, chosen in heads.values():
        if n_voted:
            taking_part += 1
            for key, n in chosen.items():
                if n == n_voted:
                    owners_of[key] += 1
    yes_area = area_of.get(agreeing, 0) if agreeing else 0
    return {
        "matter": {"category": category.get("key"), "special": bool(category.get("special"))},
        "area": {
            "eligible": area_text(eligible),
            "voted": area_text(voted),
            "yes": area_text(yes_area),
        },
        "owners": {
            "eligible": len(heads),
            "voted": taking_part,
            "yes": owners_of.get(agreeing, 0) if agreeing else 0,
        },
        "units": {"eligible": len(voters), "voted": sum(1 for v in voters if v.unit in ballots)},
        "options": {
            k: {"area": area_text(area_of[k]), "owners": owners_of[k], "units": units_of[k]}
            for k in keys
        },
    }


def _share(part: str | int, whole: str | int) -> Fraction | None:
    p, w = Fraction(Decimal(str(part))), Fraction(Decimal(str(whole)))
    return p / w if w else None


def _percent(value: Fraction | None) -> str | None:
    if value is None:
        return None
    return str(
        (Decimal(value.numerator) * 100 / Decimal(value.denominator)).quantize(Decimal("0.01"))
    )


def thresholds(rule: Any, doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The share comparisons a rule makes on ``doc``, following the branches it takes.

    Each is ``{"part", "whole", "fraction", "inclusive"}`` (vars read, "2/3", whether the
    threshold itself passes); only comparisons of two ``var``s with constant fractions are
    reported (a page shows them; the rule alone decides).
    """
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for x in node:
                walk(x)
            return
        if not isinstance(node, dict) or len(node) != 1:
            return
        ((op, args),) = node.items()
        if op == "if" and isinstance(args, list):
            for i in range(0, len(args) - 1, 2):
                if rules.truthy(rules.compile(args[i])(doc)):
                    walk(args[i + 1])
                    return
            if len(args) % 2:
                walk(args[-1])
            return
        if op in SHARE_OPS and isinstance(args, list) and len(args) == 4:
            part, whole, n, d = args
            if all(isinstance(x, dict) and "var" in x for x in (part, whole)) and all(
                isinstance(x, int) and not isinstance(x, bool) for x in (n, d)
            ):
                found.append(
                    {
                        "part": _var_name(part),
                        "whole": _var_name(whole),
                        "fraction": f"{n}/{d}",
                        "inclusive": SHARE_OPS[op],
                    }
                )
            return
        walk(args)

    walk(rule)
    return found


def _var_name(node: Mapping[str, Any]) -> str:
    var = node["var"]
    return str(var[0] if isinstance(var, list) else var)


def _read(doc: Mapping[str, Any], path: str) -> Any:
    value: Any = doc
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def decide(doc: Mapping[str, Any], rule_set: Mapping[str, Any]) -> dict[str, Any]:
    """Evaluate the definition's ``quorum`` and ``passing`` rules on a tally document.

    Passing needs quorum. The result also lists each share the rules compared, with its
    exact percentage and threshold, for the result page.

    :raises rules.RuleEvalError: a rule failed on this document.
    """
    quorum = rules.truthy(rules.compile(rule_set["quorum"])(doc))
    passing = rules.truthy(rules.compile(rule_set["passing"])(doc))
    checks = []
    for name in ("quorum", "passing"):
        for t in thresholds(rule_set[name], doc):
            share = _share(_read(doc, t["part"]) or 0, _read(doc, t["whole"]) or 0)
            n, d = (int(x) for x in t["fraction"].split("/"))
            met = share is not None and (
                share >= Fraction(n, d) if t["inclusive"] else share > Fraction(n, d)
            )
            checks.append(
                {
                    **t,
                    "rule": name,
                    "percent": _percent(share),
                    "met": met,
                    "threshold_percent": _percent(Fraction(n, d)),
                }
            )
    return {"quorum": quorum, "passed": quorum and passing, "checks": checks}


def result(
    voters: Sequence[Voter],
    ballots: Mapping[int, Sequence[str]],
    *,
    options: Sequence[Mapping[str, Any]],
    category: Mapping[str, Any],
    rule_set: Mapping[str, Any],
) -> dict[str, Any]:
    """The whole result of a poll: the tally document and the rules' decision on it."""
    doc = count(voters, ballots, options=options, category=category)
    return {**doc, **decide(doc, rule_set)}
