"""Whole-definition checks of a ``poll`` (表决事项) beyond its structure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import rules
from engine.core.errors import FieldProblem
from engine.core.i18n import gettext as _
from engine.definitions.checks_common import (
    duplicate_keys,
    quoted_list,
    rule_problems,
    unknown_role,
)
from engine.definitions.tally import Voter, count

# What a threshold rule may read (the tally document, engine/decisions/tally.py).
TALLY_VARS = ("matter", "area", "owners", "units", "options")


def _trial_tallies(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Tallies a rule must evaluate on without failing: nobody voted, everyone agreed."""
    voters = [Voter(1, 10000, "a"), Voter(2, 8050, "b"), Voter(3, 9000, "b")]
    agreeing = next(
        (o["key"] for o in body["options"] if o.get("agrees")), body["options"][0]["key"]
    )
    out = []
    for category in body["categories"]:
        for ballots in ({}, {v.unit: [agreeing] for v in voters}):
            out.append(count(voters, ballots, options=body["options"], category=category))
    return out


def poll_problems(body: Mapping[str, Any], roles: Iterable[str]) -> list[FieldProblem]:
    """Problems of a poll definition: keys, roles, choices and the threshold rules."""
    known = set(roles)
    problems = duplicate_keys(
        ((f"/categories/{i}", c["key"]) for i, c in enumerate(body["categories"])),
        _("Two categories have the key '%(key)s'"),
    )
    problems += duplicate_keys(
        ((f"/options/{i}", o["key"]) for i, o in enumerate(body["options"])),
        _("Two options have the key '%(key)s'"),
    )
    agreeing = [i for i, o in enumerate(body["options"]) if o.get("agrees")]
    if len(agreeing) > 1:
        problems.append(
            FieldProblem(f"/options/{agreeing[1]}/agrees", _("Only one option can mean agreeing"))
        )
    if body.get("max_choices", 1) > len(body["options"]):
        problems.append(
            FieldProblem(
                "/max_choices",
                _("There are only %(n)s options to pick") % {"n": len(body["options"])},
            )
        )
    for i, role in enumerate(body["open_roles"]):
        if role not in known:
            problems.append(FieldProblem(f"/open_roles/{i}", unknown_role(role)))
    for name in ("quorum", "passing"):
        rule = body["thresholds"][name]
        found = rule_problems(rule, f"/thresholds/{name}")
        if not found:
            for var in sorted(rules.vars_used(rule)):
                if var.split(".")[0] not in TALLY_VARS:
                    found.append(
                        FieldProblem(
                            f"/thresholds/{name}",
                            _(
                                "The rule reads '%(name)s', which is no count of the vote; known: %(known)s"
                            )
                            % {"name": var, "known": quoted_list(TALLY_VARS)},
                        )
                    )
        if not found and not problems:
            for doc in _trial_tallies(body):
                try:
                    rules.compile(rule)(doc)
                except rules.RuleEvalError as exc:
                    found.append(FieldProblem(f"/thresholds/{name}{exc.path}", exc.text(_)))
                    break
        problems += found
    return problems
