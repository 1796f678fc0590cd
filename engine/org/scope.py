"""The one query layer every list, report, export and API call goes through.

A role sees according to its ``sees`` setting in the pack: ``subtree`` (every item
at or below the node it is granted at), ``summoned`` (items that summoned a unit at
or below that node) or ``own`` (items the user raised).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from functools import reduce
from typing import Any, NamedTuple

from peewee import SQL, Case, Expression, fn

from engine.core.memo import memoized, peek, remember
from engine.org.actors import Actor, is_root
from engine.org.permissions import can
from engine.store.db import backend, count_up_to
from engine.store.models import Assignment, Item, OrgNode, Pack, UnitOpenItem
from engine.store.prepared import prepared, prepared_cursor

DEFAULT_SEES = {"department": "summoned", "resident": "own"}
# Up to this many nodes a subtree is matched by node id (an index equality or IN list,
# which keeps ORDER BY deadline on the index); larger ones by path prefix.
ID_LIST_LIMIT = 400


def path_under(field: Any, path: str) -> Any:
    """``field`` (a materialized path) lies at or below ``path``, in an index-friendly way."""
    return path_like(field, path_pattern(path))


def path_pattern(path: str) -> str:
    """The pattern ``path_like`` matches a subtree at ``path`` with."""
    return backend().prefix_pattern(path)


def path_like(field: Any, pattern: Any) -> Any:
    """``field`` matches ``pattern`` (``path_pattern``'s, or a prepared query's slot)."""
    return backend().path_match(field, pattern)


def subtree_nodes(path: str) -> list[tuple[int, str]]:
    """(id, path) of the nodes at or below ``path`` (read once per request)."""
    return memoized(
        ("subtree_nodes", path),
        lambda: [
            (node_id, node_path)
            for node_id, node_path in prepared_cursor(
                "subtree_nodes",
                lambda pattern: OrgNode.select(OrgNode.id, OrgNode.path).where(
                    path_like(OrgNode.path, pattern)
                ),
                pattern=path_pattern(path),
            ).fetchall()
        ],
    )


def subtree_ids(path: str) -> list[int]:
    """The ids of the nodes at or below ``path``."""
    return [node_id for node_id, _ in subtree_nodes(path)]


def ids_in(field: Any, ids: list[int]) -> Any:
    """``field IN (ids)`` with the ids written into the SQL: integers need no parameters,
    and a few hundred parameters cost peewee more to build than the database to read."""
    if not ids:
        return field.in_([])
    return Expression(field, "IN", SQL("(" + ",".join(str(int(i)) for i in ids) + ")"))


def roots_column() -> Any:
    """A column counting the org tree's roots up to two (for a query that reads it along,
    like the session's: ``remember_roots``)."""
    return _roots_query().alias("roots")


def _roots_query() -> Any:
    return OrgNode.select(fn.COUNT(SQL("*"))).from_(
        OrgNode.select(SQL("1")).where(OrgNode.parent.is_null()).limit(2).alias("roots")
    )


def remember_roots(count: int) -> None:
    """How many roots the org tree has (up to two), as read with the session, for this
    request."""
    remember("org_roots", count)


def is_only_root(path: str) -> bool:
    """Whether ``path`` is the root of an org tree with no other root: its subtree holds
    every node, so every row is under it (read once per request, and not at all when the
    session's lookup read it along)."""
    if not is_root(path):
        return False

    def load() -> int:
        return int(prepared_cursor("scope.roots", _roots_query).fetchone()[0])

    return memoized("org_roots", load) == 1


