"""What differs between SQLite and PostgreSQL, in one place.

Code elsewhere asks the current backend (``engine.store.db.backend()``) for an expression, a
lock or a feature by what it does — never which database it is. A third backend would be
one more class here.
"""

from __future__ import annotations

import datetime as dt
import operator
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import reduce
from typing import Any

from peewee import SQL, Expression, NodeList, fn

from engine.store.due_sql import DueCountsSQL, PostgresDueCountsSQL
from engine.store.duration_sql import DurationTallySQL, PostgresDurationTallySQL
from engine.store.open_items_sql import OpenItemsSQL, PostgresOpenItemsSQL
from engine.store.summons_sql import PostgresSummonsCountsSQL, SummonsCountsSQL

# What :meth:`Backend.pattern_literal` writes into SQL: a path's digits and slashes, a '*'.
_LITERAL_PATTERN = re.compile(r"[0-9/*]+")


def _subtree_range(path: str) -> tuple[str, str]:
    """The texts of the paths at or under ``path`` in byte order: from ``path`` up to
    ``path`` with its last character raised ('/1/78/' up to '/1/780', not included)."""
    return path, path[:-1] + chr(ord(path[-1]) + 1)


class Backend(SummonsCountsSQL, DurationTallySQL, OpenItemsSQL, DueCountsSQL):
    """The SQLite way; :class:`PostgreSQL` overrides what differs."""

    name = "sqlite"
    # SELECT ... FOR UPDATE [SKIP LOCKED]: rows can be locked and skipped by others.
    row_locks = False
    # An ordered-set median in SQL (percentile_cont ... WITHIN GROUP).
    sql_median = False
    # Where attachments go unless configured: SQLite's file beside a folder of files.
    attachments_default = "disk"
    # Indexes beyond the models' own (create_tables adds them).
    extra_indexes: tuple[str, ...] = (
        # A live board below the root: its subtree's open items of the board's types,
        # newest first from this index alone (``live._arms``; a street at the stress
        # million: 598 entries read, where walking the district's newest first read 1,426
        # rows for its 201). Of the open items only, asked for as ``closed IS 0`` written
        # in the statement: SQLite weighs a partial index for a term like its own, and for
        # ``closed = ?`` it would look at the value bound, which makes every statement
        # testing the flag so be compiled again on every run (a compound's list with its
        # closed items: 1.5 -> 10 ms); and the district's board, walking its types' open
        # items newest first on the (type, closed, raised_at) index, is not drawn to it.
        (
            'CREATE INDEX IF NOT EXISTS "item_open_type_path_raised_at"'
            ' ON "item" ("definition_id", "node_path", "raised_at", "closed")'
            ' WHERE "closed" IS 0'
        ),
        # The open items a user raised or handles, of a live board's types, from these
        # alone (``live._arms``): not each of their open items read for its type.
        (
            'CREATE INDEX IF NOT EXISTS "item_open_raiser_type"'
            ' ON "item" ("raised_by_id", "definition_id", "raised_at") WHERE "closed" IS 0'
        ),
        (
            'CREATE INDEX IF NOT EXISTS "item_open_handler_type"'
            ' ON "item" ("handler_id", "definition_id", "raised_at") WHERE "closed" IS 0'
        ),
    )
    # A statement's plan is kept between runs (the sqlite3 module keeps each connection's
    # compiled statements): a statement of many small arms costs its plan once.
    # PostgreSQL plans each run anew (the 28 arms of a compound's list read node by node:
    # 3.9 ms to plan, against 1.1 for its list of nodes).
    plans_kept = True
    # The planner takes the way ``unindexed`` says (SQLite); PostgreSQL weighs the ways
    # from its statistics, and two ways to the same rows would be one.
    plan_hints = True

    def __init__(self, database: Any) -> None:
        self.database = database

    def prefix_pattern(self, prefix: str) -> str:
        """The pattern :meth:`path_match` matches every text starting with ``prefix`` with."""
        return prefix + "*"

    def path_match(self, field: Any, pattern: Any) -> Any:
        """``field`` matches ``pattern`` (a :meth:`prefix_pattern`): the range of texts
        from the prefix up to the prefix with its last character raised, both worked out
        in SQL from the pattern (a value, a slot or a literal), a range of an index on
        ``field``. SQLite's GLOB against a parameter served an index too, but made the
        statement be planned again on every run, for that run's value (the /review/ of a
        street: 0.24–0.30 ms a run, 0.18 planned once); a range of constant expressions is
        planned once. Only a prefix: what :meth:`prefix_pattern` makes."""
        low = fn.RTRIM(pattern, SQL("'*'"))
        # (no last character: the empty prefix, under which every path lies)
        last = fn.COALESCE(fn.UNICODE(fn.SUBSTR(low, -1)), 0x10FFFE)
        high = fn.SUBSTR(low, 1, fn.LENGTH(low) - 1).concat(fn.CHAR(last + 1))
        return (field >= low) & (field < high)

    path_operator = "GLOB"  # what path_match compares with (in raw SQL too)

    def pattern_literal(self, pattern: str) -> str | None:
        """``pattern`` (a :meth:`prefix_pattern` of a materialized path) as an SQL literal
        to write into a statement's text, or None where it goes as a parameter.

        SQLite plans ``GLOB ?`` again on every run of a kept statement (the pattern's
        value decides whether the path index serves it), which cost the evaluation's
        counts 0.3 ms of 0.33; with the pattern in the text the plan is kept. Only
        digits, slashes and ``*`` (what paths and their patterns are made of) are
        written in.

        :raises ValueError: any other character (nothing else is written into SQL).
        """
        if not _LITERAL_PATTERN.fullmatch(pattern):
            raise ValueError(f"not a path pattern: {pattern!r}")
        return f"'{pattern}'"

    def path_match_literal(self, field: Any, pattern: str) -> Any:
        """:meth:`path_match` with ``pattern`` as :meth:`pattern_literal` writes it."""
        text = self.pattern_literal(pattern)
        return self.path_match(field, pattern if text is None else SQL(text))

    def path_test(self, field: Any, pattern: Any) -> Any:
        """``path_match`` for rows found another way (an item by its id): SQLite plans a
        GLOB against a bare parameter for that parameter's value (it might use an index),
        so a statement was planned again on every run with another value (about 45 µs);
        against an expression of it, once."""
        return Expression(field, self.path_operator, NodeList((pattern, SQL("|| ''")), parens=True))

    def unindexed(self, field: Any) -> Any:
        """``field`` for a condition tested on each row, never searched on an index: where
        the planner's choice of that index is known to be the slow one. SQLite skips
        indexes for ``+field``; PostgreSQL weighs them from its statistics. In an ORDER
        BY, the rows are sorted once found rather than read in the index's order: org
        nodes matched by an OR of conditions on indexed columns, which SQLite otherwise
        read all in id order, each with its file (0.3 ms at 1,397 nodes, against 0.02)."""
        return NodeList((SQL("+"), field), glue="")

    def unindexed_text(self, column: str) -> str:
        """:meth:`unindexed` for a column in SQL text."""
        return f"+{column}"

    def path_filter(self, field: Any, pattern: Any) -> Any:
        """``path_match`` as a test on each row only (:meth:`unindexed`): for a large
        subtree read in another index's order. Against an expression of the pattern
        (:meth:`path_test`): SQLite planned a statement with ``GLOB ?`` again on every run
        even where no index could serve it (the district office's inbox, six arms: 0.36 ms
        a run, 0.20 planned once)."""
        return self.path_test(self.unindexed(field), pattern)

    def path_under(self, field: Any, path: str) -> Any:
        """``field`` (a materialized path) starts with ``path``."""
        return self.path_match(field, self.prefix_pattern(path))

    def within_values(self, path: str, name: str) -> dict[str, str]:
        """The values :meth:`path_within` tests a path against for lying under ``path``,
        named after ``name``: the subtree's range of texts (``_subtree_range``). A GLOB
        against a parameter is planned again for its value on every run (its statement's
        every part: 0.14 ms for a live board's four arms); a range is planned once."""
        low, high = _subtree_range(path)
        return {f"{name}_low": low, f"{name}_high": high}

    def path_within(self, field: Any, values: dict[str, Any], name: str) -> Any:
        """``field`` (a materialized path) lies under the subtree ``values`` names
        (:meth:`within_values`, or slots of the same names): a range of an index on it."""
        return (field >= values[f"{name}_low"]) & (field < values[f"{name}_high"])

    def outside_values(self, paths: Sequence[str]) -> dict[str, str]:
        """The values :meth:`path_outside` tests a path against, named, for lying under
        none of ``paths``: the gaps between their subtrees. A subtree is the range of texts
        from its path up to the path with its last character raised ('/1/78/' up to
        '/1/780'), in SQLite's byte order; nested or equal subtrees make one range."""
        ranges: list[list[str]] = []
        for path in sorted(set(paths)):
            if ranges and path < ranges[-1][1]:  # under the last one (its prefix sorts first)
                continue
            ranges.append(list(_subtree_range(path)))
        values: dict[str, str] = {}
        for i, (low, high) in enumerate(ranges):
            values[f"low{i}"], values[f"high{i}"] = low, high
        return values

    def path_outside(self, field: Any, values: dict[str, Any]) -> Any:
        """``field`` (a materialized path) lies under none of the subtrees ``values``
        (:meth:`outside_values`, or slots of the same names) describes: below the first
        range, between two, or above the last, each a range of an index on ``field``.
        A subtree tested on each row (NOT GLOB) read every row of the index's other
        columns: a street supervisor's 5,188 items raised at the ten-year million, 0.5 ms,
        to find none outside the street; its two ranges 0.005."""
        count = len(values) // 2
        gaps = [field < values["low0"]]
        gaps += [
            (field >= values[f"high{i}"]) & (field < values[f"low{i + 1}"])
            for i in range(count - 1)
        ]
        gaps.append(field >= values[f"high{count - 1}"])
        return reduce(operator.or_, gaps)

    def null_or_equal(self, field: Any, value: Any) -> Any:
        """``field`` is NULL or equals ``value``. SQLite would serve the OR from the field's
        index (every NULL row), so here it is a COALESCE."""
        return fn.COALESCE(field, value) == value

    def for_update(self, query: Any, *, skip_locked: bool = False, share: bool = False) -> Any:
        """``query`` locking its rows for the transaction (``share``: against writers
        only). SQLite locks the whole file for a writer already: the query as it is."""
        return query

    def time_param(self, value: dt.datetime) -> Any:
        """A datetime as a raw SQL parameter compares with stored ones (SQLite keeps text)."""
        return value.isoformat(" ")

    def seconds_between(self, start: Any, end: Any) -> Any:
        """The seconds from ``start`` to ``end`` (two datetime expressions)."""
        return (fn.julianday(end) - fn.julianday(start)) * 86400.0

    def seconds_between_text(self, start: str, end: str) -> str:
        """:meth:`seconds_between` in SQL text (two columns), in parentheses."""
        return f"((julianday({end}) - julianday({start})) * 86400.0)"

    def median_where(self, value: Any, cond: Any) -> Any:
        """The median of ``value`` over the group's rows that meet ``cond`` (only where
        :attr:`sql_median`)."""
        raise NotImplementedError("no median in SQL here: check sql_median first")

    def write_atomic(self) -> Any:
        """An outermost write transaction: BEGIN IMMEDIATE takes SQLite's write lock before
        the first read, so a writer waits (busy timeout) instead of failing later."""
        return self.database.atomic(lock_type="IMMEDIATE")

    def lock_for_replace(self, table: str) -> None:
        """Before deleting and refilling ``table`` in a transaction: readers keep the old
        rows, a second replacer waits (SQLite's write transaction does both already)."""

    @contextmanager
    def schema_lock(self) -> Iterator[None]:
        """Held while one process makes or upgrades the schema (``create_tables``), so that
        servers starting together do it one after the other. SQLite's writes wait for
        each other already, and its statements change nothing that exists."""
        yield

    def begin_snapshot(self) -> None:
        """First statement of a read transaction that must see one snapshot throughout
        (SQLite's transactions do)."""

    def insert_rows(
        self, table: str, columns: Sequence[str], values: list[tuple[Any, ...]]
    ) -> None:
        """Insert ``values`` (tuples in ``columns`` order) with one prepared statement."""
        names = ", ".join(f'"{c}"' for c in columns)
        marks = ", ".join([self.database.param] * len(columns))
        sql = f'INSERT INTO "{table}" ({names}) VALUES ({marks})'
        self.database.cursor().executemany(sql, values)

    def reset_sequences(self, tables: Iterable[tuple[str, str]]) -> None:
        """After rows were written with explicit ids: new ids continue after the largest
        (SQLite's INTEGER PRIMARY KEY does so by itself)."""

    def explain(self, sql: str, params: Sequence[Any]) -> str:
        """The query plan of ``sql``, as text."""
        rows = self.database.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall()
        return "\n".join(f"{'  ' * (0 if r[1] == 0 else 1)}{r[3]}" for r in rows)

    def analyze(self) -> None:
        """Refresh the planner's statistics after a large load (SQLite plans without)."""

    # Stored counts (models.NodeTally): which columns of an item they count, by a row
    # reference (NEW, OLD, or the table) — the same SQL on every backend but the bucket.
    # A bucket's width: the deadline's UTC date (``YYYY-MM-DD``); for the counts per area
    # also its month (``YYYY-MM``, models.AreaMonthTally), its date and hour (``YYYY-MM-DD
    # HH``, models.AreaHourTally) or its ten minutes (``YYYY-MM-DD HH:M``,
    # models.AreaSlotTally).
    MONTH, DAY, HOUR, SLOT = 7, 10, 13, 15

    def tally_bucket(self, row: str, width: int = DAY) -> str:
        """The SQL of ``row``'s bucket: "" closed, the deadline's UTC date (or month, hour
        or ten minutes: ``width``), "~" none."""
        return (
            f"CASE WHEN {row}.closed THEN '' WHEN {row}.due_at IS NULL THEN '~'"
            f" ELSE substr({row}.due_at, 1, {width}) END"
        )

    def _tally_values(self, row: str, width: int = DAY) -> list[str]:
        return [
            f"{row}.node_id",
            self.tally_bucket(row, width),
            "1",
            f"CASE WHEN {row}.closed THEN 0 ELSE 1 END",
            f"CASE WHEN {row}.resolved_at IS NULL THEN 0 ELSE 1 END",
            f"CASE WHEN {row}.satisfaction IS NULL THEN 0 ELSE 1 END",
            f"COALESCE({row}.satisfaction, 0)",
        ]

    TALLY_COUNTS = ("items", "open", "resolved", "rated", "rating_sum")

    def tally_upsert(self, row: str, sign: int) -> str:
        """Add (``sign`` 1) or take away (-1) the item ``row`` from its node's counts."""
        return self._tally_upsert("node_tally", "node_id", f"{row}.node_id", row, sign)

    def _tally_upsert(
        self, table: str, key: str, place: str, row: str, sign: int, width: int = DAY
    ) -> str:
        """Add or take away the item ``row`` in ``table``'s counts at ``place`` (the SQL of
        its ``key`` column's value: the item's node, or its area), in buckets ``width``
        wide."""
        values = self._tally_values(row, width)
        values[0] = place
        values[2:] = [f"{sign} * ({v})" for v in values[2:]]
        return (
            f"INSERT INTO {table} ({', '.join((key, 'bucket', *self.TALLY_COUNTS))})"
            f" VALUES ({', '.join(values)})"
            + self.on_conflict_add(table, (key, "bucket"), self.TALLY_COUNTS)
        )

    def tally_changed(self, place: str = "node_id", width: int = DAY) -> str:
        """The condition on OLD and NEW under which an update changes the counts (kept by
        the item's ``place``: its node, or its path for an area's; buckets ``width``
        wide)."""
        pairs = [
            (self.tally_bucket("OLD", width), self.tally_bucket("NEW", width)),
            (f"OLD.{place}", f"NEW.{place}"),
            ("OLD.resolved_at IS NULL", "NEW.resolved_at IS NULL"),
            ("OLD.satisfaction", "NEW.satisfaction"),
        ]
        return " OR ".join(f"({a}) {self.distinct} ({b})" for a, b in pairs)

    distinct = "IS NOT"  # SQL's "is distinct from" (NULLs compare as values)

    def tally_triggers(self) -> list[str]:
        """Statements creating the triggers that keep ``node_tally`` (idempotent)."""
        insert = f"BEGIN {self.tally_upsert('NEW', 1)}; END"
        delete = f"BEGIN {self.tally_upsert('OLD', -1)}; END"
        update = f"BEGIN {self.tally_upsert('OLD', -1)}; {self.tally_upsert('NEW', 1)}; END"
        return [
            f"CREATE TRIGGER IF NOT EXISTS item_tally_insert AFTER INSERT ON item {insert}",
            f"CREATE TRIGGER IF NOT EXISTS item_tally_delete AFTER DELETE ON item {delete}",
            (
                "CREATE TRIGGER IF NOT EXISTS item_tally_update AFTER UPDATE ON item"
                f" WHEN {self.tally_changed()} {update}"
            ),
        ]

    TALLY_TRIGGERS = ("item_tally_insert", "item_tally_delete", "item_tally_update")

    def drop_tally_triggers(self) -> list[str]:
        """Statements removing what :meth:`tally_triggers` made."""
        return [f"DROP TRIGGER IF EXISTS {name}" for name in self.TALLY_TRIGGERS]

    def rebuild_tallies(self) -> None:
        """Count every item again into ``node_tally`` (in the caller's transaction)."""
        self._rebuild_tally("node_tally", "node_id", "item.node_id")

    def _rebuild_tally(self, table: str, key: str, place: str, width: int = DAY) -> None:
        """Count every item again into ``table``, keyed by ``place`` (SQL) in ``key``, in
        buckets ``width`` wide."""
        self.lock_for_replace(table)
        self.database.execute_sql(f"DELETE FROM {table}")
        v = self._tally_values("item", width)
        self.database.execute_sql(
            f"INSERT INTO {table} ({', '.join((key, 'bucket', *self.TALLY_COUNTS))})"
            f" SELECT {place}, {v[1]}, COUNT(*), SUM({v[3]}), SUM({v[4]}), SUM({v[5]}),"
            f" SUM({v[6]}) FROM item GROUP BY {place}, {v[1]}"
        )

    # The same counts per area (models.AreaTally): the node below the root on the item's
    # path (``path_area``) in place of its node, kept at four widths of the deadline's
    # bucket: its month (``area_month_tally``: every item, the months before this one), its
    # day (``area_tally``, for this month's days), its hour (``area_hour_tally``, for
    # today's hours) and its ten minutes (``area_slot_tally``, for this hour's): table,
    # trigger name, width.
    AREA_LEVELS = (
        ("area_month_tally", "item_area_month", MONTH),
        ("area_tally", "item_area", DAY),
        ("area_hour_tally", "item_area_hour", HOUR),
        ("area_slot_tally", "item_area_slot", SLOT),
    )

    def _area_upsert(self, table: str, width: int) -> Callable[[str, int], str]:
        """``upsert(row, sign)``: add (1) or take away (-1) the item ``row`` from its area's
        counts in ``table``, bucketed ``width`` wide."""

        def upsert(row: str, sign: int) -> str:
            place = self.path_area(f"{row}.node_path")
            return self._tally_upsert(table, "area", place, row, sign, width)

        return upsert

    def area_tally_triggers(self) -> list[str]:
        """Statements creating the triggers that keep the counts per area at each width
        (``AREA_LEVELS``; idempotent)."""
        return [
            statement
            for table, name, width in self.AREA_LEVELS
            for statement in self.row_tally_triggers(
                name,
                "item",
                self._area_upsert(table, width),
                self.tally_changed("node_path", width),
            )
        ]

    def drop_area_tally_triggers(self) -> list[str]:
        return [
            statement
            for _, name, _ in self.AREA_LEVELS
            for statement in self.drop_row_tally_triggers(name, "item")
        ]

    def rebuild_area_tally(self, table: str) -> None:
        """Count every item again into ``table``, one of ``AREA_LEVELS`` (in the caller's
        transaction)."""
        width = next(w for t, _, w in self.AREA_LEVELS if t == table)
        self._rebuild_tally(table, "area", self.path_area("item.node_path"), width)

    # --- Resolution-time histograms (models.ResolutionTally), kept apart from the item
    # counts above: a row per (node, bucket) counts the resolved items at or below the
    # node whose resolution time falls in the bucket. The same SQL on every backend but
    # the list of a path's node ids (:meth:`path_ids`) and the trigger wrapping.
    def resolution_bucket(self, seconds: str) -> str:
        """The SQL of the bucket of ``seconds`` (``medians.bucket_of`` in Python): the value
        itself below 1,000; else its number of digits times 1,000 plus its first three
        digits (1,000 buckets a decade, each at most 1 % of its values wide)."""
        text = f"CAST({seconds} AS TEXT)"
        return (
            f"CASE WHEN {seconds} < 1000 THEN {seconds}"
            f" ELSE length({text}) * 1000 + CAST(substr({text}, 1, 3) AS INTEGER) END"
        )

    def path_ids(self, path: str) -> str:
        """A FROM item listing the node ids of the materialized ``path`` (SQL), in a
        column ``value``: the node and each ancestor (paths are ``/id/id/.../``)."""
        return f"json_each('[' || replace(trim({path}, '/'), '/', ',') || ']')"

    def resolution_upsert(self, row: str, sign: int) -> str:
        """Add (``sign`` 1) or take away (-1) the resolution time of the item ``row`` at
        its node and every ancestor; nothing for an item without one."""
        bucket = self.resolution_bucket(f"{row}.resolution_seconds")
        return (
            "INSERT INTO resolution_tally (node_id, bucket, items)"
            f" SELECT CAST(value AS INTEGER), {bucket}, {sign}"
            f" FROM {self.path_ids(f'{row}.node_path')}"
            f" WHERE {row}.resolution_seconds IS NOT NULL"
            " ON CONFLICT (node_id, bucket) DO UPDATE SET"
            " items = resolution_tally.items + excluded.items"
        )

    def resolution_changed(self) -> str:
        """The condition on OLD and NEW under which an update moves a resolution time."""
        pairs = [("OLD.resolution_seconds", "NEW.resolution_seconds")]
        pairs.append(("OLD.node_path", "NEW.node_path"))
        return " OR ".join(f"({a}) {self.distinct} ({b})" for a, b in pairs)

    # --- Triggers that keep a histogram of one table's rows (the resolution times, the
    # summonses' durations): each inserted row added, each deleted one taken away, an
    # updated one both when ``changed`` holds; named ``{name}_insert`` and so on.
    def row_tally_triggers(
        self, name: str, table: str, upsert: Callable[[str, int], str], changed: str
    ) -> list[str]:
        """Statements creating the triggers (idempotent); ``upsert(row, sign)`` is the
        statement adding (1) or taking away (-1) the row NEW or OLD."""
        add, take = upsert("NEW", 1), upsert("OLD", -1)
        on = f"CREATE TRIGGER IF NOT EXISTS {name}"
        return [
            f"{on}_insert AFTER INSERT ON {table} BEGIN {add}; END",
            f"{on}_delete AFTER DELETE ON {table} BEGIN {take}; END",
            f"{on}_update AFTER UPDATE ON {table} WHEN {changed} BEGIN {take}; {add}; END",
        ]

    def drop_row_tally_triggers(self, name: str, table: str) -> list[str]:
        """Statements removing what :meth:`row_tally_triggers` made."""
        return [
            f"DROP TRIGGER IF EXISTS {name}_{event}" for event in ("insert", "delete", "update")
        ]

    # --- Triggers that move an item's summonses in a tally kept by item (the day counts,
    # the summonses' durations): all taken away before the item is deleted (its summonses'
    # own triggers find no item after), moved when ``changed`` holds of an update; named
    # ``{name}_delete`` and ``{name}_move``.
    def item_move_triggers(
        self, name: str, move: Callable[[str, int], str], changed: str
    ) -> list[str]:
        """Statements creating the triggers (idempotent); ``move(row, sign)`` is the
        statement adding (1) or taking away (-1) every summons of the item NEW or OLD."""
        on = f"CREATE TRIGGER IF NOT EXISTS {name}"
        moved = f"BEGIN {move('OLD', -1)}; {move('NEW', 1)}; END"
        return [
            f"{on}_delete BEFORE DELETE ON item BEGIN {move('OLD', -1)}; END",
            f"{on}_move AFTER UPDATE ON item WHEN {changed} {moved}",
        ]

    def drop_item_move_triggers(self, name: str) -> list[str]:
        """Statements removing what :meth:`item_move_triggers` made."""
        return [f"DROP TRIGGER IF EXISTS {name}_{event}" for event in ("delete", "move")]

    def resolution_triggers(self) -> list[str]:
        """Statements creating the triggers that keep ``resolution_tally`` (idempotent)."""
        changed = self.resolution_changed()
        return self.row_tally_triggers("item_resolution", "item", self.resolution_upsert, changed)

    def drop_resolution_triggers(self) -> list[str]:
        """Statements removing what :meth:`resolution_triggers` made."""
        return self.drop_row_tally_triggers("item_resolution", "item")

    def rebuild_resolution_tally(self) -> None:
        """Count every resolution time again into ``resolution_tally`` (in the caller's
        transaction): grouped by node and bucket first, then credited to the ancestors."""
        self.lock_for_replace("resolution_tally")
        self.database.execute_sql("DELETE FROM resolution_tally")
        bucket = self.resolution_bucket("resolution_seconds")
        self.database.execute_sql(
            "INSERT INTO resolution_tally (node_id, bucket, items)"
            " SELECT CAST(value AS INTEGER), g.bucket, SUM(g.n)"
            f" FROM (SELECT node_path, {bucket} AS bucket, COUNT(*) AS n FROM item"
            " WHERE resolution_seconds IS NOT NULL GROUP BY node_path, 2) AS g,"
            f" {self.path_ids('g.node_path')} GROUP BY 1, 2"
        )


