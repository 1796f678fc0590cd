"""Offers and requests (邻里互助), needs and resources (需求清单/资源清单).

A listing is posted on one side of a ``listing`` definition through the definition's
generated form; it is seen within the compound (or the community, the street) the
definition's ``visibility`` names; someone takes it up, both sides confirm it happened,
and each may rate the other. Needs and resources are paired by ``engine.residents.matching``.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Iterable, Mapping
from functools import reduce
from typing import Any

import forms
from engine.core import i18n
from engine.core.errors import Conflict, FieldProblem, Forbidden, Invalid, NotFound
from engine.core.i18n import gettext as _
from engine.core.memo import peek, remember
from engine.definitions.definitions import applies_at, current_version, current_versions
from engine.delivery.notify import notify_users
from engine.org.actors import Actor
from engine.org.scope import NODE_COLUMNS, path_like, path_pattern
from engine.records import attachments
from engine.store.db import write_transaction
from engine.store.models import Definition, DefinitionVersion, OrgNode, User
from engine.store.prepared import prepared, prepared_cursor
from engine.store.resident_tables import Listing
from engine.trail import audit

AREA_KINDS = ("district", "street", "community", "compound")


def definitions() -> list[DefinitionVersion]:
    return current_versions("listing", by_key=True)


def side_of(body: Mapping[str, Any], key: str) -> dict[str, Any]:
    """:raises NotFound: the definition has no such side."""
    for side in body["sides"]:
        if side["key"] == key:
            return dict(side)
    raise NotFound(_("Not found."))


def body_of(listing: Listing) -> dict[str, Any]:
    from engine.definitions.runtimes import runtime

    return dict(runtime(listing.version_id).body)  # versions never change: cached


def area_path(body: Mapping[str, Any], node_path: str) -> str:
    """The path of the area a listing at ``node_path`` is seen in: its ancestor (or itself)
    of the definition's ``visibility`` kind; a listing posted above that kind (a street's
    resource in a community-wide list) is seen in its own subtree."""
    return area_paths(body, [node_path])[node_path]


def area_paths(body: Mapping[str, Any], node_paths: Iterable[str]) -> dict[str, str]:
    """``area_path`` of each of ``node_paths``, in one query for those this request has not
    looked up yet (a list asks for every grant's and every listing's)."""
    kind = body.get("visibility", "compound")
    out: dict[str, str] = {}
    wanted: dict[str, list[str]] = {}
    for node_path in node_paths:
        kept = peek(("area_path", kind, node_path))
        if kept is not None:
            out[node_path] = kept
        elif node_path not in wanted:
            parts = node_path.strip("/").split("/")
            wanted[node_path] = ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]
    if not wanted:
        return out
    prefixes = sorted({p for ps in wanted.values() for p in ps})
    values = {f"p{i}": p for i, p in enumerate(prefixes)}
    found = {
        path
        for (path,) in prepared_cursor(
            ("listings.area_paths", len(prefixes)), _areas_among, kind=kind, **values
        )
    }
    for node_path, ps in wanted.items():
        area = next((p for p in ps if p in found), node_path)
        remember(("area_path", kind, node_path), area)
        out[node_path] = area
    return out


def _areas_among(kind: Any, **prefixes: Any) -> Any:
    return OrgNode.select(OrgNode.path).where(
        OrgNode.path.in_(list(prefixes.values())) & (OrgNode.kind == kind)
    )


def _grant_in(grant_path: str, area: str) -> bool:
    return grant_path.startswith(area) or area.startswith(grant_path)


def may_see(actor: Actor, listing: Listing, body: Mapping[str, Any]) -> bool:
    """Whoever is granted inside the listing's area, or above it, sees it; and its two sides."""
    if actor.user.id in (listing.posted_by_id, listing.taken_by_id):
        return True
    area = area_path(body, listing.node_path)
    return any(_grant_in(g.node_path, area) and g.node_kind != "department" for g in actor.grants)


def holds_in(actor: Actor, roles: Any, area: str) -> bool:
    """Whether ``actor`` holds one of ``roles`` inside ``area`` (or above it)."""
    return any(g.role in (roles or ()) and _grant_in(g.node_path, area) for g in actor.grants)


def may_post(actor: Actor, body: Mapping[str, Any], side: Mapping[str, Any], node: OrgNode) -> bool:
    return (
        node.kind in side.get("node_kinds", ["compound"])
        and applies_at(body, node.path)
        and any(actor.reaches(r, node.path) for r in side["post_roles"])
    )


def get_listing(actor: Actor, listing_id: int) -> Listing:
    """:raises NotFound: no such listing, or not one ``actor`` sees (no existence leak)."""
    found = Listing.get_or_none(Listing.id == listing_id)
    if found is None or not may_see(actor, found, body_of(found)):
        raise NotFound(_("Not found."))
    return found


