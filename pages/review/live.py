"""The live board (实时预警看板): open urgent items by street with their clocks, polled."""

from __future__ import annotations

from typing import Any

from flask import g, render_template

from engine.core import clock
from engine.supervision import live as boards
from pages.auth import requires
from pages.extensions import htmx
from pages.links import id_url
from pages.plainwords import _, duration
from pages.review import bp


@bp.route("/live")
@requires("live")
def live() -> Any:
    """The whole page; the board's own poll (every 15 s) gets the board alone."""
    now = clock.now()
    context = {"groups": live_lines(boards.live_board(g.actor, now=now)), "now": now}
    if htmx and htmx.target == "live-board":
        return render_template("review/_live.html", **context)
    return render_template("review/live.html", **context)


def live_lines(groups: list[boards.StreetGroup]) -> list[dict[str, Any]]:
    """What the board shows of each street and row, worked out here rather than by calls
    and formatted translations per cell of the template (a board holds up to 200 rows:
    about half the page's time went to them)."""
    item_url = id_url("work.item", "item_id")
    elapsed, left, late = _("%(d)s elapsed"), _("%(d)s left"), _("overdue by %(d)s")
    shown = []
    for group in groups:
        rows = []
        for r in group.rows:
            if r.remaining is None:
                deadline = None
            elif r.overdue:
                deadline = late % {"d": duration(-r.remaining)}
            else:
                deadline = left % {"d": duration(r.remaining)}
            rows.append(
                {
                    "url": item_url(r.item["id"]),
                    "title": r.item["title"] or r.type_name,
                    "type_name": r.type_name,
                    "compound": r.compound,
                    "state": r.state_label,
                    "elapsed": elapsed % {"d": duration(r.elapsed)},
                    "deadline": deadline,
                    "overdue": r.overdue,
                }
            )
        shown.append(
            {
                "street": group.street.name if group.street else _("Outside any street"),
                "open": _("%(n)s open", n=len(rows)),
                "overdue": _("%(n)s overdue", n=group.overdue) if group.overdue else None,
                "rows": rows,
            }
        )
    return shown
