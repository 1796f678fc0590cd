"""Listings: neighbours helping each other on /r/help (邻里互助), needs and resources matched
on /work/cobuild (需求清单/资源清单) — engine/residents/listings.py and matching.py."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.core import clock
from engine.core.errors import ServiceError
from engine.org.scope import nodes_under
from engine.residents import listings as ls
from engine.residents import matching
from engine.store.models import OrgNode
from engine.store.resident_tables import Listing
from pages.accounts import shown_answers
from pages.auth import requires
from pages.itemviews import bind, submit
from pages.resident import _home_node
from pages.resident import bp as resident_bp
from pages.work import bp as work_bp


def listing_states() -> dict[str, str]:
    return {
        "open": _("Waiting for someone"),
        "taken": _("Taken up"),
        "done": _("Done"),
        "matched": _("Matched"),
        "withdrawn": _("Withdrawn"),
    }


def side_labels(body: dict[str, Any]) -> dict[str, str]:
    return {s["key"]: s["label"] for s in body["sides"]}


def detail(listing: Listing, template: str, back: str) -> Any:
    body = ls.body_of(listing)
    who = ls.role_in(g.actor, listing)
    mine_confirmed = (
        listing.poster_confirmed_at
        if who == "poster"
        else listing.taker_confirmed_at
        if who == "taker"
        else None
    )
    rated = (
        listing.poster_rating
        if who == "poster"
        else listing.taker_rating
        if who == "taker"
        else None
    )
    return render_template(
        template,
        listing=listing,
        body=body,
        side=ls.side_of(body, listing.side),
        answers=shown_answers(body, listing.data or {}),
        states=listing_states(),
        who=who,
        may_take=ls.may_take(g.actor, listing, body),
        may_confirm=who is not None and listing.state == "taken" and mine_confirmed is None,
        may_rate=who is not None
        and listing.state == "done"
        and bool(body.get("rating"))
        and rated is None,
        back=back,
        partner=Listing.get_or_none(Listing.id == listing.partner_id)
        if listing.partner_id
        else None,
    )


def act(listing_id: int, action: Any, done: str, endpoint: str) -> Any:
    listing = ls.get_listing(g.actor, listing_id)
    try:
        action(listing)
    except ServiceError as exc:
        flash(exc.message, "error")
    else:
        flash(done)
    return redirect(url_for(endpoint, listing_id=listing.id), 303)


def post_page(key: str, side_key: str, node: OrgNode, template: str, endpoint: str) -> Any:
    version = next((v for v in ls.definitions() if v.definition.key == key), None)
    if version is None:
        abort(404)
    body = version.body
    side = ls.side_of(body, side_key)
    if not ls.may_post(g.actor, body, side, node):
        abort(403)  # before bind(): a refused request stores none of its files
    bound = bind(body["schema"], {"node": {"key": node.key, "kind": node.kind, "name": node.name}})

    def done(data: dict[str, Any]) -> Any:
        listing = ls.post(g.actor, key, side_key, node, data, now=clock.now())
        flash(_("Posted."))
        return redirect(url_for(endpoint, listing_id=listing.id), 303)

    result, loose = submit(bound, done)
    if result is not None:
        return result
    status = 422 if request.method == "POST" and not request.form.get("_refresh") else 200
    return render_template(
        template, bound=bound, body=body, side=side, node=node, loose=loose
    ), status


# -- residents: 邻里互助 ------------------------------------------------------------------


def _taking_part(body: dict[str, Any]) -> bool:
    roles = g.actor.roles
    return any(
        set(s["post_roles"]) & roles or set(s.get("take_roles") or []) & roles
        for s in body["sides"]
    )


@resident_bp.route("/help")
@requires("resident")
def help_home() -> Any:
    node = _home_node()
    boards = []
    for version in ls.definitions():
        body = version.body
        if not _taking_part(body):
            continue
        boards.append(
            {
                "key": version.definition.key,
                "body": body,
                "sides": side_labels(body),
                "posts": [s for s in body["sides"] if ls.may_post(g.actor, body, s, node)],
                "open": ls.visible_of(g.actor, version),
            }
        )
    return render_template(
        "resident/help.html",
        node=node,
        boards=boards,
        mine=ls.mine(g.actor),
        states=listing_states(),
    )


@resident_bp.route("/help/new/<key>/<side>", methods=["GET", "POST"])
@requires("resident")
def help_new(key: str, side: str) -> Any:
    return post_page(key, side, _home_node(), "resident/listing_new.html", "resident.help_listing")


@resident_bp.route("/help/<int:listing_id>")
@requires("resident")
def help_listing(listing_id: int) -> Any:
    return detail(
        ls.get_listing(g.actor, listing_id), "resident/listing.html", url_for("resident.help_home")
    )


@resident_bp.route("/help/<int:listing_id>/take", methods=["POST"])
@requires("resident")
def help_take(listing_id: int) -> Any:
    return act(
        listing_id,
        lambda x: ls.take(g.actor, x, now=clock.now()),
        _("Thank you! The neighbour has been told."),
        "resident.help_listing",
    )


@resident_bp.route("/help/<int:listing_id>/confirm", methods=["POST"])
@requires("resident")
def help_confirm(listing_id: int) -> Any:
    return act(
        listing_id,
        lambda x: ls.confirm_done(g.actor, x, now=clock.now()),
        _("Confirmed."),
        "resident.help_listing",
    )


@resident_bp.route("/help/<int:listing_id>/rate", methods=["POST"])
@requires("resident")
def help_rate(listing_id: int) -> Any:
    return act(
        listing_id,
        lambda x: ls.rate(g.actor, x, request.form.get("stars"), now=clock.now()),
        _("Thank you for rating."),
        "resident.help_listing",
    )


@resident_bp.route("/help/<int:listing_id>/withdraw", methods=["POST"])
@requires("resident")
def help_withdraw(listing_id: int) -> Any:
    return act(
        listing_id,
        lambda x: ls.withdraw(g.actor, x, now=clock.now()),
        _("Withdrawn."),
        "resident.help_listing",
    )


# -- co-building: needs and resources (需求清单/资源清单) ---------------------------------


def _post_choices(body: dict[str, Any]) -> list[tuple[dict[str, Any], list[OrgNode]]]:
    """Each side with the nodes (the first 1,000 by name) where the actor may post it: of
    its kinds, under a grant of one of its posting roles."""
    out = []
    for side in body["sides"]:
        kinds = tuple(side.get("node_kinds", ["compound"]))
        paths = [gr.node_path for gr in g.actor.grants if gr.role in side["post_roles"]]
        nodes = [
            n for n in nodes_under(paths, kinds, most=1000) if ls.may_post(g.actor, body, side, n)
        ]
        if nodes:
            out.append((side, nodes))
    return out


@work_bp.route("/cobuild")
@requires("cobuild")
def cobuild() -> Any:
    boards = []
    for version in ls.definitions():
        body = version.body
        if not body.get("matching"):
            continue
        key = version.definition.key
        rows = ls.visible_of(g.actor, version, states=("open", "matched"))
        boards.append(
            {
                "key": key,
                "body": body,
                "sides": side_labels(body),
                "needs": [x for x in rows if x.side == body["matching"]["need"]],
                "resources": [x for x in rows if x.side == body["matching"]["resource"]],
                "suggestions": [
                    (s, matching.may_confirm(g.actor, s.need, body))
                    for s in matching.suggestions(g.actor, key, rows)
                ],
                "posts": _post_choices(body),
            }
        )
    return render_template("work/cobuild.html", boards=boards, states=listing_states())


@work_bp.route("/cobuild/new/<key>/<side>", methods=["GET", "POST"])
@requires("cobuild")
def cobuild_new(key: str, side: str) -> Any:
    node = OrgNode.get_or_none(OrgNode.key == request.values.get("node", ""))
    if node is None:
        abort(404)
    return post_page(key, side, node, "work/listing_new.html", "work.cobuild_listing")


@work_bp.route("/cobuild/<int:listing_id>")
@requires("cobuild")
def cobuild_listing(listing_id: int) -> Any:
    return detail(ls.get_listing(g.actor, listing_id), "work/listing.html", url_for("work.cobuild"))


@work_bp.route("/cobuild/<int:listing_id>/withdraw", methods=["POST"])
@requires("cobuild")
def cobuild_withdraw(listing_id: int) -> Any:
    """Whoever posted an open need or resource takes it back (as neighbours do on /r/help)."""
    return act(
        listing_id,
        lambda x: ls.withdraw(g.actor, x, now=clock.now()),
        _("Withdrawn."),
        "work.cobuild_listing",
    )


@work_bp.route("/cobuild/match", methods=["POST"])
@requires("cobuild.match")
def cobuild_match() -> Any:
    try:
        need = ls.get_listing(g.actor, int(request.form.get("need", "0") or 0))
        resource = ls.get_listing(g.actor, int(request.form.get("resource", "0") or 0))
        matching.confirm(g.actor, need, resource, now=clock.now())
    except ValueError:
        abort(404)
    except ServiceError as exc:
        flash(exc.message, "error")
        return redirect(url_for("work.cobuild"), 303)
    flash(_("Matched. The project is on the compound's coordination list."))
    return redirect(url_for("work.cobuild_listing", listing_id=need.id), 303)