class PostgreSQL(
    PostgresSummonsCountsSQL,
    PostgresDurationTallySQL,
    PostgresOpenItemsSQL,
    PostgresDueCountsSQL,
    Backend,
):
    name = "postgresql"
    row_locks = True
    sql_median = True
    plans_kept = False
    plan_hints = False
    attachments_default = "db"
    # Prefix matches on materialized paths (LIKE '/1/5/%') use these.
    extra_indexes = (
        "CREATE INDEX IF NOT EXISTS org_node_path_pattern ON org_node (path text_pattern_ops)",
        "CREATE INDEX IF NOT EXISTS item_node_path_pattern ON item (node_path text_pattern_ops, closed, due_at)",
        (
            "CREATE INDEX IF NOT EXISTS assignment_unit_path_pattern ON assignment"
            " (unit_path text_pattern_ops, role, open)"
        ),
        (  # a live board's pairs of its types under a unit (live._arms)
            "CREATE INDEX IF NOT EXISTS unit_open_item_definition_path_pattern ON unit_open_item"
            " (definition_id, unit_path text_pattern_ops)"
        ),
    )

    def prefix_pattern(self, prefix: str) -> str:
        return prefix + "%"

    def path_match(self, field: Any, pattern: Any) -> Any:
        # LIKE uses the text_pattern_ops indexes above.
        return Expression(field, self.path_operator, pattern)

    path_operator = "LIKE"

    def pattern_literal(self, pattern: str) -> str | None:
        # PostgreSQL plans a prepared LIKE from its statistics, not the value: a parameter.
        return None

    def path_test(self, field: Any, pattern: Any) -> Any:
        # PostgreSQL plans a statement for its parameters' types, not their values.
        return self.path_match(field, pattern)

    def unindexed(self, field: Any) -> Any:
        return field

    def unindexed_text(self, column: str) -> str:
        return column

    def within_values(self, path: str, name: str) -> dict[str, str]:
        # The database's collation orders texts by language, not by byte (as below).
        return {name: self.prefix_pattern(path)}

    def path_within(self, field: Any, values: dict[str, Any], name: str) -> Any:
        return self.path_match(field, values[name])

    def outside_values(self, paths: Sequence[str]) -> dict[str, str]:
        # The database's collation orders texts by language, not by byte: each subtree
        # as a LIKE pattern (the text_pattern_ops indexes serve a prefix only).
        return {f"path{i}": self.prefix_pattern(p) for i, p in enumerate(sorted(set(paths)))}

    def path_outside(self, field: Any, values: dict[str, Any]) -> Any:
        return ~reduce(operator.or_, (self.path_match(field, v) for v in values.values()))

    def null_or_equal(self, field: Any, value: Any) -> Any:
        # PostgreSQL estimates the OR from its statistics and keeps an ordered index scan.
        return field.is_null() | (field == value)

    def for_update(self, query: Any, *, skip_locked: bool = False, share: bool = False) -> Any:
        if share:
            return query.for_update("FOR SHARE")
        return query.for_update(skip_locked=skip_locked) if skip_locked else query.for_update()

    def time_param(self, value: dt.datetime) -> Any:
        return value

    def seconds_between(self, start: Any, end: Any) -> Any:
        return NodeList((SQL("EXTRACT(EPOCH FROM"), end - start, SQL(")")))

    def seconds_between_text(self, start: str, end: str) -> str:
        return f"(EXTRACT(EPOCH FROM ({end} - {start})))"

    def median_where(self, value: Any, cond: Any) -> Any:
        return NodeList(
            (
                fn.percentile_cont(0.5),
                SQL("WITHIN GROUP (ORDER BY"),
                value,
                SQL(") FILTER (WHERE"),
                cond,
                SQL(")"),
            )
        )

    def write_atomic(self) -> Any:
        return self.database.atomic()

    def lock_for_replace(self, table: str) -> None:
        self.database.execute_sql(f'LOCK TABLE "{table}" IN EXCLUSIVE MODE')

    # The schema lock's key (an advisory lock: any number the application alone uses).
    SCHEMA_LOCK = 0x5A4E_4641_4E47

    @contextmanager
    def schema_lock(self) -> Iterator[None]:
        # A session's advisory lock, across the transactions create_tables runs: two
        # workers replacing the same trigger function at once failed the second ("tuple
        # concurrently updated"), and gunicorn's workers each make the app.
        self.database.execute_sql("SELECT pg_advisory_lock(%s)", (self.SCHEMA_LOCK,))
        try:
            yield
        finally:
            self.database.execute_sql("SELECT pg_advisory_unlock(%s)", (self.SCHEMA_LOCK,))

    def begin_snapshot(self) -> None:
        self.database.execute_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")

    def insert_rows(
        self, table: str, columns: Sequence[str], values: list[tuple[Any, ...]]
    ) -> None:
        # psycopg2's executemany is one round trip per row; execute_values sends pages of
        # rows as one multi-row VALUES statement each.
        from psycopg2.extras import execute_values

        names = ", ".join(f'"{c}"' for c in columns)
        sql = f'INSERT INTO "{table}" ({names}) VALUES %s'
        execute_values(self.database.cursor(), sql, values, page_size=1000)

    def reset_sequences(self, tables: Iterable[tuple[str, str]]) -> None:
        for table, column in tables:
            self.database.execute_sql(
                f"SELECT setval(pg_get_serial_sequence('\"{table}\"', '{column}'), "
                f'COALESCE((SELECT MAX("{column}") FROM "{table}"), 0) + 1, false)'
            )

    def explain(self, sql: str, params: Sequence[Any]) -> str:
        rows = self.database.execute_sql(
            "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, params
        ).fetchall()
        return "\n".join(r[0] for r in rows)

    def analyze(self) -> None:
        self.database.execute_sql("ANALYZE")

    distinct = "IS DISTINCT FROM"

    def tally_bucket(self, row: str, width: int = Backend.DAY) -> str:
        shapes = {self.MONTH: "YYYY-MM", self.DAY: "YYYY-MM-DD", self.HOUR: "YYYY-MM-DD HH24"}
        shape = shapes.get(width, "YYYY-MM-DD HH24:MI")
        bucket = f"to_char({row}.due_at, '{shape}')"
        if width not in shapes:  # ten minutes: the minutes' first digit
            bucket = f"substr({bucket}, 1, {width})"
        return (
            f"CASE WHEN {row}.closed THEN '' WHEN {row}.due_at IS NULL THEN '~' ELSE {bucket} END"
        )

    def tally_triggers(self) -> list[str]:
        body = (
            "CREATE OR REPLACE FUNCTION item_tally() RETURNS trigger LANGUAGE plpgsql AS $$"
            " BEGIN"
            f" IF TG_OP <> 'INSERT' THEN {self.tally_upsert('OLD', -1)}; END IF;"
            f" IF TG_OP <> 'DELETE' THEN {self.tally_upsert('NEW', 1)}; END IF;"
            " RETURN NULL; END $$"
        )
        each = "FOR EACH ROW EXECUTE FUNCTION item_tally()"
        return [
            body,
            f"CREATE OR REPLACE TRIGGER item_tally_insert AFTER INSERT ON item {each}",
            f"CREATE OR REPLACE TRIGGER item_tally_delete AFTER DELETE ON item {each}",
            (
                "CREATE OR REPLACE TRIGGER item_tally_update AFTER UPDATE ON item"
                f" FOR EACH ROW WHEN ({self.tally_changed()}) EXECUTE FUNCTION item_tally()"
            ),
        ]

    def drop_tally_triggers(self) -> list[str]:
        return [f"DROP TRIGGER IF EXISTS {name} ON item" for name in self.TALLY_TRIGGERS]

    # --- Resolution-time histograms (see Backend): the ids by unnest, triggers in PL/pgSQL.
    def path_ids(self, path: str) -> str:
        return f"unnest(string_to_array(trim(both '/' from {path}), '/')) AS path_ids(value)"

    def row_tally_triggers(
        self, name: str, table: str, upsert: Callable[[str, int], str], changed: str
    ) -> list[str]:
        body = (
            f"CREATE OR REPLACE FUNCTION {name}_tally() RETURNS trigger"
            " LANGUAGE plpgsql AS $$ BEGIN"
            f" IF TG_OP <> 'INSERT' THEN {upsert('OLD', -1)}; END IF;"
            f" IF TG_OP <> 'DELETE' THEN {upsert('NEW', 1)}; END IF;"
            " RETURN NULL; END $$"
        )
        on, run = f"CREATE OR REPLACE TRIGGER {name}", f"EXECUTE FUNCTION {name}_tally()"
        return [
            body,
            f"{on}_insert AFTER INSERT ON {table} FOR EACH ROW {run}",
            f"{on}_delete AFTER DELETE ON {table} FOR EACH ROW {run}",
            f"{on}_update AFTER UPDATE ON {table} FOR EACH ROW WHEN ({changed}) {run}",
        ]

    def drop_row_tally_triggers(self, name: str, table: str) -> list[str]:
        return [
            f"DROP TRIGGER IF EXISTS {name}_{event} ON {table}"
            for event in ("insert", "delete", "update")
        ]

    def item_move_triggers(
        self, name: str, move: Callable[[str, int], str], changed: str
    ) -> list[str]:
        body = (
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$"
            f" BEGIN {move('OLD', -1)};"
            " IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;"
            f" {move('NEW', 1)};"
            " RETURN NULL; END $$"
        )
        on, run = f"CREATE OR REPLACE TRIGGER {name}", f"EXECUTE FUNCTION {name}()"
        return [
            body,
            f"{on}_delete BEFORE DELETE ON item FOR EACH ROW {run}",
            f"{on}_move AFTER UPDATE ON item FOR EACH ROW WHEN ({changed}) {run}",
        ]

    def drop_item_move_triggers(self, name: str) -> list[str]:
        return [f"DROP TRIGGER IF EXISTS {name}_{event} ON item" for event in ("delete", "move")]
