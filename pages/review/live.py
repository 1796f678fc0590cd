"""The live board (实时预警看板): open urgent items by street with their clocks, polled."""

from __future__ import annotations

from typing import Any

from flask import g, render_template

from engine.core import clock
from engine.supervision import live as boards
from pages.auth import requires
from pages.extensions import htmx
from pages.review import bp


@bp.route("/live")
@requires("live")
def live() -> Any:
    """The whole page; the board's own poll (every 15 s) gets the board alone."""
    now = clock.now()
    context = {"groups": boards.live_board(g.actor, now=now), "now": now}
    if htmx and htmx.target == "live-board":
        return render_template("review/_live.html", **context)
    return render_template("review/live.html", **context)