def small_subtree_ids(path: str) -> list[int] | None:
    """The ids of the nodes at or below ``path`` when there are at most ``ID_LIST_LIMIT``,
    else None; a large subtree is not read to be counted (once per request).

    The only root's subtree counts as large without being read: it holds every node, and
    a path condition on it holds for every row, read in deadline order (the district's
    office on the demo read its 237 ids, 0.12 ms, to write them into its inbox's
    statement).

    The statement counts the nodes up to one past the limit and reads the ids only when
    they are few (its LIMIT 0 otherwise): the district's 401 ids came to Python to be
    counted (0.32 -> 0.08 ms; a street's 152, 0.13 -> 0.17). No row: more than the limit,
    or no node at ``path`` (matched by its path alike)."""
    if is_only_root(path):
        return None
    known = peek(("subtree_nodes", path))
    if known is not None:
        return [node_id for node_id, _ in known] if 0 < len(known) <= ID_LIST_LIMIT else None

    def build(pattern: Any, most: Any, cap: Any) -> Any:
        under = path_like(OrgNode.path, pattern)
        many = count_up_to(OrgNode.select(SQL("1")).where(under), cap) > most
        return OrgNode.select(OrgNode.id).where(under).limit(Case(None, [(many, 0)], most))

    def load() -> list[int] | None:
        cursor = prepared_cursor(
            "small_subtree_ids",
            build,
            pattern=path_pattern(path),
            most=ID_LIST_LIMIT,
            cap=ID_LIST_LIMIT + 1,
        )
        return [node_id for (node_id,) in cursor.fetchall()] or None

    return memoized(("small_subtree_ids", path), load)


def nodes_under(paths: list[str], kinds: tuple[str, ...], *, most: int) -> list[Any]:
    """The first ``most`` nodes of ``kinds`` at or below any of ``paths``, by name, as
    named tuples (id, key, name, kind, path; no files): where an actor may start something,
    from the grants that allow it. Read once per request, by one prepared statement per
    number of paths and kinds. The district's list was read whole and sifted in Python
    (1,000 compounds for a commissioner's one), or its first 1,000 by name were, which
    could leave the actor's own out."""
    tops = sorted(p for p in set(paths) if not any(p != q and p.startswith(q) for q in paths))
    if not tops or not kinds:
        return []
    values = {f"path{i}": path_pattern(p) for i, p in enumerate(tops)}
    values.update({f"kind{i}": k for i, k in enumerate(kinds)}, most=most)

    def build(most: Any, **slots: Any) -> Any:
        under = [path_like(OrgNode.path, v) for k, v in slots.items() if k.startswith("path")]
        wanted = [v for k, v in slots.items() if k.startswith("kind")]
        return (
            OrgNode.select(OrgNode.id, OrgNode.key, OrgNode.name, OrgNode.kind, OrgNode.path)
            .where(OrgNode.kind.in_(wanted) & reduce(operator.or_, under))
            .order_by(OrgNode.name, OrgNode.id)
            .limit(most)
            .namedtuples()
        )

    shape = ("scope.nodes_under", len(tops), len(kinds))
    return memoized(  # once per request: a page's forms may ask the same
        ("nodes_under", tuple(tops), kinds, most),
        lambda: list(prepared(shape, build, **values)),
    )


def within(node_field: Any, path_field: Any, path: str) -> Any:
    """Rows whose node (``node_field``, with its path in ``path_field``) is in the subtree."""
    ids = small_subtree_ids(path)
    if ids is not None:
        return ids_in(node_field, ids)
    return path_under(path_field, path)


def item_within(path: str) -> Any:
    return within(Item.node, Item.node_path, path)


# The packs' role settings by the packs' stamp: kept between requests, since the session's
# lookup reads the stamp along (``packs_stamp_columns``) and a reload changes it.
_ROLES_BY_STAMP: dict[Any, list[dict[str, Any]]] = {}


def packs_stamp_columns() -> list[Any]:
    """Columns that change whenever a pack is loaded or removed: the last load time and
    the number of packs (for a query that reads them along, like the session's)."""
    return [
        Pack.select(fn.MAX(Pack.loaded_at)).alias("packs_loaded"),
        Pack.select(fn.COUNT(Pack.id)).alias("packs"),
    ]


def remember_packs_stamp(stamp: tuple[Any, ...]) -> None:
    """The packs' stamp as read with the session, for this request."""
    remember("packs_stamp", stamp)


def pack_roles() -> list[dict[str, Any]]:
    """Every loaded pack's ``roles`` setting, in load order (read once per request, and
    not at all when the request's stamp shows the packs unchanged since last read)."""

    def load() -> list[dict[str, Any]]:
        stamp = peek("packs_stamp")
        if stamp is not None and stamp in _ROLES_BY_STAMP:
            return _ROLES_BY_STAMP[stamp]
        query = lambda: Pack.select(Pack.roles).order_by(Pack.id)
        roles = [pack.roles or {} for pack in prepared("pack_roles", query)]
        if stamp is not None:
            _ROLES_BY_STAMP.clear()
            _ROLES_BY_STAMP[stamp] = roles
        return roles

    return memoized("pack_roles", load)


