"""Work queues: a commissioner's inbox, a unit's summons list, a resident's items."""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from functools import partial, reduce
from typing import Any

from peewee import SQL, Case, Expression, Select, fn

from engine.org.actors import Actor, is_root
from engine.org.scope import (
    assignment_shape,
    assignment_shape_by_ids,
    assignments_slotted,
    ids_in,
    item_within,
    role_sees,
    small_subtree_ids,
    visible_assignments,
    visible_item_parts,
    visible_items,
    visible_part_shape,
    visible_parts_slotted,
)
from engine.store.db import backend, count_up_to, database
from engine.store.models import (
    HANDLER_ROLE,
    AreaTally,
    Assignment,
    Definition,
    Item,
    NodeTally,
    OrgNode,
)
from engine.store.prepared import Slot, bind, kept_answers, statement, with_columns
from engine.workflow.listed import NODE_FIELDS, Row, definitions, nodes_by_id, rows_of

PAGE_SIZE = 50
MAX_PAGE = 1_000_000  # 50 million rows deep: past any queue, and its OFFSET fits a 64-bit column


@dataclass(frozen=True)
class Filters:
    state: str | None = None
    node: str | None = None
    type: str | None = None
    open_only: bool = True
    mine: bool = False  # only items raised by the actor or summoning the actor's units


def items_query(actor: Actor, filters: Filters = Filters()) -> Any:
    """Visible items, filtered, ordered by deadline (overdue first, no deadline last)."""
    return items_filtered(actor, filters).order_by(
        SQL("due_at IS NULL"), Item.due_at, Item.id.desc()
    )


def items_filtered(actor: Actor, filters: Filters = Filters(), *, base: Any = None) -> Any:
    """Visible items (or ``base``, a part of them), filtered, not yet ordered.

    Written so that an index on (node, closed, due_at) serves a page in order: the flag
    as ``closed = 0`` (SQLite reads a bare boolean column as a filter only), and no join
    unless a filter needs one.
    """
    query = visible_items(actor) if base is None else base
    within_node = None
    if filters.node:
        node = OrgNode.get_or_none(OrgNode.key == filters.node)
        within_node = item_within(node.path) if node else Item.id < 0
    handled = bool(actor.grants_for(HANDLER_ROLE))
    query = _refined(
        query,
        filters,
        {"state": filters.state, "type": filters.type, "user": actor.user.id},
        within_node=within_node,
        handled=handled,
    )
    if filters.mine:
        units = visible_assignments(actor).select(Assignment.item)
        query = query.where((Item.raised_by == actor.user.id) | Item.id.in_(units))
    return query


def _refined(
    query: Any,
    filters: Filters,
    values: dict[str, Any],
    *,
    within_node: Any,
    handled: bool,
    with_state: bool = True,
) -> Any:
    """``query`` with ``filters``' conditions but "mine" (and the state unless
    ``with_state``: ``_by_state`` adds it), the state, type key and user taken from
    ``values`` (values, or a prepared query's slots)."""
    if filters.open_only:
        query = query.where(Item.closed == False)
    if filters.state and with_state:
        query = query.where(Item.state == values["state"])
    if filters.type:
        query = query.where(
            Item.definition.in_(
                Definition.select(Definition.id).where(Definition.key == values["type"])
            )
        )
    if within_node is not None:
        query = query.where(within_node)
    if handled:
        # Items a supervisor handed to another commissioner leave this one's inbox.
        query = query.where(backend().null_or_equal(Item.handler, values["user"]))
    return query


_COLUMNS: dict[tuple[Any, ...], Any] = {}


def _columns(query: Any) -> Any:
    """``query``'s selected columns as one piece of SQL, built once per field list: a
    page of a dozen arms spent half its SQL building on their twenty columns each. (The
    columns of the query's own table, which is ``t1`` in every query peewee builds.)"""
    key = (query.model, *query._returning)
    if key not in _COLUMNS:
        sql = query.model.select(*query._returning).sql()[0]
        _COLUMNS[key] = SQL(sql[len("SELECT ") : sql.index(" FROM ")])
    return _COLUMNS[key]


def union_all(
    model: Any,
    arms: list[Any],
    *,
    each: dict[str, list[Any]] | None = None,
    checks: list[Any] | None = None,
    undated: list[Any] | None = None,
    end: Any = None,
) -> list[Any]:
    """The rows of every arm (ordered, limited queries of ``model``), arm after arm, in
    one statement: each arm keeps its own index-ordered scan and LIMIT, and the page
    costs one round trip instead of one per arm.

    :param each: values for the arms' ``Slot``s: every arm is repeated once per value,
        its SQL built once (the same arm for open and for closed items).
    :param checks: the size checks the arms' LIMITs read (``deadline_arms``).
    :param undated: arms read only when ``arms`` give fewer than ``end`` items
        (``deadline_arms``; ``union_sql``).
    """
    if len(arms) == 1 and not each and not checks and not undated:
        return list(arms[0])
    sql, params, asked = union_sql(arms, each=each, checks=checks, undated=undated, end=end)
    return list(model.raw(sql, *bind(params, answered(asked, {}))))


