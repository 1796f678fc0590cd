"""The database handle: one proxy, SQLite by default, PostgreSQL via DATABASE_URL."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from peewee import (
    SQL,
    DatabaseProxy,
    NodeList,
    OperationalError,
    PostgresqlDatabase,
    Select,
    TextField,
    Value,
    fn,
)
from peewee import DateTimeField as PeeweeDateTimeField
from playhouse.db_url import connect

from engine.store.backends import Backend, PostgreSQL

database = DatabaseProxy()


POOL_SIZE = 32  # connections per process; a web worker holds one per thread at a time
POOL_STALE_SECONDS = 300
POOL_WAIT_SECONDS = 30  # a request waits this long for a free connection, then fails
# SQLite reads the database file through a memory map of up to this many bytes (capped by
# the library's build, 2 GiB for Python's): pages come from the operating system's cache,
# shared by every connection, without a system call and a copy into each connection's own
# small cache (2 MB). At 1,000,000 items (1.8 GB) a street's evaluation took 23-25 -> 17.5-18
# ms, a node's open list 40-42.5 -> 24, a commissioner's inbox 5.9-7 -> 4.4-4.7.
SQLITE_MMAP_BYTES = 2**31


def open_database(url: str, *, pool: bool = False) -> Any:
    """Connect the proxy to ``url`` (``sqlite:///path`` or ``postgresql://...``).

    SQLite runs in WAL mode with foreign keys on, so several readers and one
    writer can share the file, as `make run` and the background sweep do.

    ``pool``: keep connections open between requests (the web app). ``close()`` then
    hands the connection back instead of closing it: a new PostgreSQL connection costs
    a server process and an authentication per request, a new SQLite one its pragmas.
    """
    if pool and "+pool" not in url.split("://", 1)[0]:
        scheme, rest = url.split("://", 1)
        url = f"{scheme}+pool://{rest}"
    extra: dict[str, Any] = {}
    if "+pool" in url:
        extra = {
            "max_connections": POOL_SIZE,
            "stale_timeout": POOL_STALE_SECONDS,
            "timeout": POOL_WAIT_SECONDS,
        }
        if url.startswith("sqlite"):
            extra["check_same_thread"] = False  # a pooled connection serves one thread at a time
    if url.startswith("sqlite"):
        db = connect(
            url,
            pragmas={
                "journal_mode": "wal",
                "foreign_keys": 1,
                "busy_timeout": 10000,
                "synchronous": "normal",
                "mmap_size": SQLITE_MMAP_BYTES,
            },
            **extra,
        )
    else:
        db = connect(url, **extra)
    database.initialize(db)
    return db


_BACKENDS = {"sqlite": Backend(database), "postgresql": PostgreSQL(database)}


# A LIMIT that never binds, for an arm chosen in its statement (the other's LIMIT is 0):
# PostgreSQL has no negative LIMIT, as SQLite has for none.
NO_LIMIT = 1_000_000_000


def count_up_to(query: Any, cap: Any, name: str = "counted") -> Any:
    """A scalar subquery: how many rows ``query`` gives, counted up to ``cap`` (the
    database stops reading there), for a size that only needs telling large from small."""
    return Select([query.limit(cap).alias(name)], [fn.COUNT(SQL("*"))])


def contains_text(field: Any, text: str) -> Any:
    """``field`` contains ``text``, ``%`` and ``_`` in it matching themselves (peewee's
    ``contains`` lets them match anything). Latin letters' case counts on PostgreSQL and
    not on SQLite (its ``LIKE``); the names searched are Chinese."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return NodeList((field, SQL("LIKE"), Value(f"%{escaped}%"), SQL("ESCAPE '\\'")))


def backend() -> Backend:
    """What the connected database does its own way (engine/store/backends.py)."""
    return _BACKENDS["postgresql" if isinstance(database.obj, PostgresqlDatabase) else "sqlite"]


def _default_sql(value: Any) -> str | None:
    """A scalar column default as an SQL literal both backends read; None for others."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return None


def add_missing_columns(models: list[Any]) -> list[str]:
    """Add columns a model gained since its table was created (nullable or defaulted only).

    An existing instance keeps working after an upgrade without a migration tool:
    ``create_tables(safe=True)`` creates missing tables but never alters one. A NOT NULL
    column with a scalar default is added in one ``ADD COLUMN ... NOT NULL DEFAULT``:
    the migrator's own way (add nullable, fill, then set NOT NULL) rebuilds the table on
    SQLite, which its foreign keys refuse for any table others reference.
    """
    from peewee import SQL
    from playhouse.migrate import SchemaMigrator, migrate

    migrator = SchemaMigrator.from_database(database.obj)
    added: list[str] = []
    tables = set(database.get_tables())
    for model in models:
        table = model._meta.table_name
        if table not in tables:
            continue
        present = {c.name for c in database.get_columns(table)}
        for field in model._meta.sorted_fields:
            if field.column_name in present:
                continue
            literal = None if field.null or callable(field.default) else _default_sql(field.default)
            if literal is None:
                migrate(migrator.add_column(table, field.column_name, field))
            else:
                column = field.clone()
                column.constraints = [*(column.constraints or []), SQL(f"DEFAULT {literal}")]
                migrate(migrator.add_column(table, field.column_name, column, allow_not_null=True))
            added.append(f"{table}.{field.column_name}")
    return added


# What the drivers say when a write lost a race for a lock: SQLite's busy timeout ran
# out, or PostgreSQL chose this transaction as a deadlock or serialization victim.
_LOCK_ERRORS = (
    "database is locked",
    "database table is locked",
    "deadlock detected",
    "could not serialize access",
)


def is_lock_error(exc: BaseException) -> bool:
    """Whether ``exc`` is a lost race for a lock rather than a real failure."""
    return isinstance(exc, OperationalError) and any(m in str(exc) for m in _LOCK_ERRORS)


@contextmanager
def write_transaction() -> Iterator[None]:
    """A transaction that will write: one writer at a time, waiting rather than failing.

    On SQLite it starts with BEGIN IMMEDIATE, so the write lock is taken before the
    first read: a deferred transaction that read a snapshot and then tries to write
    after another writer committed fails at once with "database is locked", whatever
    the busy timeout. Nested inside another transaction it is a savepoint.

    :raises Conflict: the lock could not be had (busy timeout, deadlock victim).
    """
    from engine.core import memo
    from engine.core.errors import Conflict
    from engine.core.i18n import gettext as _

    outermost = database.transaction_depth() == 0
    try:
        with backend().write_atomic() if outermost else database.atomic():
            memo.clear()
            yield
        memo.clear()  # what the request read before may have changed
    except OperationalError as exc:
        if is_lock_error(exc):
            raise Conflict(
                _("The database is busy with the same change; reload the page and try again.")
            ) from exc
        raise


def _prepared(model: Any, rows: list[dict[str, Any]]) -> tuple[list[Any], list[tuple[Any, ...]]]:
    """The fields ``rows`` name (dicts with the same keys) and each row's values, as peewee sends them."""
    # Columns the plan leaves out take the model's defaults (peewee defaults are Python-side).
    defaults = {
        f.name: f.default() if callable(f.default) else f.default
        for f in model._meta.sorted_fields
        if f.name not in rows[0] and f.default is not None
    }
    rows = [{**defaults, **row} for row in rows] if defaults else rows
    fields = [model._meta.fields[name] for name in rows[0]]
    return fields, [tuple(f.db_value(row[f.name]) for f in fields) for row in rows]


def bulk_insert(model: Any, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) with one prepared statement, in pages."""
    # peewee builds SQL per row in insert_many; a prepared executemany is ~10x faster.
    if not rows:
        return
    fields, values = _prepared(model, rows)
    backend().insert_rows(model._meta.table_name, [f.column_name for f in fields], values)


MAX_PARAMS = 30_000  # bound parameters per statement: under SQLite's 32,766 and PostgreSQL's 65,535


def insert_returning(
    model: Any,
    rows: list[dict[str, Any]],
    *,
    returning: tuple[str, ...],
    skip_conflicts_on: tuple[str, ...] = (),
) -> list[tuple[Any, ...]]:
    """:func:`bulk_insert` for when the caller needs something back: multi-row VALUES
    statements with ``RETURNING`` (an executemany returns nothing).

    :param returning: columns to return for each row inserted, in no particular order;
        the ids one statement gives rise in the order of its rows.
    :param skip_conflicts_on: a unique key's columns: rows that would break it are left
        out (``ON CONFLICT ... DO NOTHING``) and return nothing.
    """
    if not rows:
        return []
    fields, values = _prepared(model, rows)
    head = (
        f'INSERT INTO "{model._meta.table_name}" ('
        + ", ".join(f'"{f.column_name}"' for f in fields)
        + ") VALUES "
    )
    one = "(" + ", ".join([database.param] * len(fields)) + ")"
    tail = f" ON CONFLICT ({', '.join(skip_conflicts_on)}) DO NOTHING" if skip_conflicts_on else ""
    tail += " RETURNING " + ", ".join(returning)
    per_statement = max(1, MAX_PARAMS // len(fields))
    found: list[tuple[Any, ...]] = []
    for start in range(0, len(values), per_statement):
        chunk = values[start : start + per_statement]
        cursor = database.execute_sql(
            head + ", ".join([one] * len(chunk)) + tail, [value for row in chunk for value in row]
        )
        found += [tuple(row) for row in cursor.fetchall()]
    return found


class JSONField(TextField):
    """JSON stored as text, readable on both backends; non-ASCII kept as is."""

    def db_value(self, value: Any) -> str | None:
        if value is None:
            return None
        return json.dumps(value, ensure_ascii=False, sort_keys=False, default=str)

    def python_value(self, value: Any) -> Any:
        if value is None:
            return None
        return json.loads(value)


class DateTimeField(PeeweeDateTimeField):  # type: ignore[misc]
    """peewee's DateTimeField, reading SQLite's stored text without trying its formats in
    turn: ``YYYY-MM-DD HH:MM:SS`` failed the first (with fractions) and was parsed by the
    second, two ``strptime`` calls (about 6 µs a value; an item page reads a hundred).
    Any other text is read as peewee reads it; PostgreSQL hands over datetimes."""

    def python_value(self, value: Any) -> Any:
        if (
            type(value) is str
            and (len(value) == 19 or (len(value) == 26 and value[19] == "."))
            and value[4] == "-"
            and value[7] == "-"
            and value[10] == " "
            and value[13] == ":"
            and value[16] == ":"
        ):
            try:
                return dt.datetime.fromisoformat(value)
            except ValueError:
                pass
        return super().python_value(value)


class QueryCounter:
    """The statements a block ran (see ``counting_queries``)."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)


class _QueryLog(logging.Handler):
    def __init__(self, counter: QueryCounter) -> None:
        super().__init__(logging.DEBUG)
        self.counter = counter

    def emit(self, record: logging.LogRecord) -> None:
        if record.name != "peewee":  # e.g. peewee.pool's "Returning ... to pool"
            return
        sql = record.msg[0] if isinstance(record.msg, tuple) else str(record.msg)
        self.counter.statements.append(str(sql))


@contextmanager
def counting_queries() -> Iterator[QueryCounter]:
    """Count the statements run inside the block, through peewee's own hook: every
    ``Database.execute_sql`` logs ``(sql, params)`` to the ``peewee`` logger at DEBUG
    (what ``playhouse.test_utils.count_queries`` listens to; this one also restores
    the logger's level). For tests and benchmarks, not for serving."""
    counter = QueryCounter()
    logger = logging.getLogger("peewee")
    handler = _QueryLog(counter)
    level, propagate = logger.level, logger.propagate
    logger.setLevel(logging.DEBUG)
    logger.propagate = False  # the statements are counted here, not printed
    logger.addHandler(handler)
    try:
        yield counter
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


def bulk_update(model: Any, rows: list[Any], fields: list[Any], *, batch_size: int = 200) -> None:
    """``model.bulk_update`` whose CASE falls back to the column itself: PostgreSQL then types
    a batch whose new values are all NULL by the column (peewee's own CASE has no ELSE, and
    an all-NULL CASE is text there, which an integer column refuses)."""
    from peewee import Case, Node, chunked

    pk = model._meta.primary_key
    for batch in chunked(rows, batch_size):
        ids = [pk.to_value(getattr(row, pk.name)) for row in batch]
        update = {}
        for field in fields:
            whens = []
            for pk_value, row in zip(ids, batch, strict=True):
                value = getattr(row, field.name)
                whens.append(
                    (pk_value, value if isinstance(value, Node) else field.to_value(value))
                )
            update[field] = Case(pk, whens, field)
        model.update(update).where(pk.in_(ids)).execute()