def role_sees(role: str) -> str:
    """How far ``role`` sees, from the loaded packs (default ``subtree``)."""
    for roles in pack_roles():
        spec = roles.get(role)
        if spec and spec.get("sees"):
            return str(spec["sees"])
    return DEFAULT_SEES.get(role, "subtree")


def role_labels() -> dict[str, str]:
    """Role key → label, from every loaded pack."""
    labels: dict[str, str] = {}
    for roles in pack_roles():
        labels.update({k: v.get("label", k) for k, v in roles.items()})
    return labels


def _conditions(actor: Actor, *, by_path: bool = False) -> list[Any]:
    """One condition per way ``actor`` sees an item. ``by_path`` matches subtrees by path
    prefix only: for one item by id, where a list of node ids would cost more to build
    (and a query to read) than the database spends on the row. (A page in deadline
    order has its own parts: ``visible_item_parts``.)"""
    conds: list[Any] = []
    sees_cache: dict[str, str] = {}
    for grant in actor.grants:
        sees = sees_cache.setdefault(grant.role, role_sees(grant.role))
        if sees == "subtree":
            conds.append(
                path_under(Item.node_path, grant.node_path)
                if by_path
                else item_within(grant.node_path)
            )
        elif sees == "summoned" and by_path:  # this item's own summonses, on the item index
            conds.append(
                fn.EXISTS(
                    Assignment.select(SQL("1")).where(
                        (Assignment.item == Item.id)
                        & path_under(Assignment.unit_path, grant.node_path)
                    )
                )
            )
        elif sees == "summoned":
            units = within(Assignment.unit, Assignment.unit_path, grant.node_path)
            conds.append(Item.id.in_(Assignment.select(Assignment.item).where(units)))
    raised = Item.raised_by == actor.user.id
    handed = Item.handler == actor.user.id  # reassigned to them by a supervisor
    return [*conds, raised, handed]


def visible_items(actor: Actor, *, by_path: bool = False) -> Any:
    """Items ``actor`` may see, as a query to refine (filter, order, paginate).

    :param by_path: match subtrees by path prefix (see ``_conditions``), for one item.
    """
    return Item.select().where(reduce(operator.or_, _conditions(actor, by_path=by_path)))


def visible_item_shape(
    actor: Actor, *, summoned_ranges: bool = False
) -> tuple[tuple[str, ...], dict[str, Any]]:
    """``visible_items(actor, by_path=True)`` as a prepared query's shape and values: the
    ways the actor's grants see (``subtree`` or ``summoned``, in grant order: the shape's
    key) and the values of its slots (``path0``, ``path1`` … and ``user``), for
    :func:`visible_item_slotted`.

    :param summoned_ranges: a summoned unit's subtree as ``Backend.within_values``
        (``path0_low`` …, for ``path_within``: a range of an index on unit paths) rather
        than a pattern."""
    ways: list[str] = []
    values: dict[str, Any] = {}
    for grant in actor.grants:
        sees = role_sees(grant.role)
        name = f"path{len(ways)}"
        if sees == "summoned" and summoned_ranges:
            values.update(backend().within_values(grant.node_path, name))
        elif sees in ("subtree", "summoned"):
            values[name] = path_pattern(grant.node_path)
        else:
            continue
        ways.append(sees)
    values["user"] = actor.user.id
    return tuple(ways), values


def visible_item_slotted(ways: tuple[str, ...], slots: dict[str, Any]) -> Any:
    """``visible_items(by_path=True)`` built from :func:`visible_item_shape`'s ways with
    ``slots`` (a prepared query's) where the paths and the user go: the same conditions,
    for an item found by its id (the paths tested on its row: ``path_test``)."""
    test = backend().path_test
    conds: list[Any] = []
    for i, sees in enumerate(ways):
        pattern = slots[f"path{i}"]
        if sees == "subtree":
            conds.append(test(Item.node_path, pattern))
        else:
            conds.append(
                fn.EXISTS(
                    Assignment.select(SQL("1")).where(
                        (Assignment.item == Item.id) & test(Assignment.unit_path, pattern)
                    )
                )
            )
    conds.append(Item.raised_by == slots["user"])
    conds.append(Item.handler == slots["user"])
    return Item.select().where(reduce(operator.or_, conds))


