"""Stored times read by the store's DateTimeField are what peewee's own reads: the same
datetime for SQLite's text (with and without fractions), the text itself where peewee
keeps it, a datetime passed through."""

from __future__ import annotations

import datetime as dt
import random

from peewee import DateTimeField as PeeweeDateTimeField

from engine.store.db import DateTimeField


def test_stored_times_read_as_peewee_reads_them():
    ours, peewee = DateTimeField(), PeeweeDateTimeField()
    rng = random.Random(7)
    start = dt.datetime(1990, 1, 1)
    values: list[object] = []
    for _ in range(2000):
        moment = start + dt.timedelta(seconds=rng.randrange(60 * 365 * 86400))
        moment = moment.replace(microsecond=rng.choice([0, rng.randrange(1, 10**6)]))
        values += [str(moment), moment.isoformat(), moment]
    values += [
        "2026-09-24",
        "2026-9-24 5:08:26",
        "2026-09-24 05:08:2x",
        "2026-02-30 05:08:26",
        "2026-09-24 05:08:26.12",
        "2026-09-24 05:08+08",
        "garbage",
        None,
    ]
    for value in values:
        got, expected = ours.python_value(value), peewee.python_value(value)
        assert got == expected and type(got) is type(expected), value


def test_every_table_reads_its_times_by_the_stores_field():
    """Lists read times raw and convert them by the column's field (``listed.rows_of``,
    meetings, the overdue list): a table declared with peewee's own field would read each
    time by trying ``strptime`` formats in turn."""
    from engine.store import decision_tables, models, resident_tables  # noqa: F401 - register

    plain = [
        f"{model.__name__}.{field.name}"
        for model in models.Base.__subclasses__()
        for field in model._meta.sorted_fields
        if isinstance(field, PeeweeDateTimeField) and not isinstance(field, DateTimeField)
    ]
    assert not plain, plain
    assert any(isinstance(f, DateTimeField) for f in decision_tables.Meeting._meta.sorted_fields)
