"""Light list rows (``listed.rows_of``) hold the values peewee's models would: each column
converted by its field, a foreign key under its id name."""

from __future__ import annotations

import datetime as dt

from engine.store.models import Assignment, Item
from engine.workflow.listed import rows_of


def test_rows_hold_what_models_would() -> None:
    fields = (Item.id, Item.due_at, Item.node, Item.title, Item.closed, Item.urge_count)
    stored = [
        (7, "2026-12-04 10:22:05", 3, "漏水", 0, 2),
        (8, "2026-12-04 10:22:05.123456", 4, "x", 1, 0),
        (9, None, 5, "", 1, 0),
        (10, "2026-12-04", 6, "y", 0, 1),
    ]
    rows = rows_of(stored, fields)
    for row, raw in zip(rows, stored, strict=True):
        for field, value in zip(fields, raw, strict=True):
            name = "node_id" if field is Item.node else field.name
            expected = None if value is None else field.python_value(value)
            assert getattr(row, name) == expected
            assert type(getattr(row, name)) is type(expected)
    assert rows[0].due_at == dt.datetime(2026, 12, 4, 10, 22, 5)
    assert rows[1].closed is True and rows[0].closed is False


def test_rows_take_values_already_converted() -> None:
    """PostgreSQL's driver hands times and flags over as Python values."""
    due = dt.datetime(2026, 12, 4, 10, 22)
    (row,) = rows_of(
        [(1, due, True, 4)],
        (Assignment.id, Assignment.next_due_at, Assignment.open, Assignment.item),
    )
    assert (row.id, row.next_due_at, row.open, row.item_id) == (1, due, True, 4)