def visible_items_slotted(ways: tuple[Any, ...], slots: dict[str, Any]) -> Any:
    """``visible_items(actor)`` built from :func:`visible_part_shape`'s ways (a small
    subtree's ids written into the SQL, a large one's path a value) with ``slots`` (a
    prepared query's) for the paths and the user: the same conditions as ``_conditions``,
    for a query built once per shape instead of once per request."""
    conds: list[Any] = []
    for i, (sees, ids) in enumerate(ways):
        if sees == "subtree":
            conds.append(
                path_like(Item.node_path, slots[f"path{i}"])
                if ids is None
                else ids_in(Item.node, list(ids))
            )
        else:
            units = (
                path_like(Assignment.unit_path, slots[f"path{i}"])
                if ids is None
                else ids_in(Assignment.unit, list(ids))
            )
            conds.append(Item.id.in_(Assignment.select(Assignment.item).where(units)))
    conds.append(Item.raised_by == slots["user"])
    conds.append(Item.handler == slots["user"])
    return Item.select().where(reduce(operator.or_, conds))


def visible_item_parts(actor: Actor) -> list[Any]:
    """``visible_items`` as one query per way of seeing an item (each grant's, then the
    items the actor raised, then those handed to it: in that order); their union is
    ``visible_items``. A page in deadline order reads each
    part on its own index in order and merges them (an OR of the parts makes the
    database collect and sort every visible item). The items summoning a grant's units
    are three parts, of which one is read for the open items and one for the closed ones
    (``read_for``, for their LIMIT: ``_summoned_conds``).

    A part's ``in_deadline_order`` says an index serves it in deadline order, and its
    items without a deadline newest first: (closed, due_at) for a large subtree (its
    path tested on each row) and for many summoned items (an EXISTS tested), the user's own
    (…, closed, due_at) index for the raised and handed parts. A small subtree's part (at
    most ``ID_LIST_LIMIT`` nodes) has ``node_list``, its condition on the node (an IN
    list) and the ids, for a list with the closed items to read otherwise
    (``queues.deadline_arms``). The marks stay on the part's refinements (a peewee clone
    copies the query's attributes).
    """
    return visible_parts_slotted(*visible_part_shape(actor))


def visible_part_shape(actor: Actor) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """:func:`visible_item_parts` as a prepared query's shape and values: per grant that
    sees a subtree or summoned items, how (``sees``) and the ids of a small subtree
    (written into the SQL: part of the shape) or None for a large one (its path pattern
    a value, ``path0``, ``path1`` …); and the user (``user``)."""
    ways: list[tuple[str, tuple[int, ...] | None]] = []
    values: dict[str, Any] = {}
    sees_cache: dict[str, str] = {}
    for grant in actor.grants:
        sees = sees_cache.setdefault(grant.role, role_sees(grant.role))
        if sees in ("subtree", "summoned"):
            ids = small_subtree_ids(grant.node_path)
            if ids is None:
                values[f"path{len(ways)}"] = path_pattern(grant.node_path)
            ways.append((sees, None if ids is None else tuple(ids)))
    values["user"] = actor.user.id
    return tuple(ways), values


def visible_parts_slotted(ways: tuple[Any, ...], slots: dict[str, Any]) -> list[Any]:
    """:func:`visible_item_parts` built from :func:`visible_part_shape`'s ways, with
    ``slots`` (values, or a prepared query's slots) for the paths and the user."""
    conds: list[Any] = []
    for i, (sees, ids) in enumerate(ways):
        if sees == "subtree" and ids is None:
            # A large subtree (a district) holds much of every deadline: read the items in
            # deadline order on the (closed, due_at) index and test the path on each row.
            # On the path index the database gathered and sorted every open item under it
            # (the district's inbox: 108 ms at 1,000,000 items; now under 1 ms).
            cond = backend().path_filter(Item.node_path, slots[f"path{i}"])
            cond.in_deadline_order = True
            conds.append(cond)
        elif sees == "subtree":
            cond = ids_in(Item.node, list(ids))
            cond.node_list = (cond, ids)
            conds.append(cond)
        else:
            pattern = slots.get(f"path{i}")

            def units(unit: Any, path: Any, ids: Any = ids, pattern: Any = pattern) -> Any:
                return path_like(path, pattern) if ids is None else ids_in(unit, list(ids))

            conds += _summoned_conds(units, ids)
    # each on its (user, closed, due_at) index, in that index's order
    raised = Item.raised_by == slots["user"]
    handed = Item.handler == slots["user"]  # reassigned to them by a supervisor
    raised.in_deadline_order = handed.in_deadline_order = True
    parts = []
    for cond in [*conds, raised, handed]:
        marks = vars(cond)  # (a function's getattr makes one of any name)
        part = Item.select()
        if marks.get("order_on") is not None:  # a unit's open pairs, with their items
            part = part.join(UnitOpenItem, on=(UnitOpenItem.item == Item.id))
        part = part.where(cond)
        part.in_deadline_order = marks.get("in_deadline_order", False)
        part.read_for = marks.get("read_for")
        part.node_list = marks.get("node_list")
        part.order_on = marks.get("order_on")
        parts.append(part)
    return parts


