"""Opinion collections (征求意见): a committee or commissioner opens one at a compound with a
window; residents of the compound answer its generated form within the window, once each
(changed until it closes); the openers read them, count them, and turn one into an item."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from peewee import JOIN, fn

from engine.core import clock
from engine.core.errors import Conflict, FieldProblem, Forbidden, Invalid, NotFound
from engine.core.i18n import gettext as _
from engine.decisions import common, outcomes
from engine.decisions.defaults import ANSWERERS, DEFAULT_DAYS
from engine.definitions.definitions import Runtime, runtime
from engine.org.actors import Actor
from engine.org.scope import NODE_COLUMNS
from engine.records import attachments
from engine.store.db import write_transaction
from engine.store.decision_tables import Opinion, OpinionCollection
from engine.store.models import Item, OrgNode
from engine.store.prepared import prepared
from engine.trail import audit


def openers(actor: Actor, node: OrgNode) -> list[Runtime]:
    """The opinion definitions ``actor`` may open a collection of at ``node``."""
    return common.usable("opinion", node, actor, "open_roles")


def _local_day(value: Any, name: str) -> dt.datetime:
    """A local date (YYYY-MM-DD) or date-time as naive UTC."""
    try:
        parsed = dt.datetime.fromisoformat(str(value))
    except ValueError:
        message = _("Give a date.")
        raise Invalid(message, [FieldProblem(name, message)]) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=clock.LOCAL)
    return parsed.astimezone(dt.UTC).replace(tzinfo=None)


def open_collection(
    actor: Actor, type_key: str, node_key: str, fields: Mapping[str, Any], *, now: dt.datetime
) -> OpinionCollection:
    """Open a collection of definition ``type_key`` at ``node_key`` (audited ``opinion.open``).

    :param fields: ``title``, ``description``, ``closes_at`` (a local date or date-time; default
        the definition's ``days`` from now); it opens at ``now``.
    :raises Forbidden: the actor holds none of the definition's open roles at the node.
    :raises Invalid: a missing title, or a window that closes before it opens.
    """
    definition, version, rt, node = common.governing(
        actor,
        "opinion",
        type_key,
        node_key,
        "open_roles",
        unknown=_("No such kind of opinion collection."),
        not_here=_("%(type)s is not used at %(node)s."),
        forbidden=_("You may not open %(type)s here."),
    )
    title = common.text(fields.get("title"), "title", limit=200)
    description = common.text(fields.get("description"), "description", limit=2000, required=False)
    raw_close = fields.get("closes_at")
    if raw_close:
        closes_at = _local_day(raw_close, "closes_at")
        if len(str(raw_close)) <= 10:  # a date: open through the end of that local day
            closes_at += dt.timedelta(days=1)
    else:
        closes_at = now + dt.timedelta(days=rt.body.get("days", DEFAULT_DAYS))
    if closes_at <= now:
        message = _("The window must close after it opens.")
        raise Invalid(message, [FieldProblem("closes_at", message)])
    with write_transaction():
        collection = OpinionCollection.create(
            definition=definition,
            version=version,
            node=node,
            node_path=node.path,
            title=title,
            description=description,
            opens_at=now,
            closes_at=closes_at,
            created_by=actor.user,
            created_at=now,
        )
        audit.record(
            "opinion.open",
            at=now,
            actor=actor.user,
            target=f"opinions:{collection.id}",
            after={"title": title, "closes_at": clock.iso(closes_at), "definition": rt.key},
        )
    return collection


def is_open(collection: OpinionCollection, now: dt.datetime) -> bool:
    return collection.opens_at <= now < collection.closes_at


# -- residents ---------------------------------------------------------------------------


def _answer_paths(actor: Actor, rt_body: Mapping[str, Any] | None = None) -> list[str]:
    roles = (rt_body or {}).get("answer_roles", ANSWERERS)
    return [g.node_path for g in actor.grants if g.role in roles]


def _answerable_at(paths: list[Any]) -> Any:
    """Collections at a node where (or above where) the actor lives as a resident: at or
    above one of the nodes at ``paths`` (its resident grants' paths, texts or slots)."""
    if not paths:
        return OpinionCollection.id == 0
    cond = None
    for path in paths:
        # The collection's node is the resident's node or one above it (a building's
        # resident answers the compound's collections): the grant path starts with it.
        part = (
            fn.SUBSTR(path, 1, fn.LENGTH(OpinionCollection.node_path))
            == OpinionCollection.node_path
        )
        cond = part if cond is None else cond | part
    return cond


def for_resident(
    actor: Actor, *, now: dt.datetime
) -> list[tuple[OpinionCollection, Opinion | None]]:
    """The collections open to ``actor`` now, each with their own answer if any (one query)."""
    paths = [g.node_path for g in actor.grants if g.role in ANSWERERS]
    if paths:  # built once per number of grants (every resident's /r)
        values = {f"path{i}": path for i, path in enumerate(paths)}
        rows = prepared(
            ("opinions.for_resident", len(paths)),
            _for_resident,
            user=actor.user.id,
            now=now,
            **values,
        )
    else:
        rows = _for_resident(actor.user.id, now)
    found = []
    for collection in rows:
        mine = getattr(collection, "opinion", None)
        found.append((collection, mine if mine is not None and mine.id else None))
    return [(c, mine) for c, mine in found if _may_answer(actor, c)]


def _for_resident(user: Any, now: Any, **paths: Any) -> Any:
    """:func:`for_resident`'s query: for the user (a slot), the resident's node paths
    (``path0`` …: slots, none: nothing) and the time."""
    return (
        OpinionCollection.select(OpinionCollection, Opinion)
        .join(
            Opinion,
            JOIN.LEFT_OUTER,
            on=(Opinion.collection == OpinionCollection.id) & (Opinion.user == user),
        )
        .where(
            _answerable_at(list(paths.values()))
            & (OpinionCollection.opens_at <= now)
            & (OpinionCollection.closes_at > now)
        )
        .order_by(OpinionCollection.closes_at)
    )


def _may_answer(actor: Actor, collection: OpinionCollection) -> bool:
    body = runtime(collection.version_id).body
    return any(p.startswith(collection.node_path) for p in _answer_paths(actor, body))


def for_answer(actor: Actor, collection_id: int) -> OpinionCollection:
    """A collection ``actor`` may answer (open or not). :raises NotFound: not theirs to see."""
    collection = OpinionCollection.get_or_none(OpinionCollection.id == collection_id)
    if collection is None or not _may_answer(actor, collection):
        raise NotFound(_("No such opinion collection."))
    return collection


def own_answer(actor: Actor, collection: OpinionCollection) -> Opinion | None:
    return Opinion.get_or_none((Opinion.collection == collection) & (Opinion.user == actor.user))


def answer(actor: Actor, collection_id: int, data: Any, *, now: dt.datetime) -> Opinion:
    """Answer a collection (or change one's answer) within its window (``opinion.answer``).

    The form's conditions and checks run here, whatever the page sent.

    :raises NotFound: not a collection of the actor's compound.
    :raises Conflict: outside the window.
    :raises Invalid: answers that do not validate (paths ``data/<field>``).
    """
    with write_transaction():
        collection = for_answer(actor, collection_id)
        if not is_open(collection, now):
            raise Conflict(_("This opinion collection is closed."))
        rt = runtime(collection.version_id)
        node = OrgNode.get_by_id(collection.node_id)
        context = {"node": {"key": node.key, "kind": node.kind}, "now": clock.iso(now)}
        cleaned = common.validate(rt.body["schema"], data, context, "data")
        mine = own_answer(actor, collection)
        before = mine.data if mine else None
        if mine is None:
            mine = Opinion.create(collection=collection, user=actor.user, data=cleaned, at=now)
        else:
            Opinion.update(data=cleaned, at=now).where(Opinion.id == mine.id).execute()
        attachments.claim(
            attachments.ids_in(rt.body["schema"], cleaned),
            actor,
            record=attachments.record_ref("opinion", mine.id),
        )
        audit.record(
            "opinion.answer",
            at=now,
            actor=actor.user,
            target=f"opinions:{collection.id}",
            before=before,
            after=cleaned,
        )
    return Opinion.get_by_id(mine.id)


# -- the openers -------------------------------------------------------------------------


def get_collection(actor: Actor, collection_id: int) -> OpinionCollection:
    """A collection where ``actor`` sees deliberation. :raises NotFound: none in reach."""
    patterns = common.reach_patterns(actor)
    found = (
        next(
            iter(
                prepared(
                    ("get_collection", len(patterns)),
                    _collection,
                    wanted=collection_id,
                    **patterns,
                )
            ),
            None,
        )
        if patterns
        else None
    )
    if found is None:
        raise NotFound(_("No such opinion collection."))
    return found


def _collection(wanted: Any, **patterns: Any) -> Any:
    """A collection with its node (without the node's file) when under one of ``patterns``."""
    return (
        OpinionCollection.select(OpinionCollection, *NODE_COLUMNS)
        .join(OrgNode)
        .where(
            (OpinionCollection.id == wanted)
            & common.in_patterns(OpinionCollection.node_path, patterns)
        )
        .limit(1)
    )


def collections_in_reach(
    actor: Actor, *, page: int = 1
) -> tuple[list[tuple[OpinionCollection, int]], bool]:
    """One page of the collections ``actor`` sees with their number of opinions, newest
    first, and whether an older page follows (one query)."""
    rows = (
        OpinionCollection.select(OpinionCollection, OrgNode, fn.COUNT(Opinion.id).alias("answers"))
        .join(OrgNode)
        .switch(OpinionCollection)
        .join(Opinion, JOIN.LEFT_OUTER)
        .where(common.in_reach(actor, OpinionCollection.node_path))
        .group_by(OpinionCollection, OrgNode)
        .order_by(OpinionCollection.opens_at.desc(), OpinionCollection.id.desc())
        .limit(common.PAGE_SIZE + 1)
        .offset((page - 1) * common.PAGE_SIZE)
    )
    found = [(c, int(c.answers)) for c in rows]
    return found[: common.PAGE_SIZE], len(found) > common.PAGE_SIZE


def collection_rows_in_reach(actor: Actor, *, page: int = 1) -> tuple[list[dict[str, Any]], bool]:
    """``collections_in_reach`` as the list shows it: per collection its id, title,
    closes_at, ``node_name`` and ``answers`` (one prepared statement per number of subtrees)."""
    patterns = common.reach_patterns(actor)
    if not patterns:
        return [], False
    rows = list(
        prepared(
            ("collection_rows_in_reach", len(patterns)),
            _collection_rows,
            offset=(page - 1) * common.PAGE_SIZE,
            **patterns,
        )
    )
    return rows[: common.PAGE_SIZE], len(rows) > common.PAGE_SIZE


def _collection_rows(offset: Any, **patterns: Any) -> Any:
    answers = (
        Opinion.select(fn.COUNT(Opinion.id))
        .where(Opinion.collection == OpinionCollection.id)
        .alias("answers")
    )
    return (
        OpinionCollection.select(
            OpinionCollection.id,
            OpinionCollection.title,
            OpinionCollection.closes_at,
            OrgNode.name.alias("node_name"),
            answers,
        )
        .join(OrgNode)
        .where(common.in_patterns(OpinionCollection.node_path, patterns))
        .order_by(OpinionCollection.opens_at.desc(), OpinionCollection.id.desc())
        .limit(common.PAGE_SIZE + 1)
        .offset(offset)
        .dicts()
    )


def may_manage(actor: Actor, collection: OpinionCollection) -> bool:
    """Whether ``actor`` reads the answers and turns one into an item (an open role)."""
    body = runtime(collection.version_id).body
    return any(actor.reaches(r, collection.node_path) for r in body["open_roles"])


def opinions_of(actor: Actor, collection: OpinionCollection) -> list[Opinion]:
    """The collection's opinions, oldest first, with the items they became (one query).

    :raises Forbidden: the actor holds none of the open roles.
    """
    if not may_manage(actor, collection):
        raise Forbidden(_("You may not read these opinions."))
    return list(
        Opinion.select(Opinion, Item)
        .join(Item, JOIN.LEFT_OUTER, on=(Opinion.item == Item.id))
        .where(Opinion.collection == collection)
        .order_by(Opinion.at, Opinion.id)
    )


def offered_outcomes(actor: Actor, collection: OpinionCollection) -> list[Mapping[str, Any]]:
    if not may_manage(actor, collection):
        return []
    body = runtime(collection.version_id).body
    return outcomes.offered(actor, body.get("outcomes", []), collection.node)


def to_item(actor: Actor, opinion_id: int, key: str, *, now: dt.datetime) -> Opinion:
    """Turn an opinion into an item by the outcome ``key``, once; the two link both ways.

    :raises Conflict: the opinion already became an item.
    """
    with write_transaction():
        opinion = Opinion.get_or_none(Opinion.id == opinion_id)
        if opinion is None:
            raise NotFound(_("No such opinion."))
        collection = get_collection(actor, opinion.collection_id)
        if not may_manage(actor, collection):
            raise Forbidden(_("You may not read these opinions."))
        if opinion.item_id is not None:
            raise Conflict(_("This opinion has already become an item."))
        body = runtime(collection.version_id).body
        source = outcomes.Source(
            "opinion",
            opinion.id,
            collection.node,
            {"opinion": dict(opinion.data), "collection": {"title": collection.title}},
            collection_id=collection.id,
            title=collection.title,
        )
        taken = outcomes.take(actor, body.get("outcomes", []), key, source, now=now)
        won = (
            Opinion.update(item=taken.item)
            .where((Opinion.id == opinion.id) & Opinion.item.is_null())
            .execute()
        )
        if not won:
            raise Conflict(_("This opinion has already become an item."))
        audit.record(
            "opinion.to_item",
            at=now,
            actor=actor.user,
            target=f"opinions:{collection.id}",
            after={
                "opinion": opinion.id,
                "outcome": key,
                "item": taken.item.id if taken.item else None,
            },
        )
    return Opinion.get_by_id(opinion.id)


def counts(collection: OpinionCollection, rt: Runtime) -> dict[str, dict[str, int]]:
    """For every choice field of the form: how many opinions chose each option."""
    import forms

    tallies: dict[str, dict[str, int]] = {}
    specs = [s for s in forms.field_specs(rt.body["schema"]) if s.options]
    if not specs:
        return tallies
    for (data,) in Opinion.select(Opinion.data).where(Opinion.collection == collection).tuples():
        for spec in specs:
            values = data.get(spec.name) if isinstance(data, dict) else None
            for value in values if isinstance(values, list) else [values]:
                if value is not None:
                    bucket = tallies.setdefault(spec.name, {})
                    bucket[str(value)] = bucket.get(str(value), 0) + 1
    return tallies


def answer_count(collection: OpinionCollection) -> int:
    """How many residents answered (one query)."""
    return int(Opinion.select().where(Opinion.collection == collection).count())


@attachments.record_kind("opinion")
def may_read_opinion(actor: Actor, opinion_id: int) -> bool:
    """An opinion's files are its author's (their own uploads) and its collection's openers'."""
    opinion = Opinion.get_or_none(Opinion.id == opinion_id)
    if opinion is None:
        return False
    try:
        return may_manage(actor, get_collection(actor, opinion.collection_id))
    except NotFound:
        return False