@attachments.record_kind("listing")
def may_read_listing(actor: Actor, listing_id: int) -> bool:
    """Who sees the listing sees its files."""
    try:
        get_listing(actor, listing_id)
    except NotFound:
        return False
    return True


def visible(actor: Actor, key: str, *, states: tuple[str, ...] = ("open",)) -> list[Listing]:
    """The listings of definition ``key`` in ``states`` that ``actor`` sees, newest first:
    those in the areas their grants lie in (one query)."""
    definition = Definition.get_or_none((Definition.key == key) & (Definition.kind == "listing"))
    if definition is None or not definition.current:
        return []
    return visible_of(actor, current_version(definition), states=states)


def visible_of(
    actor: Actor, version: DefinitionVersion, *, states: tuple[str, ...] = ("open",)
) -> list[Listing]:
    """``visible`` for a current ``version`` already read (``definitions()``); the listings'
    nodes without their files (``NODE_COLUMNS``)."""
    body = version.body
    grants = [g.node_path for g in actor.grants if g.node_kind != "department"]
    areas = set(area_paths(body, grants).values())
    if not areas:
        return []
    values = {f"a{i}": path_pattern(a) for i, a in enumerate(sorted(areas))}
    values.update({f"s{i}": state for i, state in enumerate(states)})
    shape = ("listings.visible_of", len(areas), len(states))
    return list(prepared(shape, _visible_rows, definition=version.definition_id, **values))


def _visible_rows(definition: Any, **slots: Any) -> Any:
    areas = [v for k, v in slots.items() if k.startswith("a")]
    states = [v for k, v in slots.items() if k.startswith("s")]
    where = reduce(operator.or_, [path_like(Listing.node_path, a) for a in areas])
    return (
        Listing.select(Listing, *NODE_COLUMNS)
        .join(OrgNode)
        .where((Listing.definition == definition) & Listing.state.in_(states) & where)
        .order_by(Listing.posted_at.desc(), Listing.id.desc())
        .limit(200)
    )


def mine(actor: Actor) -> list[Listing]:
    """What the actor posted or took up, newest first."""
    return list(prepared("listings.mine", _mine, user=actor.user.id))


def _mine(user: Any) -> Any:
    return (
        Listing.select()
        .where((Listing.posted_by == user) | (Listing.taken_by == user))
        .order_by(Listing.posted_at.desc(), Listing.id.desc())
        .limit(100)
    )