# Up to this many summonses a unit's closed items are looked up by id and sorted; beyond
# it they are found walking the items in deadline order (about 1 µs a summons either way
# at 1,000,000 items: a unit of 5,000 summonses, 4 ms looked up, 17 ms walked; a
# department of 56,000, 50 ms looked up, 3.6 ms walked).
FEW_SUMMONSES = 10_000
# Up to this many open items, the units of a large subtree (matched by path) have theirs
# looked up by id from the stored pairs (``UnitOpenItem``) and sorted; beyond it they are
# walked in deadline order. A few units (at most ``UNIT_BY_UNIT``) read each unit's pairs
# in deadline order instead, however many.
FEW_OPEN = 1_000
UNIT_BY_UNIT = 8


def _summoned_conds(units: Callable[[Any, Any], Any], ids: Any = None) -> list[Any]:
    """The items summoning the units ``units(unit, path)`` names (a condition on a
    table's unit and unit path columns; ``ids``, the units' ids when listed), as parts
    of which a page reads some for the open items and one for the closed ones
    (``read_for``: for each, the pair of a check and the answer for which the part is
    read, True for always, or None for never; parts share their checks, which a
    statement works out once):

    - up to ``UNIT_BY_UNIT`` units: each unit's open items read from its stored pairs
      (``UnitOpenItem``) in deadline order on (unit, due_at, item), the item's deadline
      kept on its pairs (``order_on``: the columns ordering the part), a page stopping
      after its end (a department of the stress million with 8,987 open items walked
      the district's open ones probing its summonses on each: 4.7 ms, now 0.2);
    - more units (a large subtree's): their open items looked up by id from the stored
      pairs while they are at most ``FEW_OPEN``;
    - the items of up to ``FEW_SUMMONSES`` summonses looked up by id and sorted, for the
      closed ones;
    - beyond either, found on the (closed, due_at) index in deadline order, each row
      probing the summonses' (unit, item) index, the scan stopping after a page.

    One way for all was slow for one size: the ids as a list each row of the index was
    tested against walked every open item for a unit with few (36 ms for 193 summonses at
    1,000,000 items) and built the list of a large unit's 56,000 items (9.8 ms); looked up
    by id, a department's items were each read and sorted (50–120 ms); walked, a
    department's 69 open items after ten years took 1,351 open items probed (1 ms), and
    learning that it has more than ``FEW_SUMMONSES`` summonses 0.6 ms."""
    summonses = units(Assignment.unit, Assignment.unit_path)
    # whether the units have a summons past the first FEW_SUMMONSES, on their index
    # (0.26 ms at 1,000,000 items; counting them up to one more, 0.41)
    many_summonses = fn.EXISTS(
        Assignment.select(SQL("1")).where(summonses).limit(1).offset(FEW_SUMMONSES)
    )
    few = Item.id.in_(Assignment.select(Assignment.item).where(summonses))
    few.read_for = {"open": None, "closed": (many_summonses, False)}
    many = fn.EXISTS(Assignment.select(SQL("1")).where((Assignment.item == Item.id) & summonses))
    many.in_deadline_order = True
    if ids is not None and len(ids) <= UNIT_BY_UNIT:
        each = []
        for unit in ids:
            pairs = UnitOpenItem.unit == unit
            pairs.order_on = (UnitOpenItem.due_at, UnitOpenItem.item)
            pairs.in_deadline_order = True  # (its items without one too: ``_undated``)
            pairs.read_for = {"open": True, "closed": None}
            each.append(pairs)
        many.read_for = {"open": None, "closed": (many_summonses, True)}
        return [*each, few, many]
    pairs = units(UnitOpenItem.unit, UnitOpenItem.unit_path)
    many_open = fn.EXISTS(UnitOpenItem.select(SQL("1")).where(pairs).limit(1).offset(FEW_OPEN))
    open_ones = Item.id.in_(UnitOpenItem.select(UnitOpenItem.item).where(pairs))
    open_ones.read_for = {"open": (many_open, False), "closed": None}
    many.read_for = {"open": (many_open, True), "closed": (many_summonses, True)}
    return [open_ones, few, many]


