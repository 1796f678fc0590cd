"""/r — residents, mobile first: ring the bell, report a repair, follow and rate."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine import items, queues
from engine.models import Item, OrgNode
from pages.auth import requires
from pages.itemviews import detail_context, raisable_types, raise_page, transition_page

bp = Blueprint("resident", __name__, url_prefix="/r")


def _home_node() -> OrgNode:
    """The compound (or building) the resident belongs to; ?node= picks among several."""
    grants = g.actor.grants_for("resident")
    if not grants:
        abort(403)
    wanted = request.values.get("node")
    grant = next((x for x in grants if x.node_key == wanted), grants[0])
    return OrgNode.get_by_id(grant.node_id)


@bp.route("/")
@requires("resident")
def home() -> Any:
    node = _home_node()
    mine = queues.inbox(g.actor, queues.Filters(open_only=False, mine=True))
    return render_template("resident/home.html", node=node, types=raisable_types(node), mine=mine)


@bp.route("/new/<type_key>", methods=["GET", "POST"])
@requires("resident")
def new(type_key: str) -> Any:
    node = _home_node()

    def done(item: Item) -> Any:
        flash(_("Sent. Your commissioner has been told."))
        return redirect(url_for("resident.item", item_id=item.id), 303)

    return raise_page(node, type_key, "resident/new.html", done)


@bp.route("/items/<int:item_id>")
@requires("resident")
def item(item_id: int) -> Any:
    found = items.get_item(g.actor, item_id)
    return render_template("resident/item.html", **detail_context(found, audience="resident"))


@bp.route("/items/<int:item_id>/t/<key>", methods=["GET", "POST"])
@requires("resident")
def take(item_id: int, key: str) -> Any:
    found = items.get_item(g.actor, item_id)
    return transition_page(found, key, "resident/transition.html", "resident.item")


from pages import accounts as _accounts  # noqa: F401  (statements: routes on /r and /work)
from pages import listings as _listings  # noqa: F401  (listings: routes on /r and /work)
