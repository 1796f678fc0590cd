"""Exact medians of resolution times from stored histograms (``resolution_tally``).

The database keeps, per org node, how many resolved items at or below it took a time in
each bucket (``Backend.resolution_triggers``; buckets 1 % wide at most, ``bucket_of``).
A median over a few subtrees then costs two reads whatever their size: the subtrees'
histograms (a few hundred rows each), which say in which bucket the middle value lies
and how many values come before it, and the items' times in that bucket alone (on the
index led by ``resolution_seconds``), where the middle one is picked (by the database
when the histograms count many items, ``PICK_ABOVE``). Exact: the same value as sorting
every time in scope, which ``/review/`` did (747,000 at 1,000,000 items). ``recount``
counts the histograms from the items; tests compare both.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable
from itertools import groupby
from operator import itemgetter
from typing import Any

from peewee import SQL, Select, ValuesList

from engine.org.scope import path_pattern
from engine.store.db import backend, write_transaction
from engine.store.models import Item, OrgNode, ResolutionTally
from engine.store.prepared import prepared_cursor

# When the keys' histograms count more items than this, each key of one source has its
# value picked by the database (``_picked``) instead of every time of its bucket read
# (``_times_in_buckets``): reading a bucket's range of the index costs what is in it for
# the whole district (5,000 times, 12 ms, for the district's /review/ at 1,000,000 items;
# picked, 2.5 ms); on the demo (a few times a bucket) reading costs less than planning
# the picks again on every run (their bounds are parameters in the WHERE).
PICK_ABOVE = 20_000


def bucket_of(seconds: int) -> int:
    """The bucket of a resolution time (``Backend.resolution_bucket`` in SQL): the value
    below 1,000; else its digits' count times 1,000 plus its first three digits."""
    if seconds < 1000:
        return seconds
    text = str(seconds)
    return len(text) * 1000 + int(text[:3])


def at_ranks(histogram: Iterable[tuple[int, int]], ranks: list[int]) -> list[tuple[int, int, int]]:
    """For each of ``ranks`` (ascending, each below the histogram's total): the bucket that
    holds the value at that rank of the sorted values, the value's rank among the bucket's
    own, and how many values the bucket holds. ``histogram``: (bucket, values) pairs in
    bucket order (the first bucket whose running count passes a rank holds it)."""
    found: list[tuple[int, int, int]] = []
    pending = iter(ranks)
    rank = next(pending, None)
    before = 0
    for bucket, n in histogram:
        while rank is not None and rank < before + n:
            found.append((bucket, rank - before, n))
            rank = next(pending, None)
        if rank is None:
            break
        before += n
    return found


def bucket_range(bucket: int) -> tuple[int, int]:
    """The times ``bucket`` holds: from the first, up to but without the second."""
    if bucket < 1000:
        return bucket, bucket + 1
    digits, lead = divmod(bucket, 1000)
    width = 10 ** (digits - 3)
    return lead * width, (lead + 1) * width