def visible_assignments(actor: Actor, *, by_ids: bool = False) -> Any:
    """Summons addressed to units ``actor`` acts for (role matches at or above the unit).

    :param by_ids: match every subtree by its nodes' ids, however large (for a list in
        deadline order: ``queues.summons``).
    """
    if not by_ids:
        return assignments_slotted(*assignment_shape(actor))
    return assignments_slotted(*assignment_shape_by_ids(actor))


# A grant's way in ``assignment_shape_by_ids`` when it is at a root of the org tree.
ROOT_WAY = "root"


def assignment_shape_by_ids(actor: Actor) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """``visible_assignments(actor, by_ids=True)`` as a prepared query's shape and values:
    each grant's subtree by its nodes' ids (written into the SQL), but a grant at a root
    (``ROOT_WAY``): the summons of its role read on the (role, open, next_due_at) index,
    their units' paths tested on each row (``unit_path0`` … its pattern), in place of
    a probe of the unit index for each of the district's 1,397 nodes at a million items
    (3.7 ms for none). The roles are values (``role0`` …)."""
    ways: list[Any] = []
    values: dict[str, Any] = {}
    for i, grant in enumerate(actor.grants):
        values[f"role{i}"] = grant.role
        if is_root(grant.node_path):
            values[f"unit_path{i}"] = path_pattern(grant.node_path)
            ways.append(ROOT_WAY)
        else:
            ways.append(tuple(subtree_ids(grant.node_path)))
    return tuple(ways), values


def assignment_shape(actor: Actor) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """``visible_assignments(actor)`` as a prepared query's shape and values: per grant
    the ids of a small subtree (written into the SQL) or None for a large one; its role
    (``role0`` …) and a large subtree's path pattern (``unit_path0`` …) are values."""
    ways: list[tuple[int, ...] | None] = []
    values: dict[str, Any] = {}
    for i, grant in enumerate(actor.grants):
        ids = small_subtree_ids(grant.node_path)
        values[f"role{i}"] = grant.role
        if ids is None:
            values[f"unit_path{i}"] = path_pattern(grant.node_path)
        ways.append(None if ids is None else tuple(ids))
    return tuple(ways), values


def assignments_slotted(ways: tuple[Any, ...], slots: dict[str, Any]) -> Any:
    """``visible_assignments(actor)`` from :func:`assignment_shape`'s ways (or
    :func:`assignment_shape_by_ids`'), with ``slots`` (values, or a prepared query's
    slots) for the roles and paths."""
    conds = [
        (Assignment.role == slots[f"role{i}"]) & _units(ids, slots.get(f"unit_path{i}"))
        for i, ids in enumerate(ways)
    ]
    if not conds:
        return Assignment.select().where(Assignment.id < 0)
    return Assignment.select().where(reduce(operator.or_, conds))


def _units(ids: Any, pattern: Any) -> Any:
    """A grant's units in ``assignments_slotted``: a root's tested on each row (read in
    its role's order), a large subtree's by path, a small one's by id."""
    if ids == ROOT_WAY:
        return backend().path_filter(Assignment.unit_path, pattern)
    if ids is None:
        return path_like(Assignment.unit_path, pattern)
    return ids_in(Assignment.unit, list(ids))


def sees_everything(actor: Actor, roots: list[str] | None = None) -> bool:
    """Whether a grant of ``actor`` sees the subtree of the only root: every item in the
    database, so a report may leave the scope condition (and its join) out.

    :param roots: the paths of the org tree's roots, when the caller read them already;
        else whether the root is the only one is :func:`is_only_root`'s (read with the
        session on a page).
    """
    paths = {g.node_path for g in actor.grants if role_sees(g.role) == "subtree"}
    if roots is None:
        return any(is_only_root(path) for path in paths)
    return len(roots) == 1 and roots[0] in paths


