"""The wrapping of a trigger's statements on each backend, shared by the mixins that keep
the stored counts (``due_sql``, ``open_items_sql``, ``summons_sql``)."""

from __future__ import annotations


def sqlite_body(statements: list[str]) -> str:
    """SQLite's trigger body of ``statements``."""
    return "BEGIN " + "; ".join(statements) + "; END"


def plpgsql_function(name: str, statements: list[str], returns: str = "NULL") -> str:
    """A PL/pgSQL trigger function ``name`` running ``statements`` and returning
    ``returns`` (NULL after the row; OLD to let a BEFORE DELETE go on)."""
    return (
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$"
        f" BEGIN {'; '.join(statements)}; RETURN {returns}; END $$"
    )