def medians(
    sources: dict[Hashable, list[tuple[int, str]]],
    extra: dict[Hashable, list[int]] | None = None,
) -> dict[Hashable, int | None]:
    """Per key, the median resolution time (the upper one of an even count, as
    ``sorted(values)[len(values) // 2]``) of the resolved items under its source nodes
    (``(node id, path)`` pairs, none below another) and of its ``extra`` times; None
    without any. Two queries (three when many items meet keys of several sources or extra
    times), none when no key has a source.

    :param sources: key → the roots of the subtrees whose items count for it.
    :param extra: key → times of items outside those subtrees (read by the caller).
    """
    extra = extra or {}
    ids = {node_id for roots in sources.values() for node_id, _ in roots}
    # node id -> its (node id, bucket, items) rows in bucket order, as the cursor gives them
    stored: dict[int, list[tuple[int, int, int]]] = {}
    if ids:
        rows = prepared_cursor(  # built once per number of nodes
            ("medians.histograms", len(ids)),
            _histograms,
            **{f"node{i}": node_id for i, node_id in enumerate(sorted(ids))},
        )
        for node_id, group in groupby(rows.fetchall(), _FIRST):  # in node order
            stored[node_id] = list(group)
    wanted: dict[Hashable, tuple[int, int]] = {}  # key -> (bucket, values before it)
    sizes: dict[Hashable, int] = {}  # key -> how many values it has
    for key in {*sources, *extra}:
        roots, more = sources.get(key, ()), extra.get(key, ())
        if len(roots) == 1 and not more:  # the usual case: one stored histogram, in order
            rows_of = stored.get(roots[0][0], [])
            buckets, numbers = [r[1] for r in rows_of], [r[2] for r in rows_of]
        else:
            counts: Counter[int] = Counter(bucket_of(v) for v in more)
            for node_id, _ in roots:
                for _, bucket, n in stored.get(node_id, ()):
                    counts[bucket] += n
            histogram = sorted(counts.items())
            buckets, numbers = [b for b, _ in histogram], [n for _, n in histogram]
        total = sum(numbers)
        if not total:
            continue
        ((bucket, offset, _),) = at_ranks(zip(buckets, numbers), [total // 2])
        wanted[key], sizes[key] = (bucket, offset), total
    # Many items: a key of one source and no extra times has its value picked by the
    # database; the others' times are read and picked here.
    picks = (
        {key for key in wanted if len(sources.get(key, ())) == 1 and not extra.get(key)}
        if sum(sizes.values()) > PICK_ABOVE
        else set()
    )
    found: dict[Hashable, int | None] = {key: None for key in {*sources, *extra}}
    if picks:
        found.update(_picked(sources, {key: wanted[key] for key in picks}))
    in_bucket = _times_in_buckets(sources, {k: v for k, v in wanted.items() if k not in picks})
    for key, (bucket, offset) in wanted.items():
        if key in picks:
            continue
        low, high = bucket_range(bucket)
        values = in_bucket.get(key, []) + [v for v in extra.get(key, ()) if low <= v < high]
        found[key] = sorted(values)[offset]
    return found


_FIRST = itemgetter(0)


def _histograms(**nodes: Any) -> Any:
    t = ResolutionTally
    return (  # in (node, bucket) order, from the unique index
        t.select(t.node, t.bucket, t.items)
        .where(t.node.in_(list(nodes.values())) & (t.items != 0))
        .order_by(t.node, t.bucket)
    )


def _picked(
    sources: dict[Hashable, list[tuple[int, str]]], wanted: dict[Hashable, tuple[int, int]]
) -> dict[Hashable, int]:
    """Per key of ``wanted`` (each of one source), the time at its rank in its bucket under
    its source, picked by the database: ``ORDER BY … LIMIT 1 OFFSET rank`` on the
    (resolution_seconds, node_path) index steps over the entries before it without handing
    them over. One statement, a UNION ALL of a scalar subquery per key, built once per
    number of keys. Its bounds are parameters in the WHERE, so SQLite plans it again on
    every run (0.5 ms more than reading the demo's few times: ``PICK_ABOVE``)."""
    keys = list(wanted)
    values: dict[str, Any] = {}
    for i, key in enumerate(keys):
        bucket, rank = wanted[key]
        values[f"low{i}"], values[f"high{i}"] = bucket_range(bucket)
        values[f"pattern{i}"] = path_pattern(sources[key][0][1])
        values[f"rank{i}"] = rank
    rows = prepared_cursor(("medians.picked", len(keys)), _picks, **values)
    return {keys[i]: value for i, value in rows.fetchall() if value is not None}


def _picks(**slots: Any) -> Any:
    rs = Item.resolution_seconds
    query = None
    for i in range(len(slots) // 4):
        where = (
            (rs >= slots[f"low{i}"])
            & (rs < slots[f"high{i}"])
            & backend().path_filter(Item.node_path, slots[f"pattern{i}"])
        )
        one = Item.select(rs).where(where).order_by(rs).limit(1).offset(slots[f"rank{i}"])
        part = Select(columns=[SQL(str(i)), one]).bind(Item._meta.database)
        query = part if query is None else query + part
    return query


def _times_in_buckets(
    sources: dict[Hashable, list[tuple[int, str]]], wanted: dict[Hashable, tuple[int, int]]
) -> dict[Hashable, list[int]]:
    """Per key of ``wanted``, the resolution times in its bucket under its sources: one
    prepared statement per number of (bucket, path) pairs, the pairs a VALUES list joined
    to the (resolution_seconds, node_path) index, a range of it per pair, the paths tested
    on the index entries (``+node_path`` on SQLite: a path range would read a whole
    subtree). An OR of a condition per pair, its bounds and patterns as parameters, made
    SQLite plan the statement again on every run (0.7 ms for the district's eighteen
    buckets; the join 0.02)."""
    pairs: list[tuple[int, str]] = []
    for key, (bucket, _) in wanted.items():
        pairs.extend((bucket, path) for _, path in sources.get(key, ()))
    if not pairs:
        return {}
    values: dict[str, Any] = {}
    for i, (bucket, path) in enumerate(pairs):
        values[f"low{i}"], values[f"high{i}"] = bucket_range(bucket)
        values[f"pattern{i}"] = path_pattern(path)
    rows = prepared_cursor(("medians.bucket_times", len(pairs)), _bucket_times, **values)
    # Pairs of different keys may overlap (two keys sharing a root): each item once.
    by_id = {item_id: (path, value) for item_id, path, value in rows.fetchall()}
    found: dict[Hashable, list[int]] = {key: [] for key in wanted}
    for key, (bucket, _) in wanted.items():
        low, high = bucket_range(bucket)
        paths = tuple(path for _, path in sources.get(key, ()))
        found[key] = [v for path, v in by_id.values() if low <= v < high and path.startswith(paths)]
    return found


def _bucket_times(**slots: Any) -> Any:
    count = len(slots) // 3
    pairs = ValuesList(
        [(slots[f"low{i}"], slots[f"high{i}"], slots[f"pattern{i}"]) for i in range(count)]
    ).cte("pairs", columns=("low", "high", "pattern"))
    rs = Item.resolution_seconds
    return (
        Item.select(Item.id, Item.node_path, rs)
        .with_cte(pairs)
        .from_(pairs, Item)
        .where(
            (rs >= pairs.c.low)
            & (rs < pairs.c.high)
            & backend().path_filter(Item.node_path, pairs.c.pattern)
        )
    )


def stored() -> dict[tuple[int, int], int]:
    """(node id, bucket) → resolved items, zero rows left out."""
    t = ResolutionTally
    rows = t.select(t.node, t.bucket, t.items).tuples()
    return {(node, bucket): n for node, bucket, n in rows if n}


def recount() -> dict[tuple[int, int], int]:
    """What ``stored`` should hold, counted from the items and the org tree."""
    ids_by_path = dict(OrgNode.select(OrgNode.path, OrgNode.id).tuples())
    found: Counter[tuple[int, int]] = Counter()
    rows = Item.select(Item.node_path, Item.resolution_seconds).where(
        Item.resolution_seconds.is_null(False)
    )
    for path, seconds in rows.tuples():
        for prefix, node_id in ids_by_path.items():
            if path.startswith(prefix):
                found[node_id, bucket_of(seconds)] += 1
    return dict(found)


def rebuild() -> None:
    """Replace the stored histograms by a recount of every item (one transaction)."""
    with write_transaction():
        backend().rebuild_resolution_tally()


def sources_for(node_id: int, path: str, subtrees: dict[str, int]) -> list[tuple[int, str]]:
    """The roots whose items count under the node ``node_id`` at ``path`` for an actor
    who sees ``subtrees`` (path → node id): the node itself when a subtree holds it,
    else the subtrees inside it (none below another)."""
    if any(path.startswith(p) for p in subtrees):
        return [(node_id, path)]
    inside = sorted(p for p in subtrees if p.startswith(path))
    roots = [p for p in inside if not any(p != q and p.startswith(q) for q in inside)]
    return [(subtrees[p], p) for p in roots]
