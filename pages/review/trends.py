"""/review/n/<key>/yearly/<type> — an item type's count per month, this year against last
year (同比), for an area and each area under it: the petitions' trend per street."""

from __future__ import annotations

from typing import Any

from flask import abort, g, render_template
from flask_babel import gettext as _
from markupsafe import Markup

from engine.core import clock
from engine.definitions.definitions import current_versions
from engine.metrics import facts, yearly
from engine.org.scope import may_review
from engine.store.models import DefinitionVersion
from pages import charts
from pages.auth import requires
from pages.review import bp

AREAS = ("district", "street", "community", "compound")


def yearly_types() -> list[DefinitionVersion]:
    """The item types whose definitions ask for a year-over-year trend."""
    return [v for v in current_versions("item_type") if v.body.get("year_over_year")]


def change(facts: dict[str, Any] | None) -> Markup:
    """The change on last year in words: falling good, rising bad, a dash when unknown."""
    rate = facts.get("year_change_rate") if facts else None
    if rate is None:
        return Markup("–")
    tone = "good" if rate < 0 else "bad" if rate > 0 else ""
    return Markup(f'<span class="{tone}">{rate:+.1f}%</span>')


def _month_cells(this: list[int], last: list[int]) -> Markup:
    """A row's twelve month cells: this year's count (a dash after this month) over last
    year's; counts only, so nothing to escape (the template's loop was a tenth of the page)."""
    dash = '<span class="muted">–</span>'
    return Markup(
        "".join(
            f'<td>{this[m] if m < len(this) else dash}<br><span class="muted small">{last[m]}</span></td>'
            for m in range(12)
        )
    )


@bp.route("/n/<key>/yearly/<type_key>")
@requires("dashboards")
def yearly_trend(key: str, type_key: str) -> Any:
    node, children = yearly.area_with_children(key)
    if node is None or not may_review(g.actor, node):
        abort(404)
    body = yearly.trend_type(type_key)
    if body is None:
        abort(404)
    now = clock.now()
    areas = [c for c in children if c.kind in AREAS]
    counts = yearly.monthly(type_key, [node, *areas], now=now)
    docs = facts.cached_many([node.id, *(a.id for a in areas)])
    b = yearly.bounds(now)
    months = clock.local(now).month  # type: ignore[union-attr]
    labels = (
        _("This year (%(year)s)", year=b.this_year),
        _("Last year (%(year)s)", year=b.this_year - 1),
    )

    def row(area: Any) -> dict[str, Any]:
        found = counts[area.id]
        doc = (docs.get(area.id) or {}).get("by_type", {}).get(type_key, {})
        return {
            "node": area,
            "this": found["this"][:months],
            "last": found["last"],
            "cells": _month_cells(found["this"][:months], found["last"]),
            "facts": doc or None,
            "change": change(doc or None),
            "chart": charts.year_lines(
                found["this"],
                found["last"],
                months=months,
                labels=labels,
                title=area.name,
                width=320,
                height=120,
            ),
        }

    return render_template(
        "review/yearly.html",
        node=node,
        name=body["name"],
        type_key=type_key,
        whole=row(node),
        rows=[row(a) for a in areas],
        months=months,
        labels=labels,
        chart=charts.year_lines(
            counts[node.id]["this"],
            counts[node.id]["last"],
            months=months,
            labels=labels,
            title=node.name,
        ),
    )