def clean(
    body: Mapping[str, Any],
    node: OrgNode,
    actor: Actor,
    data: Any,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """The answers checked against the definition's form (a listing's, a directory entry's),
    which sees the node, the actor's roles there and, given ``now``, the time.

    :raises Invalid: paths ``data/...``.
    """
    if not isinstance(data, Mapping):
        message = _("Answers must be a JSON object.")
        raise Invalid(message, [FieldProblem("data", message)])
    context: dict[str, Any] = {
        "node": {"key": node.key, "kind": node.kind, "name": node.name},
        "actor": {"roles": sorted(actor.roles_at(node.path))},
    }
    if now is not None:
        context["now"] = now.isoformat()
    cleaned, errors = forms.validate(
        body["schema"], dict(data), context=context, gettext=i18n.gettext
    )
    if errors:
        raise Invalid(
            _("Some answers need fixing."),
            [FieldProblem(f"data/{e.path}" if e.path else "data", e.message) for e in errors],
        )
    return dict(cleaned)


def post(
    actor: Actor, key: str, side_key: str, node: OrgNode, data: Any, *, now: dt.datetime
) -> Listing:
    """Post a listing on ``side_key`` of definition ``key`` at ``node``.

    :raises NotFound: unknown definition or side. :raises Forbidden: the actor posts no such
        listing here. :raises Invalid: the answers do not pass the form.
    """
    definition = Definition.get_or_none((Definition.key == key) & (Definition.kind == "listing"))
    if definition is None or not definition.current:
        raise NotFound(_("Not found."))
    version = current_version(definition)
    body = version.body
    side = side_of(body, side_key)
    if not may_post(actor, body, side, node):
        raise Forbidden(_("You may not post this here."))
    cleaned = clean(body, node, actor, data, now)
    with write_transaction():
        listing = Listing.create(
            definition=definition,
            version=version,
            node=node,
            node_path=node.path,
            side=side_key,
            title=str(cleaned.get(body["title_field"], ""))[:300],
            category=str(cleaned.get(body.get("category_field", ""), "") or "")[:100],
            place=str(cleaned.get(body.get("place_field", ""), "") or "")[:200],
            data=cleaned,
            posted_by=actor.user,
            posted_at=now,
        )
        attachments.claim(
            attachments.ids_in(body["schema"], cleaned),
            actor,
            record=attachments.record_ref("listing", listing.id),
        )
        _audit("listing.post", listing, actor, now, after={"side": side_key, "data": cleaned})
    return listing


def _audit(action: str, listing: Listing, actor: Actor, now: dt.datetime, **kw: Any) -> None:
    audit.record(action, at=now, actor=actor.user, target=f"listing:{listing.id}", **kw)


def _write(listing: Listing, states: tuple[str, ...], **changes: Any) -> None:
    """:raises Conflict: the listing moved on since it was read (taken by someone else)."""
    changed = (
        Listing.update(lock=Listing.lock + 1, **changes)
        .where(
            (Listing.id == listing.id) & (Listing.lock == listing.lock) & Listing.state.in_(states)
        )
        .execute()
    )
    if not changed:
        raise Conflict(_("Someone else was quicker, or it changed meanwhile; reload the page."))
    for name, value in changes.items():
        setattr(listing, name, value)
    listing.lock += 1


def may_take(actor: Actor, listing: Listing, body: Mapping[str, Any]) -> bool:
    side = side_of(body, listing.side)
    return (
        listing.state == "open"
        and actor.user.id != listing.posted_by_id
        and holds_in(actor, side.get("take_roles"), area_path(body, listing.node_path))
    )


def take(actor: Actor, listing: Listing, *, now: dt.datetime) -> None:
    """Take it up (接单); the poster is told. :raises Forbidden, Conflict:"""
    body = body_of(listing)
    if listing.state != "open":
        raise Conflict(_("Someone else was quicker, or it changed meanwhile; reload the page."))
    if not may_take(actor, listing, body):
        raise Forbidden(_("You may not take this up."))
    with write_transaction():
        _write(listing, ("open",), state="taken", taken_by=actor.user, taken_at=now)
        _audit(
            "listing.take", listing, actor, now, before={"state": "open"}, after={"state": "taken"}
        )
        poster = User.get_or_none(User.id == listing.posted_by_id)
        if poster is not None:
            notify_users(
                [poster], None, _("Someone took up: %(title)s") % {"title": listing.title}, now=now
            )


def role_in(actor: Actor, listing: Listing) -> str | None:
    """``poster``, ``taker`` or None."""
    if actor.user.id == listing.posted_by_id:
        return "poster"
    if actor.user.id == listing.taken_by_id:
        return "taker"
    return None


def confirm_done(actor: Actor, listing: Listing, *, now: dt.datetime) -> None:
    """One side confirms it happened; once both have, it is done (已完成)."""
    who = role_in(actor, listing)
    if who is None:
        raise Forbidden(_("Only the two sides confirm."))
    if listing.state != "taken":
        raise Conflict(_("Only something taken up can be confirmed."))
    column = "poster_confirmed_at" if who == "poster" else "taker_confirmed_at"
    if getattr(listing, column) is not None:
        raise Conflict(_("You have already confirmed."))
    other = listing.taker_confirmed_at if who == "poster" else listing.poster_confirmed_at
    changes: dict[str, Any] = {column: now}
    if other is not None:
        changes.update(state="done", done_at=now)
    with write_transaction():
        _write(listing, ("taken",), **changes)
        _audit("listing.confirm", listing, actor, now, after={"by": who, "state": listing.state})


def rate(actor: Actor, listing: Listing, stars: Any, *, now: dt.datetime) -> None:
    """Rate the other side, 1–5, once it is done. :raises Invalid: not a whole 1–5."""
    body = body_of(listing)
    who = role_in(actor, listing)
    if who is None or not body.get("rating"):
        raise Forbidden(_("Only the two sides rate."))
    if listing.state != "done":
        raise Conflict(_("Rate once both sides confirmed it happened."))
    text = str(stars or "").strip()
    if not (text.isascii() and text.isdigit() and 1 <= int(text) <= 5):
        message = _("Choose from 1 to 5 stars.")
        raise Invalid(message, [FieldProblem("stars", message)])
    column = "poster_rating" if who == "poster" else "taker_rating"
    if getattr(listing, column) is not None:
        raise Conflict(_("You have already rated."))
    with write_transaction():
        _write(listing, ("done",), **{column: int(text)})
        _audit("listing.rate", listing, actor, now, after={"by": who, "stars": int(text)})


def withdraw(actor: Actor, listing: Listing, *, now: dt.datetime) -> None:
    """The poster withdraws an open listing (撤回)."""
    if role_in(actor, listing) != "poster":
        raise Forbidden(_("Only who posted it may withdraw it."))
    with write_transaction():
        _write(listing, ("open",), state="withdrawn")
        _audit(
            "listing.withdraw",
            listing,
            actor,
            now,
            before={"state": "open"},
            after={"state": "withdrawn"},
        )
