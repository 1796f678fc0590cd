"""/r — residents, mobile first: ring the bell, report a repair, follow and rate, and
find the people to call (叫得应). Every page speaks plain Chinese (pages/plainwords.py)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.core import clock
from engine.core.errors import Conflict, Invalid
from engine.decisions import ballots, opinions, polls
from engine.definitions.runtimes import runtime
from engine.delivery import notify
from engine.org.scope import role_labels
from engine.residents import contacts
from engine.residents.progress import next_steps, state_word
from engine.store.models import Item, OrgNode
from engine.store.prepared import prepared
from engine.workflow import items, queues
from pages.auth import requires
from pages.itemviews import detail_context, raisable_types, raise_page, transition_page
from pages.plainwords import people_times
from pages.resident_progress import progress

bp = Blueprint("resident", __name__, url_prefix="/r")

# The larger-text choice lives in a cookie of its own, so it outlasts a log-out on the
# resident's phone; a year, like any display preference.
TEXT_COOKIE = "sf_text"
TEXT_SIZES = ("normal", "large")


def _home_node(*fields: Any) -> OrgNode:
    """The compound (or building) the resident belongs to; ?node= picks among several.

    :param fields: only these columns of it (by a statement built once), else all.
    """
    grants = g.actor.grants_for("resident")
    if not grants:
        abort(403)
    wanted = request.values.get("node")
    grant = next((x for x in grants if x.node_key == wanted), grants[0])
    if not fields:
        return OrgNode.get_by_id(grant.node_id)
    found = prepared(
        ("resident.home_node", *(f.name for f in fields)),
        lambda node_id: OrgNode.select(*fields).where(OrgNode.id == node_id).limit(1),
        node_id=grant.node_id,
    )
    for node in found:
        return node
    raise OrgNode.DoesNotExist(grant.node_id)


# What the home page and ``raisable_types`` read of the node: not its file (a large
# document, decoded for nothing: a tenth of the page).
HOME_FIELDS = (OrgNode.id, OrgNode.key, OrgNode.name, OrgNode.kind, OrgNode.path)


@bp.app_template_global()
def resident_state(item: Item) -> str:
    """An item's state as its resident reads it (the definition's ``resident_label``)."""
    return state_word(runtime(item.version_id), item.state)


# What the resident's list shows of each item (``queues.inbox``'s ``fields``).
MINE_SHOWN = (Item.version, Item.title, Item.state, Item.raised_at)


@bp.route("/")
@requires("resident")
def home() -> Any:
    node = _home_node(*HOME_FIELDS)
    now = clock.now()
    mine = queues.inbox_rows(g.actor, queues.Filters(open_only=False, mine=True), MINE_SHOWN)
    # when each was sent, the reader's day worked out once (a filter per row: a tenth of
    # the page with fifty items)
    for row, sent in zip(mine, people_times([row.raised_at for row in mine], now), strict=True):
        row.sent = sent
    return render_template(
        "resident/home.html",
        node=node,
        types=raisable_types(node),
        mine=mine,
        votes=polls.polls_of_voter(g.actor.user),
        collections=opinions.for_resident(g.actor, now=now),
        now=now,
    )


@bp.route("/contacts")
@requires("contacts")
def contacts_page() -> Any:
    compound = contacts.compound_of(_home_node())
    card = contacts.card(g.actor, compound)
    return render_template("resident/contacts.html", node=compound, card=card)


@bp.route("/text-size", methods=["POST"])
@requires("resident")
def text_size() -> Any:
    size = request.form.get("size")
    if size not in TEXT_SIZES:
        abort(422)
    back = url_for("resident.home")
    response = redirect(back, 303)
    response.set_cookie(TEXT_COOKIE, size, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


@bp.route("/new/<type_key>", methods=["GET", "POST"])
@requires("resident")
def new(type_key: str) -> Any:
    node = _home_node()

    def done(item: Item) -> Any:
        told = notify.told_on_raise(item)
        if told == "handler":
            flash(_("Sent. Your commissioner has been told."))
        elif told == "someone":
            flash(_("Sent. The people who handle it have been told."))
        else:
            flash(_("Sent. It waits for the staff who handle it."))
        return redirect(url_for("resident.item", item_id=item.id), 303)

    return raise_page(node, type_key, "resident/new.html", done)


@bp.route("/items/<int:item_id>")
@requires("resident")
def item(item_id: int) -> Any:
    found = items.get_item(g.actor, item_id)
    context = detail_context(found, audience="resident", timeline=False)
    rt, assignments = context["rt"], context["assignments"]
    return render_template(
        "resident/item.html",
        **context,
        steps=progress(found, rt, context["sight"], assignments),
        next_steps=next_steps(found, rt, assignments, role_labels()),
        state_word=state_word(rt, found.state),
    )


@bp.route("/items/<int:item_id>/t/<key>", methods=["GET", "POST"])
@requires("resident")
def take(item_id: int, key: str) -> Any:
    found = items.get_item(g.actor, item_id)
    return transition_page(found, key, "resident/transition.html", "resident.item")


@bp.route("/polls/<int:poll_id>", methods=["GET", "POST"])
@requires("vote")
def poll(poll_id: int) -> Any:
    """A vote on the phone: the matter, one big button per option; the result once closed."""
    found = polls.visible(g.actor, poll_id)
    now = clock.now()
    problem = ""
    if request.method == "POST":
        try:
            ballots.cast(g.actor, found.id, request.form.getlist("choices"), now=now)
        except (Invalid, Conflict) as exc:
            problem = exc.message
        else:
            flash(_("Your vote is in. You can change it until the vote closes."))
            return redirect(url_for("resident.poll", poll_id=found.id), 303)
    mine = polls.my_ballots(g.actor.user, found)
    return render_template(
        "resident/poll.html",
        poll=found,
        category=polls.category_of(found),
        mine=mine,
        open_now=polls.is_open(found, now),
        result=polls.result_of(found) if found.closed else None,
        buildings=polls.participation(found) if polls.shows_participation(found) else [],
        choices=ballots.who_voted_what(found) if polls.shows_choices(g.actor, found) else None,
        labels={o["key"]: o["label"] for o in found.options},
        problem=problem,
    ), (409 if problem else 200)


from pages import accounts as _accounts  # noqa: F401  (statements: routes on /r and /work)
from pages import listings as _listings  # noqa: F401  (listings: routes on /r and /work)
