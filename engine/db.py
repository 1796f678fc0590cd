"""The database handle: one proxy, SQLite by default, PostgreSQL via DATABASE_URL."""

from __future__ import annotations

import json
from typing import Any

from peewee import DatabaseProxy, TextField
from playhouse.db_url import connect

database = DatabaseProxy()


def open_database(url: str) -> Any:
    """Connect the proxy to ``url`` (``sqlite:///path`` or ``postgresql://...``).

    SQLite runs in WAL mode with foreign keys on, so several readers and one
    writer can share the file, as `make run` and the background sweep do.
    """
    if url.startswith("sqlite"):
        db = connect(
            url,
            pragmas={
                "journal_mode": "wal",
                "foreign_keys": 1,
                "busy_timeout": 10000,
                "synchronous": "normal",
            },
        )
    else:
        db = connect(url)
    database.initialize(db)
    return db


def is_postgres() -> bool:
    """Whether the connected database is PostgreSQL (row locks are available)."""
    return type(database.obj).__name__.startswith("Postgres")


def add_missing_columns(models: list[Any]) -> list[str]:
    """Add columns a model gained since its table was created (nullable or defaulted only).

    An existing instance keeps working after an upgrade without a migration tool:
    ``create_tables(safe=True)`` creates missing tables but never alters one.
    """
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
            migrate(migrator.add_column(table, field.column_name, field))
            added.append(f"{table}.{field.column_name}")
    return added


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