# A statement's size checks (``deadline_arms``), named by ``union_sql``: the slots of their
# answers in the arms' LIMITs are ``w0``, ``w1`` …
def answered(asked: tuple[str, list[Any]] | None, values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with the answers of ``union_sql``'s checks (``asked``: their statement,
    one row, one column a check) as the slots ``w0``, ``w1`` …: kept a while in the
    process (``prepared.kept_answers``), as they choose only how the arms read."""
    if asked is None:
        return values
    sql, params = asked
    found = kept_answers(sql, bind(params, values))
    return {**values, **{f"w{i}": bool(answer) for i, answer in enumerate(found)}}


def union_sql(
    arms: list[Any],
    *,
    each: dict[str, list[Any]] | None = None,
    checks: list[Any] | None = None,
    undated: list[Any] | None = None,
    end: Any = None,
) -> tuple[str, list[Any], tuple[str, list[Any]] | None]:
    """:func:`union_all`'s statement and parameters, and its ``checks`` (expressions) as
    one statement of one row, or None; the holes of slots other than ``each``'s stay
    (``prepared.bind`` fills them: the checks' answers with ``answered``). The arms'
    LIMITs read the answers as values, worked out before the statement: in it, as a
    common table, they cost every page (a street's list with its closed items at the
    ten-year million: 1.18 -> 0.93 ms, its six unread arms 0.05 ms each reading it).

    With ``undated`` (``deadline_arms``: the items without a deadline, which a page lists
    after every item with one), ``arms`` are gathered in a common table
    (``DATED_ROWS``) and counted: the undated arms' LIMITs read whether those already fill
    the page to its ``end`` (``PAGE_FILLED``), and are 0 when they do. A street's list
    with its closed items read 151 rows for its 50, the 101 undated ones dropped: 0.74 ->
    0.32 ms at the ten-year million."""
    fills = (
        [dict(zip(each, values, strict=True)) for values in zip(*each.values(), strict=True)]
        if each
        else [{}]
    )
    asked = None
    if checks:
        columns = [check.alias(f"w{i}") for i, check in enumerate(checks)]
        sql, check_params = Select(columns=columns).bind(database).sql()
        asked = (sql, check_params)
    named = 0  # the arms' names, arm0 …

    def joined(group: list[Any]) -> tuple[str, list[Any]]:
        nonlocal named
        sqls: list[str] = []
        params: list[Any] = []
        for arm in group:
            sql, arm_params = (
                arm if getattr(arm, "merged", False) else arm.select(_columns(arm))
            ).sql()
            for fill in fills:
                sqls.append(f"SELECT * FROM ({sql}) AS arm{named}")
                params.extend(bind(arm_params, fill, partial=True))
                named += 1
        return " UNION ALL ".join(sqls), params

    sql, params = joined(arms)
    if not undated:
        return sql, params, asked
    # by the arms' ``id`` column: an item two arms read is counted once
    count = Expression(fn.COUNT(SQL('DISTINCT "id"')), ">=", end).alias(PAGE_FILLED)
    filled, filled_params = Select([SQL(f'"{DATED_ROWS}"')], [count]).bind(database).sql()
    undated_sql, undated_params = joined(undated)
    sql = (
        f'WITH "{DATED_ROWS}" AS ({sql}), "{PAGE_FILLED}" AS ({filled}) '
        f'SELECT * FROM "{DATED_ROWS}" UNION ALL {undated_sql}'
    )
    return sql, [*params, *filled_params, *undated_params], asked


# ``union_sql``'s common tables with its undated arms: the dated arms' rows, and whether
# they fill the page; ``PAGE_FULL`` is what an undated arm's LIMIT reads of it.
DATED_ROWS = "dated_rows"
PAGE_FILLED = "page_filled"
PAGE_FULL = SQL(f'(SELECT "{PAGE_FILLED}" FROM "{PAGE_FILLED}")')


def by_deadline(query: Any, due: Any, tiebreak: Any, page: int) -> list[Any]:
    """Page ``page`` of ``query`` by ``due`` then ``tiebreak``, rows without a deadline last.

    The same order as ``ORDER BY due IS NULL, due, tiebreak``, but as two queries that
    an index on (..., due) can serve in order and stop after a page: rows with a
    deadline, then, only once they run out, rows without one. (``due IS NULL`` in the
    ORDER BY made the database fetch and sort every visible row for each page.)
    Flags are compared as ``open = 1``, not bare ``open``: SQLite uses a bare boolean
    column as a filter only, so it could not reach the index's deadline column.
    """
    if page == 1:  # the first page: both halves in one statement
        return union_all(query.model, first_page_arms(query, due, tiebreak))[:PAGE_SIZE]
    offset = (page - 1) * PAGE_SIZE
    dated_page = (
        query.where(due.is_null(False)).order_by(due, tiebreak).limit(PAGE_SIZE).offset(offset)
    )
    rows = list(dated_page)
    if len(rows) == PAGE_SIZE:
        return rows
    dated = offset + len(rows) if rows or not offset else query.where(due.is_null(False)).count()
    rest = (
        query.where(due.is_null())
        .order_by(tiebreak)
        .limit(PAGE_SIZE - len(rows))
        .offset(max(0, offset - dated))
    )
    return rows + list(rest)


def first_page_arms(query: Any, due: Any, tiebreak: Any) -> list[Any]:
    """:func:`by_deadline`'s first page as two arms for :func:`union_all`: a page of rows
    with a deadline, then a page of rows without one."""
    return [
        query.where(due.is_null(False)).order_by(due, tiebreak).limit(PAGE_SIZE).offset(0),
        query.where(due.is_null()).order_by(tiebreak).limit(PAGE_SIZE),
    ]


# The inbox does not show an item's answers; leaving them out spares a JSON decode per row.
LIST_FIELDS = [f for f in Item._meta.sorted_fields if f.name != "data"]


def _undated(part: Any, *, open_only: bool = False) -> Any:
    """A part's items without a deadline, newest first. A part its index serves in order
    (``scope.visible_item_parts``' ``in_deadline_order``) finds them there; any other (a
    list of nodes) is gathered on its own index and sorted. (SQLite's statistics take
    ``due_at IS NULL`` for one deadline among many: it walked every closed item without
    a deadline on (closed, due_at) looking for a compound's few, 39–93 ms at 1,000,000
    items.) An open-only list's part (``open_only``) may be read either way: the open
    items without a deadline are few anywhere (none at the stress million, where a
    street's 12,367 open ones were each tested for it: 0.83 ms; on the index 0.005)."""
    due, item = _order_on(part)
    if open_only or getattr(part, "in_deadline_order", False):
        return part.where(due.is_null()).order_by(item.desc())
    unindexed = backend().unindexed
    return part.where(unindexed(Item.due_at).is_null()).order_by(unindexed(Item.id).desc())


def merged_by_deadline(parts: list[Any], page: int, *, each_closed: bool = False) -> list[Item]:
    """Page ``page`` of the union of ``parts`` (item queries) by deadline, newest first
    among equal deadlines, items without a deadline last: the order of
    ``by_deadline(..., Item.due_at, Item.id.desc(), page)`` on their union.

    Each part is read in order on its own index, at most a page's end deep, and the
    parts are merged here; an item two parts share is counted once. ``each_closed``:
    every part is read twice, for open and for closed items (``closed`` free before
    ``due_at`` in an index made the database collect and sort a part's every item).
    """
    if not each_closed and len(parts) == 1 and not getattr(parts[0], "read_when", None):
        return by_deadline(parts[0], Item.due_at, Item.id.desc(), page)
    end = page * PAGE_SIZE
    arms, undated, each, checks = deadline_arms(parts, end, each_closed=each_closed)
    rows = union_all(Item, arms, each=each, checks=checks, undated=undated, end=end)
    return merged_page(rows, page)


def deadline_arms(
    parts: list[Any], end: Any, *, each_closed: bool = False
) -> tuple[list[Any], list[Any], dict[str, list[Any]] | None, list[Any]]:
    """:func:`merged_by_deadline`'s arms: each part's items with a deadline, and each
    part's without, at most ``end`` each; with the closed items (``each_closed``) the
    latter apart, read only when the first fall short of ``end`` (``union_sql``); the
    values its union repeats them for and the size checks their LIMITs read.

    A part with a ``read_when`` (``scope.visible_item_parts``, ``_by_state``: one of two
    ways to the same items; a list of (check, answer) pairs) has them in its LIMIT, which
    is 0 when a check's answer is not the part's: the database then reads nothing of it
    (a condition in the WHERE would be tested on every row of the scan). Parts sharing a
    check read it once. A part with a ``read_for`` (``scope._summoned_conds``) has one
    such pair for its open items and one for its closed ones, True for always or None for
    never. A part with an ``order_on`` is read in the order of those columns (a unit's
    pairs with its open items: ``_order_on``).

    With the closed items, a small subtree's part (``node_list``) is read node by node
    (``_node_by_node``) or, larger, its closed items walked when it holds many of them,
    its open ones likewise (``_walked_when_many``). The open ones alone (``each_closed``
    false: the callers' open-only lists) are read whole or node by node, gathered or
    walked, by how many the subtree holds (``_open_ways``)."""
    if not each_closed:  # a part of summoned items read for the closed ones only: left out
        parts = [p for p in parts if getattr(p, "read_for", None) is None or p.read_for["open"]]
        opened: dict[tuple[Any, ...], Any] = {}  # one size check per list of nodes
        parts = [way for part in parts for way in _open_ways(part, opened)]
    else:
        parts = [part.where(Item.closed == Slot("closed")) for part in parts]
        made: dict[tuple[Any, ...], Any] = {}  # one size check per list of nodes
        parts = [way for part in parts for way in _walked_when_many(part, end, made)]
    checks: list[Any] = []

    def answer(check: Any, wanted: bool) -> Any:
        number = next((i for i, c in enumerate(checks) if c is check), len(checks))
        if number == len(checks):
            checks.append(check)
        return Expression(Slot(f"w{number}"), "=", wanted)

    closed = Expression(Slot("closed"), "=", True)

    def most(part: Any) -> Any:
        when = getattr(part, "read_when", None) or []
        walk = getattr(part, "walk", None)
        read_for = getattr(part, "read_for", None)
        if not each_closed and read_for is not None and read_for["open"] is True:
            read_for = None  # read for the open items always, and only they are read
        if not when and walk is None and read_for is None:
            return end
        answers = [answer(check, wanted) for check, wanted in when]
        if walk is not None:  # its closed items walked when many; its open ones too, or never
            last = answer(*walk)
            walk_open = getattr(part, "walk_open", None)
            if walk_open is None:
                answers.append((closed & last) if walk[1] else (~closed | last))
            else:
                answers.append((closed & last) | (~closed & answer(*walk_open)))
        if read_for is not None:  # a way for the open items, one for the closed ones
            if not each_closed:  # (a part never read for them is left out)
                answers.append(answer(*read_for["open"]))
            else:
                sides = [
                    side if way is True else side & answer(*way)
                    for side, way in ((~closed, read_for["open"]), (closed, read_for["closed"]))
                    if way is not None
                ]
                answers.append(reduce(operator.or_, sides))
        return Case(None, [(reduce(operator.and_, answers), end)], 0)

    # A small subtree's closed items grow with the years, its open ones do not: with the
    # closed ones, it is read node by node (open only, its list is read whole while it holds
    # few: 0.1 ms less; ``_open_ways``), where the statement's plan is kept
    # (planned anew, its many arms cost more).
    split = each_closed and backend().plans_kept

    def by_node(part: Any) -> bool:
        return split or getattr(part, "by_node", False)

    undated = partial(_undated, open_only=not each_closed)
    limits = [most(part) for part in parts]
    arms = [
        _node_by_node(part, _dated, DATED_ORDER, limit, by_node(part))
        for part, limit in zip(parts, limits, strict=True)
    ]
    if each_closed:
        # With the closed items (their final states have no deadline in the district's
        # packs: ten years of them at a million), those without one only where the dated
        # fall short of the page.
        limits = [Case(None, [(PAGE_FULL, 0)], limit) for limit in limits]
    # Open only, those without a deadline are few, read along: counting the dated first
    # cost more (a department's open items at the ten-year million: 0.20 -> 0.24 ms).
    undated_arms = [
        _node_by_node(part, undated, UNDATED_ORDER, limit, by_node(part))
        for part, limit in zip(parts, limits, strict=True)
    ]
    if not each_closed:
        return arms + undated_arms, [], None, checks
    return arms, undated_arms, {"closed": [False, True]}, checks


# Up to this many nodes (a community, a compound) a subtree's items are read node by node
# (``_node_by_node``); a larger one's closed items are walked when it holds many of them
# (``_walked_when_many``).
NODE_BY_NODE = 32
# Walking the district's closed items newest first, a subtree holding s of their n finds a
# page's end e after about e * n / s of them, each looked up for its node (about 1 µs);
# gathering its own costs about 0.3 µs each, and a sort: walked when s * s > 3 * e * n (a
# street's 55,000 of a million closed in ten years: 16 -> 1 ms for its list).
WALK_FACTOR = 3


def _walked_when_many(part: Any, end: Any, made: dict[tuple[Any, ...], Any]) -> list[Any]:
    """``part`` as one or two ways to its items. A subtree's part (``node_list``) of more
    than ``NODE_BY_NODE`` nodes, or any where plans are not kept, is two where the
    database takes the way a hint says (``Backend.plan_hints``): its list of nodes
    gathered from their index and sorted, or, for its closed items when it holds many of
    them (the stored counts tell, in the statement), the district's closed items walked
    in order on (closed, due_at), the node tested on each (``walk``: a pair of the check
    and the answer for which the way is read; ``made``: the checks by list of nodes, one
    per list in a statement); its open ones likewise past ``FEW_OPEN_GATHERED``
    (``walk_open``)."""
    listed = getattr(part, "node_list", None)
    if not listed or not listed[1] or not backend().plan_hints:
        return [part]
    cond, ids = listed
    if len(ids) <= NODE_BY_NODE and backend().plans_kept:
        return [part]  # read node by node
    if tuple(ids) not in made:
        held = fn.COALESCE(fn.SUM(NodeTally.items), 0)  # closed items: the bucket ""
        squared = NodeTally.select(held * held)
        squared = squared.where(ids_in(NodeTally.node, list(ids)) & (NodeTally.bucket == ""))
        total = fn.COALESCE(fn.SUM(AreaTally.items), 0)
        everyone = AreaTally.select(total).where(AreaTally.bucket == "")
        made[tuple(ids)] = Expression(squared, ">", Expression(everyone, "*", end) * WALK_FACTOR)
    many = made[tuple(ids)]
    many_open = _many_open(made, ids, FEW_OPEN_GATHERED)
    walked = _walked(part, cond, ids)
    gathered = part.clone()
    gathered.node_list = None
    walked.walk, gathered.walk = (many, True), (many, False)
    # its open ones walked too when it holds more than FEW_OPEN_GATHERED (``_open_ways``)
    walked.walk_open, gathered.walk_open = (many_open, True), (many_open, False)
    return [gathered, walked]


def _walked(part: Any, cond: Any, ids: Any) -> Any:
    """``part`` with its list of nodes ``cond`` (``ids``) tested on each row of the
    district's items walked in order on (closed, due_at), not searched on the node index."""
    walked = part.clone()
    walked._where = _swapped(part._where, cond, ids_in(backend().unindexed(Item.node), list(ids)))
    walked.in_deadline_order = True  # (closed, due_at): ``_undated`` on the index
    walked.node_list = None
    return walked


def _many_open(made: dict[tuple[Any, ...], Any], ids: Any, few: int) -> Any:
    """Whether the nodes ``ids`` hold more than ``few`` open items, counted up to one more
    on their index in the statement: one check per list of nodes and number (``made``)."""
    key = ("open", few, *ids)
    if key not in made:
        held = Item.select(SQL("1")).where(ids_in(Item.node, list(ids)) & (Item.closed == False))
        made[key] = Expression(count_up_to(held, few + 1), ">", few)
    return made[key]


# Up to this many open items, a small subtree's open list is read whole (its list of
# nodes gathered from their index and sorted); beyond it, node by node, each node's in
# deadline order up to a page's end. Whole, every open item is read and sorted (about
# 1.8 µs each: a compound of the stress million with 996 open at once, 1.8 ms for its
# first page; node by node 0.44 ms); node by node costs its arms, about 0.1 ms for few.
FEW_OPEN_WHOLE = 100
# Up to this many open items, a larger subtree's open list (more than ``NODE_BY_NODE``
# nodes) is gathered from its nodes' index and sorted; beyond it, the district's open items
# are walked in deadline order on (closed, due_at), the node tested on each from the index,
# until a page's end: a street of the stress million holds 12,367 of 273,074 open items
# (1.56 ms gathered, 0.2 walked). Walking past a subtree's s of n open items reads about
# e * n / s of them for a page's end e; gathering reads s, each row and a sort.
FEW_OPEN_GATHERED = 1_000


def _open_ways(part: Any, made: dict[tuple[Any, ...], Any]) -> list[Any]:
    """``part`` as one or two ways to its open items. A subtree's part (``node_list``) of
    two to ``NODE_BY_NODE`` nodes, where plans are kept (``Backend.plans_kept``), is read
    whole while its nodes hold at most ``FEW_OPEN_WHOLE`` open items, else node by node
    (``by_node``); a larger one, where the database takes the way a hint says
    (``Backend.plan_hints``), is gathered from its nodes while they hold at most
    ``FEW_OPEN_GATHERED``, else walked.
    The statement counts the open items up to one more on their index to choose; each
    way's ``read_when`` carries the check (``made``: one per list of nodes)."""
    listed = getattr(part, "node_list", None)
    if not listed or len(listed[1]) < 2:
        return [part]
    cond, ids = listed
    small = len(ids) <= NODE_BY_NODE
    if not (backend().plans_kept if small else backend().plan_hints):
        return [part]
    many = _many_open(made, ids, FEW_OPEN_WHOLE if small else FEW_OPEN_GATHERED)
    gathered = part.clone()
    if small:
        other = part.clone()
        other.by_node = True
    else:
        other = _walked(part, cond, ids)
        gathered.node_list = None
    when = list(getattr(part, "read_when", None) or [])
    gathered.read_when, other.read_when = [*when, (many, False)], [*when, (many, True)]
    return [gathered, other]


def _dated(part: Any) -> Any:
    """A part's items with a deadline, in deadline order (newest first among equals)."""
    due, item = _order_on(part)
    return part.where(due.is_null(False)).order_by(due, item.desc())


def _order_on(part: Any) -> tuple[Any, Any]:
    """The columns of a part's deadline and item id in its index's order: the item's, or
    those kept beside it (``scope._summoned_conds``' pairs of a unit and its open items,
    ``order_on``)."""
    return getattr(part, "order_on", None) or (Item.due_at, Item.id)


# The orders of ``_dated`` and ``_undated`` on their rows' columns (a merged arm's).
DATED_ORDER = (SQL("due_at"), SQL("id DESC"))
UNDATED_ORDER = (SQL("id DESC"),)


def _node_by_node(
    part: Any, arm: Callable[[Any], Any], order: tuple[Any, ...], most: Any, split: bool
) -> Any:
    """``arm(part)``'s first ``most`` rows. With ``split``, a small subtree's part
    (``node_list``: ``scope.visible_item_parts``) is one arm per node, each in order on
    the node's index, merged under ``order`` in the statement (``union_sql`` takes it as
    it is): a page reads at most a page from each node, not every item of the list of
    nodes (a commissioner's compound's 793 items closed in ten years, each looked up and
    sorted: 2.1 -> 0.4 ms at 1,000,000 items)."""
    found = getattr(part, "node_list", None) if split else None
    if not found or not found[1] or len(found[1]) > NODE_BY_NODE:
        return arm(part).limit(most)
    listed, nodes = found
    each = []
    for node in nodes:
        # the part with its node instead of the list: beside the list, without statistics
        # (the demo's), SQLite took (closed, due_at) for a node's items without a deadline
        one = part.clone()
        one._where = _swapped(part._where, listed, Item.node == node)
        one.in_deadline_order = True  # (node, closed, due_at): ``_undated`` on the index
        each.append(arm(one).limit(most))
    return merged_in_order(each, order, most)


def merged_in_order(each: list[Any], order: tuple[Any, ...], most: Any) -> Any:
    """The first ``most`` rows of the queries ``each`` (each ordered and limited on its
    own index) merged under ``order`` (their columns' names), as one arm that
    ``union_sql`` takes as it is."""
    wrapped = [Select([one.alias(f"n{i}")], [SQL("*")]) for i, one in enumerate(each)]
    merged = Select([reduce(operator.add, wrapped).alias("nodes")], [SQL("*")])
    merged = merged.order_by(*order).limit(most).bind(database)
    merged.merged = True
    return merged


def _swapped(where: Any, old: Any, new: Any) -> Any:
    """The condition ``where`` with its part ``old`` (the very node) replaced by ``new``."""
    if where is old:
        return new
    if isinstance(where, Expression):
        lhs, rhs = _swapped(where.lhs, old, new), _swapped(where.rhs, old, new)
        if lhs is not where.lhs or rhs is not where.rhs:
            return Expression(lhs, where.op, rhs, where.flat)
    return where


def merged_page(
    found: list[Any],
    page: int,
    *,
    id_of: Callable[[Any], int] = operator.attrgetter("id"),
    due_of: Callable[[Any], Any] = operator.attrgetter("due_at"),
) -> list[Any]:
    """Page ``page`` of :func:`deadline_arms`' rows (``found``), merged by deadline: the
    dated ones by deadline (newest first among equals), then the undated newest first;
    an item read by two arms once. ``id_of`` and ``due_of`` read a row's id and deadline
    (a model's attributes, or a raw row's places)."""
    end = page * PAGE_SIZE
    dated: dict[int, tuple[Any, Any]] = {}
    undated: dict[int, Any] = {}
    for row in found:
        due = due_of(row)
        if due is None:
            undated[id_of(row)] = row
        else:
            dated[id_of(row)] = (due, row)
    ordered = sorted(dated.items(), key=lambda kept: (kept[1][0], -kept[0]))[:end]
    rows = [row for _, (_, row) in ordered]
    if len(rows) < end:
        rows += [undated[i] for i in sorted(undated, reverse=True)[: end - len(rows)]]
    return rows[end - PAGE_SIZE : end]


def item_types() -> list[Definition]:
    """The item types, in order (a queue's type filter)."""
    return [d for d in definitions().values() if d.kind == "item_type"]


# Up to this many items in a state, a list filtered by it reads them on the state's index;
# with more, each part's own index in deadline order, testing the state on each row.
FEW_IN_STATE = 10_000


def _by_state(parts: list[Any], state: Any) -> list[Any]:
    """``parts`` restricted to the items in ``state``, each as two parts of which a page
    reads one (``read_when``): on the state's index when the district has at most
    ``FEW_IN_STATE`` items in it, else on the part's own index, the state tested on each
    row. SQLite's statistics always chose the state's index, which for a common state read
    most of the million: a street's list of its ``closed`` items with closed ones
    included, 1.24 s at 1,000,000 items over ten years; a rare state read on the parts'
    indexes would walk every closed item of the subtree."""
    many = fn.EXISTS(Item.select(SQL("1")).where(Item.state == state).limit(1).offset(FEW_IN_STATE))
    out = []
    for part in parts:
        when = list(getattr(part, "read_when", None) or [])
        # by id from the state's index, each looked up (the rowid list draws SQLite's plan
        # away from an index in deadline order, which walked every closed item)
        few = part.where(Item.id.in_(Item.select(Item.id).where(Item.state == state)))
        few.read_when = [*when, (many, False)]
        few.node_list = None  # a few ids: gathered (node by node, each node's arm its list)
        walked = part.where(backend().unindexed(Item.state) == state)
        walked.read_when = [*when, (many, True)]
        out += [few, walked]
    return out


def inbox_parts(actor: Actor, filters: Filters, fields: list[Any]) -> list[Any]:
    """The parts whose union is ``items_filtered(actor, filters)``, each a query one index
    can serve in deadline order (``merged_by_deadline`` merges them).

    "Mine" is the part of the items the actor raised and each other part restricted to
    the items summoning its units, rather than an OR in every part: the OR made the
    database collect and sort every item a part holds (a resident's list: 0.4 s at
    1,000,000 items). Without ``open_only`` the caller reads each part once per value
    of ``closed`` (``merged_by_deadline``'s ``each_closed``).
    """
    bases = visible_item_parts(actor)
    if filters.mine:  # raised by the actor, or summoning its units
        units = visible_assignments(actor).select(Assignment.item)
        bases = _mine(bases, units)
        filters = replace(filters, mine=False)
    return [items_filtered(actor, filters, base=base.select(*fields)) for base in bases]


def _mine(bases: list[Any], units: Any) -> list[Any]:
    """The parts of the items raised by the actor or summoning its units (``units``)."""
    # The parts end with the items the actor raised (all of them its own) and those
    # handed to it (``scope.visible_item_parts``).
    raised, others = bases[-2], bases[:-2] + bases[-1:]
    mine = [base.where(Item.id.in_(units)) for base in others]
    for base in mine:  # its units' items: gathered (node by node, each node's arm the list)
        base.node_list = None
    return [raised, *mine]


# The inbox's statements by shape (``_inbox_statement``); at most this many are kept.
_INBOX_STATEMENTS: dict[Hashable, tuple[str, list[Any]]] = {}
INBOX_STATEMENTS_KEPT = 512


def _inbox_statement(
    actor: Actor, filters: Filters, fields: tuple[Any, ...], end: int
) -> tuple[str, list[Any]]:
    """``merged_by_deadline(inbox_parts(actor, filters, ...))``'s statement and
    parameters, built once per shape: the parts' ways (a small subtree's node ids are
    written into the SQL, so they are part of it), the filters present, the columns
    and the backend. The user, large subtrees' paths, roles, state, type and page end
    are values. Building it cost a queue page more than reading it (1–1.7 ms)."""
    ways, values = visible_part_shape(actor)
    unit_ways: tuple[Any, ...] | None = None
    if filters.mine:
        unit_ways, unit_values = assignment_shape(actor)
        values.update(unit_values)
    handled = bool(actor.grants_for(HANDLER_ROLE))
    values.update(state=filters.state, type=filters.type, end=end)
    key = (
        type(database.obj),
        ways,
        unit_ways,
        tuple(f.name for f in fields),
        filters.open_only,
        bool(filters.state),
        bool(filters.type),
        handled,
    )
    entry = _INBOX_STATEMENTS.get(key)
    if entry is None:
        slots = {name: Slot(name) for name in values}
        bases = visible_parts_slotted(ways, slots)
        if unit_ways is not None:
            bases = _mine(bases, assignments_slotted(unit_ways, slots).select(Assignment.item))
        parts = [
            _refined(
                base.select(*fields),
                filters,
                slots,
                within_node=None,
                handled=handled,
                with_state=False,
            )
            for base in bases
        ]
        if filters.state:
            parts = _by_state(parts, slots["state"])
        end = slots["end"]
        arms, undated, each, checks = deadline_arms(parts, end, each_closed=not filters.open_only)
        entry = union_sql(arms, each=each, checks=checks, undated=undated, end=end)
        if len(_INBOX_STATEMENTS) >= INBOX_STATEMENTS_KEPT:
            _INBOX_STATEMENTS.clear()
        _INBOX_STATEMENTS[key] = entry
    sql, params, asked = entry
    return sql, bind(params, answered(asked, values))


def inbox(
    actor: Actor,
    filters: Filters = Filters(),
    *,
    page: int = 1,
    with_data: bool = False,
    fields: tuple[Any, ...] | None = None,
) -> list[Item]:
    """Page ``page`` of the items the actor sees; their answers (``data``) only when asked.

    :param fields: only these columns of the items (a page's, which shows a few: each
        column is converted on every row read, a page's end deep in every part), with
        the id and deadline the merge needs; the type and node are attached only when
        their columns are among them.
    """
    if fields is None:
        fields = tuple(Item._meta.sorted_fields if with_data else LIST_FIELDS)
    else:
        fields = (Item.id, Item.due_at, *(f for f in fields if f.name not in ("id", "due_at")))
    if filters.node:  # the API's node filter looks the node up: built each time
        parts = inbox_parts(actor, filters, list(fields))
        rows = merged_by_deadline(parts, page, each_closed=not filters.open_only)
    else:
        sql, params = _inbox_statement(actor, filters, fields, page * PAGE_SIZE)
        rows = merged_page(list(Item.raw(sql, *params)), page)
    return _named(rows, fields)


def inbox_rows(
    actor: Actor, filters: Filters, fields: tuple[Any, ...], *, page: int = 1
) -> list[Any]:
    """:func:`inbox`'s page of ``fields`` as light rows (``listed.Row``), not models: for
    a page that only shows them (the node filter is the API's)."""
    fields = (Item.id, Item.due_at, *(f for f in fields if f.name not in ("id", "due_at")))
    sql, params = _inbox_statement(actor, filters, fields, page * PAGE_SIZE)
    # Merged as read, only the page's rows converted: each arm reads up to a page, and
    # the rows of the others were made and dropped (a street's list with closed items:
    # 151 rows read for its 50).
    deadline = Item.due_at.python_value
    found = merged_page(
        database.execute_sql(sql, params).fetchall(),
        page,
        id_of=operator.itemgetter(0),
        due_of=lambda raw: None if raw[1] is None else deadline(raw[1]),
    )
    return _named(rows_of(found, fields), fields)


def _named(rows: list[Any], fields: tuple[Any, ...]) -> list[Any]:
    """``rows`` with their definitions and nodes attached, when their columns were read."""
    names = {f.name for f in fields}  # (a field's == builds SQL: no ``in`` on fields)
    if "definition" in names:
        known = definitions()
        for row in rows:
            if row.definition_id in known:
                row.definition = known[row.definition_id]
    if "node" in names:  # state labels come from the cached runtime by version id
        nodes = nodes_by_id({row.node_id for row in rows})
        for row in rows:
            if row.node_id in nodes:
                row.node = nodes[row.node_id]
    return rows


# What the inbox's rows show (``pages.work``): no dates but the deadline, no counters
# but the urges.
INBOX_SHOWN = (
    Item.definition,
    Item.version,
    Item.node,
    Item.title,
    Item.state,
    Item.closed,
    Item.urge_count,
)


def summons_filtered(actor: Actor, *, open_only: bool = True) -> Any:
    """Summons addressed to the actor's units, not yet ordered.

    A large subtree (a district's supervisor) is matched by its nodes' ids, and
    ``summons`` sorts by an unindexed deadline: in the (open, next_due_at) index's order
    the database read every open summons looking for the few of the actor's role (0.29 s
    at 1,000,000 items, for none); on the (unit, role, open, next_due_at) index it reads
    only that role's open summons in the subtree.
    """
    return _summons_joined(visible_assignments(actor, by_ids=_has_large(actor)), open_only)


def _has_large(actor: Actor) -> bool:
    """Whether a grant of the actor's is at a subtree too large for its ids to be listed
    (``scope.small_subtree_ids``; memoized per request)."""
    return any(small_subtree_ids(g.node_path) is None for g in actor.grants)


def _gathered_by_unit(actor: Actor) -> bool:
    """Whether the actor's summons are gathered unit by unit and then sorted: a large
    subtree matched by its nodes' ids (``visible_assignments(by_ids=True)``), unless every
    grant is at a root, whose role's summons the (role, open, next_due_at) index gives in
    deadline order (``scope.assignment_shape_by_ids``)."""
    return _has_large(actor) and not all(is_root(g.node_path) for g in actor.grants)


def _summons_joined(query: Any, open_only: bool) -> Any:
    """``query`` (summons) joined to their items and units; only open ones when
    ``open_only``. Closed ones too is ``open IN (1, 0)``, not no condition: the (…, role,
    open, next_due_at) indexes then serve both halves of ``by_deadline``. Without it,
    SQLite read the summons without a deadline on the (open, next_due_at) index, every
    closed one of the district, for a root's role (the district supervisor's list with
    closed summons: 766 ms at 1,000,000 items, for none)."""
    return _summons_open(query.join(Item).switch(Assignment).join(OrgNode), open_only)


def _summons_open(query: Any, open_only: bool) -> Any:
    """``query`` (summons) with only the open ones when ``open_only``, else both as
    ``open IN (1, 0)`` (``_summons_joined``)."""
    if open_only:
        return query.where(Assignment.open == True)
    return query.where(Assignment.open.in_([True, False]))


# The summons lists' first pages' statements by shape (``_summons_first_page``).
_SUMMONS_STATEMENTS: dict[Hashable, tuple[str, list[Any]]] = {}


def _summons_first_page(actor: Actor, open_only: bool) -> list[int]:
    """The ids on the first page of ``summons``: ``by_deadline``'s first statement,
    built once per shape (each grant's subtree ids, written into the SQL; whether one is
    large; ``open_only``; the backend), the roles its values."""
    large = _has_large(actor)
    # every subtree by its nodes' ids (``visible_assignments(by_ids=True)``), or not
    shape = assignment_shape_by_ids if large else assignment_shape
    ways, values = shape(actor)
    key = (type(database.obj), ways, large, open_only)
    entry = _SUMMONS_STATEMENTS.get(key)
    if entry is None:
        slots = {name: Slot(name) for name in values}
        units = ways[0] if len(ways) == 1 and not large else None
        if units and 1 < len(units) <= NODE_BY_NODE and backend().plans_kept:
            arms = _summons_unit_by_unit(units, slots, open_only)
        else:
            query = _summons_joined(assignments_slotted(ways, slots), open_only)
            due, tiebreak = Assignment.next_due_at, Assignment.id
            if _gathered_by_unit(actor):  # sorted after: not on an index in this order
                due, tiebreak = backend().unindexed(due), backend().unindexed(tiebreak)
            arms = first_page_arms(query.select(Assignment.id), due, tiebreak)
        entry = union_sql(arms)[:2]
        if len(_SUMMONS_STATEMENTS) >= INBOX_STATEMENTS_KEPT:
            _SUMMONS_STATEMENTS.clear()
        _SUMMONS_STATEMENTS[key] = entry
    sql, params = entry
    cursor = database.execute_sql(sql, bind(params, values))
    return [row[0] for row in cursor.fetchall()][:PAGE_SIZE]


def _summons_unit_by_unit(
    units: tuple[int, ...], slots: dict[str, Any], open_only: bool
) -> list[Any]:
    """``by_deadline``'s first page of the summons of one grant's few units (``units``)
    as two arms, each merging a page read from every unit in order on its (unit, role,
    open, next_due_at) index: the list of units in one IN made the database read and
    sort every open summons of them (a compound's property company at the stress
    million, 995: 0.5 ms; 0.1). Only the ids are read: on the index alone, without the
    joins to the items and units (each summons has both)."""
    each: dict[bool, list[Any]] = {True: [], False: []}
    for unit in units:
        query = _summons_open(assignments_slotted(((unit,),), slots), open_only)
        query = query.select(Assignment.id, Assignment.next_due_at)
        due = Assignment.next_due_at
        each[True].append(
            query.where(due.is_null(False)).order_by(due, Assignment.id).limit(PAGE_SIZE)
        )
        each[False].append(query.where(due.is_null()).order_by(Assignment.id).limit(PAGE_SIZE))
    return [
        merged_in_order(each[True], (SQL("next_due_at"), SQL("id")), PAGE_SIZE),
        merged_in_order(each[False], (SQL("id"),), PAGE_SIZE),
    ]


def summons_query(actor: Actor, *, open_only: bool = True) -> Any:
    """Summons addressed to the actor's units, ordered by deadline (no deadline last)."""
    return summons_filtered(actor, open_only=open_only).order_by(
        SQL("next_due_at IS NULL"), Assignment.next_due_at, Assignment.id
    )


def summons(actor: Actor, *, open_only: bool = True, page: int = 1) -> list[Assignment]:
    """Summons addressed to the actor's units, by deadline."""
    ids = _summons_ids(actor, open_only, page)
    if not ids:
        return []
    found = {row.id: row for row in _summons_with_items(ids)}
    return [found[i] for i in ids if i in found]


def _summons_ids(actor: Actor, open_only: bool, page: int) -> list[int]:
    """The ids of :func:`summons`' page ``page``, in order."""
    if page == 1:
        ids = _summons_first_page(actor, open_only)
    else:
        query = summons_filtered(actor, open_only=open_only)
        due, tiebreak = Assignment.next_due_at, Assignment.id
        if _gathered_by_unit(actor):  # sorted after: not on an index in this order
            due, tiebreak = backend().unindexed(due), backend().unindexed(tiebreak)
        ids = [row.id for row in by_deadline(query.select(Assignment.id), due, tiebreak, page)]
    return ids


# What the summons lists show (``pages.work``) of each summons, its item and its unit.
SUMMONS_SHOWN = (
    Assignment.id,
    Assignment.item,
    Assignment.state,
    Assignment.next_due_at,
    Assignment.urge_count,
)


def summons_rows(
    actor: Actor, *, open_only: bool = True, page: int = 1, most: int = PAGE_SIZE
) -> list[Any]:
    """:func:`summons`' page as light rows (``listed.Row``) of ``SUMMONS_SHOWN``, with
    the item's title (``row.item.title``) and the unit's name (``row.unit.name``): for a
    page that only shows them (models of three tables, forty columns, cost more).

    :param most: only the page's first ``most`` (a preview of the nearest deadlines).
    """
    ids = _summons_ids(actor, open_only, page)[:most]
    if not ids:
        return []
    raw = _by_ids("queues.summons_light", _summons_light_query, ids)[1].fetchall()
    width = len(SUMMONS_SHOWN)
    found = {}
    for row, values in zip(rows_of([r[:width] for r in raw], SUMMONS_SHOWN), raw, strict=True):
        row.item = Row({"title": values[width]})
        row.unit = Row({"name": values[width + 1]})
        found[row.id] = row
    return [found[i] for i in ids if i in found]


def _summons_with_items(ids: list[int]) -> Any:
    """The summons ``ids`` with their items and units, in one query: without the items'
    answers and the units' files (the list shows a title and a name). Its SQL and column
    resolution are made once per backend (forty columns: peewee spent more on building
    and resolving them than the database on the rows)."""
    key = "queues.summons_with_items"
    query, cursor = _by_ids(key, _summons_items_query, ids)
    return with_columns(query._get_cursor_wrapper(cursor), (key, type(database.obj)))


def _summons_light_query() -> Any:
    return (
        Assignment.select(*SUMMONS_SHOWN, Item.title, OrgNode.name)
        .join(Item)
        .switch(Assignment)
        .join(OrgNode)
    )


def _summons_items_query() -> Any:
    return (
        Assignment.select(Assignment, *LIST_FIELDS, *NODE_FIELDS)
        .join(Item)
        .switch(Assignment)
        .join(OrgNode)
    )


def _by_ids(key: str, build: Callable[[], Any], ids: list[int]) -> tuple[Any, Any]:
    """``build()``'s summons joined to their items and units, of ``ids`` (integers, written
    into the SQL: a list of any length is one statement without a parameter per id), and
    the cursor. The statement is built once per backend (``prepared.statement``) and must
    have no condition of its own."""
    query, sql, params = statement(key, build)
    if params or " WHERE " in sql or not sql.startswith('SELECT "t1"."id"'):
        raise RuntimeError(f"unexpected statement for summons rows: {sql}")
    listed = ",".join(str(int(i)) for i in ids)
    return query, database.execute_sql(f'{sql} WHERE "t1"."id" IN ({listed})', [])


def summons_first(actor: Actor) -> bool:
    """Whether the actor's work is its summons list: every role it holds sees only what
    its units were summoned to (departments). Its landing page then lists the summons,
    paged by deadline on the (unit, role, open, next_due_at) index; the items it was
    ever summoned to stay one click away."""
    return bool(actor.grants) and all(role_sees(g.role) == "summoned" for g in actor.grants)


def is_overdue(due: dt.datetime | None, now: dt.datetime) -> bool:
    return due is not None and due < now
