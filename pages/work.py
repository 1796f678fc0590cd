"""/work — commissioners, the three parties and departments: inbox, items, summons."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup, escape

from engine.core import clock
from engine.core.errors import ServiceError
from engine.definitions.definitions import applies_for
from engine.definitions.runtimes import runtime
from engine.metrics import dashboard as boards
from engine.org.org import node_by_key
from engine.store.models import Item, OrgNode
from engine.workflow import items, queues
from pages.auth import requires
from pages.extensions import htmx, localtime, state_label, summons_pill
from pages.guards import int_arg
from pages.itemviews import (
    detail_context,
    raisable_types,
    raise_page,
    summons_action,
    transition_page,
)
from pages.links import id_url

bp = Blueprint("work", __name__, url_prefix="/work")


# The summons the item list shows above the items: the nearest deadlines, with a link to
# the summons tab when there are more (fifty of them pushed the items a screen down).
SUMMONS_PREVIEW = 10


@bp.route("/")
@requires("work")
def inbox() -> Any:
    """The landing queue: items by deadline, or for departments their summons list."""
    filters = queues.Filters(
        state=request.args.get("state") or None,
        type=request.args.get("type") or None,
        open_only=request.args.get("all") != "1",
    )
    page = int_arg("page", 1, minimum=1, maximum=queues.MAX_PAGE)
    view = request.args.get("view")
    if view not in ("items", "summons"):
        view = "summons" if queues.summons_first(g.actor) else "items"
    compounds = [g_ for g_ in g.actor.grants if g_.node_kind == "compound"]
    context: dict[str, Any] = {
        "view": view,
        "filters": filters,
        "page": page,
        "now": clock.now(),
        "compounds": compounds,
    }
    if view == "summons":
        found = queues.summons_rows(g.actor, open_only=filters.open_only, page=page)
        context["summons"] = summons_lines(found, context["now"])
        if htmx and htmx.target == "summons-rows":
            return render_template("work/_summons_rows.html", **context)
        return render_template("work/inbox.html", **context)
    rows = queues.inbox_rows(g.actor, filters, queues.INBOX_SHOWN, page=page)
    context["rows"] = inbox_lines(rows, context["now"])
    # the item list's first page shows the nearest summons deadlines; the tab has them all
    preview = queues.summons_rows(g.actor, most=SUMMONS_PREVIEW + 1) if page == 1 else []
    context["summons"] = summons_lines(preview[:SUMMONS_PREVIEW], context["now"])
    context["more_summons"] = len(preview) > SUMMONS_PREVIEW
    context["usage"] = (
        boards.compound_usage([c.node_id for c in compounds]) if compounds and page == 1 else []
    )
    context["types"] = [
        d
        for d in queues.item_types()
        if d.published and applies_for(g.actor, runtime(d.published).body)
    ]
    if htmx and htmx.target == "inbox-rows":
        return render_template("work/_inbox_rows.html", **context)
    return render_template("work/inbox.html", **context)


def inbox_lines(rows: list[Any], now: Any) -> list[dict[str, Any]]:
    """What the inbox shows of each row, worked out here rather than by a call or filter
    per cell of the template (fifty rows: a third of the page)."""
    item_url = id_url("work.item", "item_id")
    lines = []
    for row in rows:
        due = row.due_at
        lines.append(
            {
                "id": row.id,
                "url": item_url(row.id),
                "title": row.title,
                "urge_count": row.urge_count,
                "type_name": row.definition.name,
                "node_name": row.node.name,
                "state": state_label(row),
                "due": localtime(due),
                "overdue": not row.closed and due is not None and due < now,
            }
        )
    return lines


def _rows_html(lines: list[dict[str, Any]], cells: Callable[[dict[str, Any], str], str]) -> Markup:
    """Each line's ``<tr>``, escaped here: its cells (``cells(line, urge badge)``), then
    its deadline with the overdue flag where due. The template's loop over fifty rows'
    cells cost 0.5 ms, this 0.2."""
    urged, overdue = escape(_("Urged")), escape(_("Overdue"))
    rows = []
    for line in lines:
        late, urges = line["overdue"], line["urge_count"]
        badge = f' <span class="urged">{urged} ×{urges}</span>' if urges else ""
        flag = f' <span class="overdue-flag">{overdue}</span>' if late else ""
        rows.append(
            f'<tr class="{"overdue" if late else ""}">{cells(line, badge)}'
            f"<td>{escape(line['due'])}{flag}</td></tr>\n"
        )
    return Markup("".join(rows))


@bp.app_template_global()
def inbox_html(lines: list[dict[str, Any]]) -> Markup:
    """The item list's rows (``inbox_lines``) as the table's ``<tr>``."""
    return _rows_html(
        lines,
        lambda line, badge: (
            f"<td>{line['id']}</td>"
            f'<td><a href="{escape(line["url"])}">{escape(line["title"])}</a>{badge}'
            f'<br><small class="muted">{escape(line["type_name"])}</small></td>'
            f"<td>{escape(line['node_name'])}</td>"
            f'<td><span class="pill">{escape(line["state"])}</span></td>'
        ),
    )


@bp.app_template_global()
def summons_html(lines: list[dict[str, Any]]) -> Markup:
    """The summons list's rows (``summons_lines``) as the table's ``<tr>``."""
    return _rows_html(
        lines,
        lambda line, badge: (
            f'<td><a href="{escape(line["url"])}">#{line["item_id"]} '
            f"{escape(line['title'])}</a>{badge}</td>"
            f"<td>{escape(line['unit_name'])}</td><td>{escape(line['state'])}</td>"
        ),
    )


def summons_lines(rows: list[Any], now: Any) -> list[dict[str, Any]]:
    """What the summons list shows of each summons (``queues.summons_rows``), worked out
    here as ``inbox_lines`` does for items."""
    item_url = id_url("work.item", "item_id")
    lines = []
    for row in rows:
        due = row.next_due_at
        lines.append(
            {
                "item_id": row.item_id,
                "url": item_url(row.item_id),
                "title": row.item.title,
                "urge_count": row.urge_count,
                "unit_name": row.unit.name,
                "state": summons_pill(row.state),
                "due": localtime(due),
                "overdue": due is not None and due < now,
            }
        )
    return lines


# What the chooser and may_raise read of the node: not its file (a fifth of the page).
CHOOSER_FIELDS = (OrgNode.id, OrgNode.key, OrgNode.name, OrgNode.kind, OrgNode.path)


@bp.route("/new")
@requires("work")
def choose() -> Any:
    node = node_by_key(request.args.get("node", ""), *CHOOSER_FIELDS)
    return render_template("work/choose.html", node=node, types=raisable_types(node))


@bp.route("/new/<type_key>", methods=["GET", "POST"])
@requires("work")
def new(type_key: str) -> Any:
    node = node_by_key(request.values.get("node", ""))

    def done(item: Item) -> Any:
        flash(_("Raised: %(title)s", title=item.title))
        return redirect(url_for("work.item", item_id=item.id), 303)

    return raise_page(node, type_key, "work/new.html", done)


@bp.route("/items/<int:item_id>")
@requires("work")
def item(item_id: int) -> Any:
    found = items.get_item(g.actor, item_id)
    return render_template("work/item.html", **detail_context(found))


@bp.route("/items/<int:item_id>/personal", methods=["POST"])
@requires("work")
def reveal(item_id: int) -> Any:
    """Show the item's personal data whole to one who needs it (audited)."""
    found = items.get_item(g.actor, item_id)
    context = detail_context(found, reveal=True)
    if htmx:
        return render_template("items/_data.html", **context)
    return render_template("work/item.html", **context)


