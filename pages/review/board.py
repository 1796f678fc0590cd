"""The overdue board (超期看板) and the items behind each of its counts."""

from __future__ import annotations

from typing import Any

from flask import abort, g, render_template, request

from engine.core import clock
from engine.org.scope import NODE_COLUMNS
from engine.store.models import OrgNode
from engine.store.prepared import prepared
from engine.supervision import board as boards
from engine.supervision import board_items
from engine.workflow import listed
from pages.auth import requires
from pages.extensions import htmx
from pages.guards import page_arg
from pages.review import _supervises, bp, chosen_node

# Items a page behind a board count lists, with a link to the next page (it listed the
# first 200 and counted them as if they were all: a department at a million items is
# late on thousands; each row carries an urge form per late summons).
OVERDUE_PAGE = 50
# Rows a page of the board shows, most overdue first, with a link to the next page: the
# board by compound listed every compound on one page (1,000 rows at a district of 1,000
# compounds, 24 ms to build and a screen no one reads to the end).
BOARD_PAGE = 50


def _level() -> str:
    level = request.args.get("level", "street")
    return level if level in boards.LEVELS else "street"


@bp.route("/overdue")
@requires("supervise")
def overdue() -> Any:
    """Open and overdue counts at one level, optionally inside one area."""
    now = clock.now()
    level = _level()
    within = chosen_node(request.args.get("within"))
    page = page_arg(BOARD_PAGE)
    every = boards.board(g.actor, level, now=now, within=within)
    rows, more = page.split(every[page.offset : page.offset + page.limit])
    if page.number > 1 and not rows:
        abort(404)  # past the last page
    context = {
        "rows": rows,
        "total": len(every),
        "page": page.number,
        "first": page.offset + 1,
        "more": more,
        "level": level,
        "levels": boards.LEVELS,
        "within": within,
        "now": now,
    }
    if htmx and htmx.target == "board":
        return render_template("review/_board.html", **context)
    return render_template("review/board.html", **context)


@bp.route("/overdue/<level>/<key>")
@requires("supervise")
def overdue_items(level: str, key: str) -> Any:
    """The overdue items behind one count of the board."""
    if level not in boards.LEVELS:
        abort(404)
    node = next(
        iter(prepared("board.node", _node_of_kind, node_key=key, kind=level)), None
    )  # without its file
    if node is None:
        abort(404)
    within = chosen_node(request.args.get("within"))
    if level != "department" and not _supervises(node):
        abort(404)  # an area outside what the actor supervises
    page = page_arg(OVERDUE_PAGE)
    now = clock.now()
    rows, more = page.split(
        board_items.overdue_items(
            g.actor, level, node, now=now, within=within, limit=page.limit, offset=page.offset
        )
    )
    return render_template(
        "review/board_items.html",
        node=node,
        level=level,
        within=within,
        rows=rows,
        page=page.number,
        more=more,
        now=now,
        late=board_items.late_summons(g.actor, rows, now=now),
        definitions=listed.definitions(),  # one query, not one per row
    )


def _node_of_kind(node_key: Any, kind: Any) -> Any:
    return OrgNode.select(*NODE_COLUMNS).where((OrgNode.key == node_key) & (OrgNode.kind == kind))