def summons_in_view_unjoined(actor: Actor) -> Any:
    """``summons_in_view`` without the join to items: a subtree is matched by the ids of
    its items (a subquery the database reads once) rather than by each summons' item
    row — what an aggregate over hundreds of thousands of summons wants."""
    conds: list[Any] = []
    for grant in actor.grants:
        sees = role_sees(grant.role)
        if sees == "subtree":
            conds.append(
                Assignment.item.in_(
                    Item.select(Item.id).where(path_under(Item.node_path, grant.node_path))
                )
            )
        elif sees == "summoned":
            conds.append(path_under(Assignment.unit_path, grant.node_path))
    return Assignment.select().where(reduce(operator.or_, conds) if conds else Assignment.id < 0)


def summons_unjoined_shape(actor: Actor) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """:func:`summons_in_view_unjoined` as a kept statement's shape and values: per grant
    that sees a subtree or summoned units, how (``sees``) and its path pattern written
    into the SQL where the backend plans better so (``Backend.pattern_literal``, part of
    the shape), else None with the pattern a value (``path0``, ``path1`` …)."""
    db = backend()
    ways: list[tuple[str, str | None]] = []
    values: dict[str, Any] = {}
    for grant in actor.grants:
        sees = role_sees(grant.role)
        if sees in ("subtree", "summoned"):
            pattern = path_pattern(grant.node_path)
            text = db.pattern_literal(pattern)
            if text is None:
                values[f"path{len(ways)}"] = pattern
            ways.append((sees, text))
    return tuple(ways), values


def summons_unjoined_slotted(
    ways: tuple[Any, ...], slots: dict[str, Any], *, item_row: bool = False
) -> Any:
    """:func:`summons_in_view_unjoined` built from :func:`summons_unjoined_shape`'s ways,
    with ``slots`` (values, or a kept statement's slots) for the patterns not written in.

    :param item_row: a subtree's summons tested each by its item's row (EXISTS), for a
        statement that reads few summons by another index; else matched against the
        subtree's items, which the database lists first (all of them, however old)."""
    conds: list[Any] = []
    for i, (sees, text) in enumerate(ways):
        pattern = SQL(text) if text is not None else slots[f"path{i}"]
        if sees == "subtree" and item_row:
            inner = Item.alias("scoped_item")
            row = inner.select(SQL("1")).where(
                (inner.id == Assignment.item) & path_like(inner.node_path, pattern)
            )
            conds.append(fn.EXISTS(row))
        elif sees == "subtree":
            items = Item.select(Item.id).where(path_like(Item.node_path, pattern))
            conds.append(Assignment.item.in_(items))
        else:
            conds.append(path_like(Assignment.unit_path, pattern))
    return Assignment.select().where(reduce(operator.or_, conds) if conds else Assignment.id < 0)


def summons_in_view(actor: Actor) -> Any:
    """Summons a report may count for ``actor``, joined to their items.

    Roles that see a subtree see every summons on the items of that subtree (a street
    supervisor sees how district departments served its street); roles that see what
    they were summoned to see only their own units' summons, not the other units
    summoned on the same item.
    """
    conds: list[Any] = []
    for grant in actor.grants:
        sees = role_sees(grant.role)
        if sees == "subtree":
            conds.append(path_under(Item.node_path, grant.node_path))
        elif sees == "summoned":
            conds.append(path_under(Assignment.unit_path, grant.node_path))
    query = Assignment.select().join(Item, on=(Assignment.item == Item.id))
    if not conds:
        return query.where(Assignment.id < 0)
    return query.where(reduce(operator.or_, conds))


def can_see(actor: Actor, item: Item) -> bool:
    """Whether ``item`` is in ``actor``'s scope (same rule as ``visible_items``)."""
    return visible_items(actor).where(Item.id == item.id).exists()


REVIEW_ROLES = ("supervisor", "admin")
AREA_KINDS = ("district", "street", "community", "compound")


