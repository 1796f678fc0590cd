"""What a statement of accounts says (经营性收支公示): its lines, totals by part and group,
what a correction changed line by line, its title and amounts as people read them, and
which statements a reader finds."""

from __future__ import annotations

import operator
from collections.abc import Mapping
from functools import reduce
from typing import Any

from engine.core import i18n
from engine.core.errors import FieldProblem, Invalid
from engine.core.i18n import gettext as _
from engine.org.actors import Actor
from engine.residents.money import parse_amount
from engine.residents.periods import period_label
from engine.store.models import OrgNode
from engine.store.prepared import prepared
from engine.store.resident_tables import Statement


def totals(body: Mapping[str, Any], lines: list[Mapping[str, Any]]) -> dict[str, Any]:
    """Cents per section and, per group of sections, money in, money out and the balance."""
    by_section = {s["key"]: 0 for s in body["sections"]}
    for line in lines:
        if line.get("section") in by_section:
            by_section[line["section"]] += int(line.get("amount") or 0)
    groups: dict[str, dict[str, int]] = {}
    for section in body["sections"]:
        group = groups.setdefault(section.get("group", "main"), {"in": 0, "out": 0})
        group[section["flow"]] += by_section[section["key"]]
    for group in groups.values():
        group["balance"] = group["in"] - group["out"]
    return {"sections": by_section, "groups": groups}


LINE_FIELDS = ("section", "category", "label", "amount", "note")


def line_diff(old: list[Mapping[str, Any]], new: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """What a correction changed, line by line (lines keep their ids across versions):
    ``{"change": "added" | "removed" | "changed", "id", "before", "after", "fields"}``."""
    before = {x["id"]: x for x in old}
    after = {x["id"]: x for x in new}
    out: list[dict[str, Any]] = []
    for line in new:
        was = before.get(line["id"])
        if was is None:
            out.append(
                {"change": "added", "id": line["id"], "before": None, "after": line, "fields": []}
            )
            continue
        fields = [f for f in LINE_FIELDS if was.get(f) != line.get(f)]
        if fields:
            out.append(
                {
                    "change": "changed",
                    "id": line["id"],
                    "before": was,
                    "after": line,
                    "fields": fields,
                }
            )
    for line in old:
        if line["id"] not in after:
            out.append(
                {"change": "removed", "id": line["id"], "before": line, "after": None, "fields": []}
            )
    return out


def title(body: Mapping[str, Any], st: Statement) -> str:
    """ "2026年第3季度 经营性收支公示" (第2版 for a correction), in the reader's words."""
    text = f"{period_label(st.period)} {body['name']}"
    if st.number > 1:
        text += i18n.gettext(" (version %(n)s)") % {"n": st.number}
    return text


def format_cents(cents: int) -> str:
    """¥1,234.50 — the sign in front for money out shown as negative."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(int(cents)), 100)
    return f"{sign}¥{whole:,}.{part:02d}"


def clean_line(body: Mapping[str, Any], fields: Mapping[str, Any]) -> dict[str, Any]:
    """A line from posted fields: a known section and category, a label, an amount in cents.

    :raises Invalid: naming each field that is wrong.
    """
    problems: list[FieldProblem] = []
    sections = {s["key"]: s for s in body["sections"]}
    section = str(fields.get("section") or "")
    if section not in sections:
        problems.append(FieldProblem("section", _("Choose a part of the statement.")))
    categories = sections.get(section, {}).get("categories") or []
    category = str(fields.get("category") or "").strip()
    if categories and category not in categories:
        problems.append(FieldProblem("category", _("Choose one of the categories.")))
    label = str(fields.get("label") or "").strip()
    if not label or len(label) > 100:
        problems.append(FieldProblem("label", _("Name the line (at most 100 characters).")))
    note = str(fields.get("note") or "").strip()
    if len(note) > 500:
        problems.append(FieldProblem("note", _("At most 500 characters.")))
    amount = None
    try:
        amount = parse_amount(fields.get("amount"))
    except ValueError as exc:
        problems.append(FieldProblem("amount", str(exc)))
    if problems:
        raise Invalid(_("Some answers need fixing."), problems)
    return {
        "section": section,
        "category": category,
        "label": label,
        "amount": amount,
        "note": note,
    }


def published_for(actor: Actor, node: OrgNode) -> list[Statement]:
    """The newest published version of each period's statement at ``node`` or the compound
    it lies in (a resident granted at a building), newest period first."""
    parts = node.path.strip("/").split("/")
    paths = ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]
    return list(
        Statement.select()
        .where(Statement.node_path.in_(paths) & (Statement.state == "published"))
        .order_by(Statement.period.desc(), Statement.definition)
    )


def in_reach(actor: Actor) -> list[Statement]:
    """Every statement of the compounds where ``actor`` drafts, confirms or oversees
    statements, newest first (one query)."""
    from engine.org.permissions import roles_of
    from engine.org.scope import path_under

    roles = set(roles_of("disclosures"))
    paths = sorted({g.node_path for g in actor.grants if g.role in roles})
    if not paths:
        return []
    where = None
    for path in paths:
        part = path_under(Statement.node_path, path)
        where = part if where is None else where | part
    return list(
        Statement.select(Statement, OrgNode)
        .join(OrgNode)
        .where(where)
        .order_by(Statement.period.desc(), Statement.node_path, Statement.number.desc())
        .limit(300)
    )


def listed_in_reach(actor: Actor) -> list[Statement]:
    """``in_reach`` as the list shows it: each statement's id, version, period, number,
    state, publication time and its node's name only (one prepared statement per number
    of subtrees; no lines, no node files)."""
    from engine.org.permissions import roles_of
    from engine.org.scope import path_pattern

    roles = set(roles_of("disclosures"))
    paths = sorted({g.node_path for g in actor.grants if g.role in roles})
    if not paths:
        return []
    patterns = {f"p{i}": path_pattern(p) for i, p in enumerate(paths)}
    return list(prepared(("statements.listed_in_reach", len(paths)), _listed, **patterns))


def _listed(**patterns: Any) -> Any:
    from engine.org.scope import path_like

    where = reduce(operator.or_, [path_like(Statement.node_path, p) for p in patterns.values()])
    return (
        Statement.select(
            Statement.id,
            Statement.version,
            Statement.period,
            Statement.number,
            Statement.state,
            Statement.published_at,
            OrgNode.id,
            OrgNode.name,
        )
        .join(OrgNode)
        .where(where)
        .order_by(Statement.period.desc(), Statement.node_path, Statement.number.desc())
        .limit(300)
    )
