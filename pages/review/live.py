"""The live board (实时预警看板): open urgent items by street with their clocks, polled.

The board shows each street's ``FIRST`` most urgent rows and a link to the street's own
board (``?street=<key>``), paged by ``PAGE``: a street supervisor's first screen is the
rows that need them now, not two hundred to scroll past every 15 seconds.
"""

from __future__ import annotations

from typing import Any

from flask import g, render_template, request
from markupsafe import Markup, escape

from engine.core import clock
from engine.supervision import live as boards
from pages.auth import requires
from pages.extensions import htmx
from pages.guards import page_arg
from pages.links import id_url
from pages.plainwords import _, duration
from pages.review import bp

FIRST = 10  # rows of each street on the whole board
PAGE = 50  # rows of a page of one street's board
OUTSIDE = "-"  # the ``street`` of items outside any street


@bp.route("/live")
@requires("live")
def live() -> Any:
    """The whole page; the board's own poll (every 15 s) gets the board alone, with the
    same street and page."""
    now = clock.now()
    board = boards.live_board(g.actor, now=now)
    street = request.args.get("street") or None
    page = page_arg(PAGE)
    groups = [one for one in board.groups if _key(one) == street] if street else board.groups
    context = {
        "groups": live_lines(groups, page=page if street else None),
        "cut": board.cut,
        "limit": boards.LIMIT,
        "street": street,
        "page": page.number,
        "now": now,
    }
    if htmx and htmx.target == "live-board":
        return render_template("review/_live.html", **context)
    return render_template("review/live.html", **context)


def _key(group: boards.StreetGroup) -> str:
    return group.street.key if group.street else OUTSIDE


def live_lines(groups: list[boards.StreetGroup], *, page: Any = None) -> list[dict[str, Any]]:
    """What the board shows of each street, its rows as the table's ``<tr>`` escaped here
    (``rows``) rather than by calls, formatted translations and escapes per cell of the
    template: a district's board shows ten rows of each of its streets, 180 at 18. Each
    street's ``FIRST`` rows, or (one street's board) the rows of ``page``: only those put
    in words."""
    item_url = id_url("work.item", "item_id")
    elapsed, left, late = _("%(d)s elapsed"), _("%(d)s left"), _("overdue by %(d)s")
    no_deadline = f'<span class="muted">{escape(_("no deadline"))}</span>'
    shown = []
    for group in groups:
        if page is None:
            chosen, more = group.rows(0, FIRST), group.open > FIRST
        else:
            chosen, more = page.split(group.rows(page.offset, page.offset + page.limit))
        rows = []
        for r in chosen:
            if r.remaining is None:
                deadline = no_deadline
            elif r.overdue:
                words = late % {"d": duration(-r.remaining)}
                deadline = f'<strong class="late">{escape(words)}</strong>'
            else:
                deadline = escape(left % {"d": duration(r.remaining)})
            rows.append(
                f'<tr class="{"overdue" if r.overdue else ""}">'
                f'<td><a href="{escape(item_url(r.item["id"]))}">'
                f"{escape(r.item['title'] or r.type_name)}</a>"
                f'<br><span class="muted small">{escape(r.type_name)}</span></td>'
                f"<td>{escape(r.compound)}</td><td>{escape(r.state_label)}</td>"
                f"<td>{escape(elapsed % {'d': duration(r.elapsed)})}</td>"
                f"<td>{deadline}</td></tr>\n"
            )
        shown.append(
            {
                "key": _key(group),
                "street": group.street.name if group.street else _("Outside any street"),
                "open": _("%(n)s open", n=group.open),
                "all": group.open,
                "overdue": _("%(n)s overdue", n=group.overdue) if group.overdue else None,
                "rows": Markup("".join(rows)),
                "more": more,
            }
        )
    return shown