def review_roots(actor: Actor) -> list[OrgNode]:
    """The nodes whose dashboards ``actor`` may open with their subtrees (supervisors,
    admins) and the compounds a commissioner owns (that dashboard only)."""
    ids = [g.node_id for g in actor.grants if g.role in REVIEW_ROLES]
    ids += [
        g.node_id for g in actor.grants if g.role == "commissioner" and g.node_kind == "compound"
    ]
    if not ids:
        return []
    return list(OrgNode.select(*NODE_COLUMNS).where(OrgNode.id.in_(ids)).order_by(OrgNode.path))


def may_review(actor: Actor, node: OrgNode) -> bool:
    """Whether ``actor`` may see the dashboard (and its exports) of ``node``."""
    return can(actor, "dashboards", node)


def nodes_by_key(keys: list[str]) -> dict[str, OrgNode]:
    """The nodes of ``keys`` that exist, by key; a request reads each key once, so a
    page may ask for every key it will show first, in one query."""
    known: dict[str, OrgNode | None] = memoized("nodes_by_key", dict)
    missing = [key for key in dict.fromkeys(keys) if key not in known]
    if missing:
        known.update(dict.fromkeys(missing))
        rows = prepared(  # built once per number of keys
            ("nodes_by_key", len(missing)),
            lambda **keys: OrgNode.select().where(OrgNode.key.in_(list(keys.values()))),
            **{f"key{i}": key for i, key in enumerate(missing)},
        )
        known.update((n.key, n) for n in rows)
    return {key: node for key in keys if (node := known.get(key)) is not None}


class NodeRow(NamedTuple):
    """An org node as a list shows and counts it, read as plain columns
    (``NODE_ROW_COLUMNS``): no file, no ancestor keys (a model instance cost about 8 µs a
    row, decoding its keys most of it; a tuple under 1)."""

    id: int
    key: str
    name: str
    kind: str
    parent_id: int | None
    path: str


NODE_ROW_COLUMNS = (
    OrgNode.id,
    OrgNode.key,
    OrgNode.name,
    OrgNode.kind,
    OrgNode.parent,
    OrgNode.path,
)
# A node as lists and dashboards show it as a model: everything but its file
# (``profile``, decoded per row otherwise) and the file's lock.
NODE_COLUMNS = (*NODE_ROW_COLUMNS, OrgNode.keys)


def evidence_items(
    actor: Actor, node: OrgNode, *, filter: str, type_key: str | None, now: Any
) -> Any:
    """Items behind an indicator at ``node`` that ``actor`` may see, by evidence filter:
    newest first, the overdue ones longest overdue first (ties by id)."""
    from engine.store.models import Definition

    # Inside a subtree the actor sees whole, every item is visible: no scope condition.
    # Its OR (the subtree, or raised by or handed to the actor) kept SQLite from walking
    # the items in the list's order: the district's list sorted all 1,000,000 (about 1 s).
    whole = any(
        node.path.startswith(g.node_path) for g in actor.grants if role_sees(g.role) == "subtree"
    )
    # A root's items are read in the list's order, the path tested on each row (on the
    # path's index SQLite sorted every item of the district); a smaller node's on the index.
    inside = (
        backend().path_filter(Item.node_path, path_pattern(node.path))
        if node.parent_id is None
        else item_within(node.path)
    )
    query = (Item.select() if whole else visible_items(actor)).where(inside)
    if type_key:
        query = query.join(Definition, on=(Item.definition == Definition.id)).where(
            Definition.key == type_key
        )
    # closed == False, not NOT closed: an equality the (node, closed, due_at) index can
    # seek (NOT closed read every item of each node: 12.5 ms for a street at 1,000,000)
    conditions = {
        "open": Item.closed == False,
        "overdue": (Item.closed == False) & (Item.due_at < now),
        "unresolved": Item.resolved_at.is_null(),
        "reopened": Item.reopen_count > 0,
        "unsatisfied": Item.satisfaction < 4,
    }
    if filter in conditions:
        query = query.where(conditions[filter])
    if filter == "overdue":
        # Longest overdue first, as /review/'s panel and the board's drill-down list them;
        # on the (closed, due_at) index the walk stops after a page (newest first, the
        # district's overdue items at 1,000,000 were read and sorted: 94-100 ms).
        return query.order_by(Item.due_at, Item.id)
    return query.order_by(Item.raised_at.desc(), Item.id.desc())  # the id: pages never overlap