def refused_on_item(item_id: int, exc: ServiceError, kept: dict[str, Any]) -> Any:
    """The item page again after a refused action, with what the user typed (``kept``)
    back in its form, or, if that form is gone (the summons closed), shown to copy."""
    found = items.get_item(g.actor, item_id)
    return render_template(
        "work/item.html", **detail_context(found), refusal=exc.message, kept=kept
    ), exc.status


@bp.route("/items/<int:item_id>/t/<key>", methods=["GET", "POST"])
@requires("work")
def take(item_id: int, key: str) -> Any:
    found = items.get_item(g.actor, item_id)
    return transition_page(found, key, "work/transition.html", "work.item")


@bp.route("/summons/<int:assignment_id>/<action>", methods=["POST"])
@requires("work")
def summons(assignment_id: int, action: str) -> Any:
    if action not in ("report_in", "complete", "decline"):
        abort(404)
    try:
        assignment = summons_action(assignment_id, action)
    except ServiceError as exc:
        if exc.status in (403, 404):
            raise
        item_id = int_arg("item", source=request.form, minimum=1)
        if item_id:
            return refused_on_item(
                item_id, exc, {"summons": assignment_id, "reply": request.form.get("reply", "")}
            )
        flash(exc.message, "error")
        return redirect(url_for("work.inbox"), 303)
    flash(_("Done."))
    return redirect(url_for("work.item", item_id=assignment.item_id), 303)
