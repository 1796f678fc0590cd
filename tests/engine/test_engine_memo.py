"""The request memo and prepared statements (engine/core/memo.py): what a page reads along or
keeps between requests must still follow the database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from peewee import JOIN

from engine.core import memo
from engine.delivery.notify import mark_all_read, remember_unread, unread_count
from engine.org.scope import pack_roles, packs_stamp_columns, remember_packs_stamp
from engine.store.db import counting_queries
from engine.store.models import LoginSession, Notification, Pack, User
from engine.store.prepared import padded, padded_slots, prepared


@pytest.fixture
def request_memo(app: Any) -> Iterator[None]:
    memo.begin()
    yield
    memo.end()


def _stamp() -> tuple[Any, ...]:
    return tuple(Pack.select(*packs_stamp_columns()).limit(1).tuples().get())


def test_prepared_builds_the_sql_once_and_binds_each_runs_values(app: Any) -> None:
    builds = []

    def build(name: Any, since: Any) -> Any:
        builds.append(1)
        return (
            User.select(User.username, LoginSession.expires_at)
            .join(LoginSession, JOIN.LEFT_OUTER, on=(LoginSession.user == User.id))
            .where((User.username == name) & (User.created_at > since))
            .tuples()
        )

    long_ago = dt.datetime(2000, 1, 1)
    first = list(prepared("test_prepared", build, name="admin", since=long_ago))
    with counting_queries() as counter:
        second = list(prepared("test_prepared", build, name="xifang", since=long_ago))
        none = list(prepared("test_prepared", build, name="xifang", since=dt.datetime(2999, 1, 1)))
    assert len(builds) == 1  # built once, run three times
    assert counter.count == 2
    assert first and {row[0] for row in first} == {"admin"}
    assert second and {row[0] for row in second} == {"xifang"}
    assert none == []  # the datetime went in through the field's converter, compared right


def test_the_unread_count_read_along_gives_way_to_a_write(app: Any, request_memo: None) -> None:
    user = User.get(User.username == "xifang")
    Notification.create(user=user, message="one", created_at=dt.datetime(2026, 1, 1), read=False)
    remember_unread(user.id, 7)  # as the session's lookup would have read it
    assert unread_count(user) == 7  # no statement of its own
    mark_all_read(user)
    assert unread_count(user) == 0  # the write forgot it: counted again


def test_pack_roles_are_kept_by_stamp_and_follow_a_reload(app: Any) -> None:
    pack = Pack.select().order_by(Pack.id).first()
    role = next(iter(pack.roles))

    memo.begin()
    remember_packs_stamp(_stamp())
    before = pack_roles()
    memo.end()

    changed = {**pack.roles, role: {**pack.roles[role], "label": "changed label"}}
    Pack.update(roles=changed).where(Pack.id == pack.id).execute()  # no reload: same stamp
    memo.begin()
    remember_packs_stamp(_stamp())
    with counting_queries() as counter:
        assert pack_roles() == before  # kept between requests while the stamp holds
    assert counter.count == 0
    memo.end()

    later = pack.loaded_at + dt.timedelta(seconds=1)
    Pack.update(loaded_at=later).where(Pack.id == pack.id).execute()  # what a reload writes
    memo.begin()
    remember_packs_stamp(_stamp())
    assert pack_roles()[0][role]["label"] == "changed label"
    memo.end()


def test_prepared_rows_keep_their_columns_between_runs(app: Any) -> None:
    """engine/store/prepared keeps a statement's resolved columns (which field converts
    which column) after its first run: later runs, and a first run with no rows, give
    the rows peewee gives."""

    def build(name: Any) -> Any:
        return User.select(User.username, User.created_at).where(User.username == name)

    for shape, key in (("tuples", "test_kept_tuples"), ("dicts", "test_kept_dicts")):
        make = lambda name, shape=shape: getattr(build(name), shape)()
        assert list(prepared(key, make, name="nobody")) == []
        for name in ("admin", "xifang", "admin"):
            kept = list(prepared(key, make, name=name))
            assert kept == list(getattr(build(name), shape)())
            assert isinstance(
                (kept[0][1] if shape == "tuples" else kept[0]["created_at"]), dt.datetime
            )


def test_kept_instances_serve_only_the_row_they_were_built_from():
    from engine.store import fetched

    fetched.clear()
    fetched.keep(("t", 1), (1, "a"), "first")
    assert fetched.kept(("t", 1), (1, "a")) == "first"
    assert fetched.kept(("t", 1), (1, "b")) is None  # the row changed: not served
    assert fetched.kept_all([(("t", 1), (1, "a")), (("t", 2), (2, "a"))]) is None
    assert fetched.build_once(("t", 2), (2, "a"), lambda: "second") == "second"
    assert fetched.kept_all([(("t", 1), (1, "a")), (("t", 2), (2, "a"))]) == ["first", "second"]
    fetched.clear()


def test_padded_in_lists_build_one_statement_per_power_of_two(app: Any) -> None:
    """``padded`` fills an IN list up to the next power of two with its last value, so
    lists of 3 and 4 names run one statement, built once, and find the same rows as a
    plain IN."""
    assert list(padded("n", [7])) == ["n0"]
    assert padded("n", [1, 2, 3]) == {"n0": 1, "n1": 2, "n2": 3, "n3": 3}
    assert len(padded("n", list(range(5)))) == 8
    builds = []

    def build(**slots: Any) -> Any:
        builds.append(len(slots))
        return (
            User.select(User.username)
            .where(User.username.in_(padded_slots("name", slots)))
            .order_by(User.username)
            .tuples()
        )

    for names in (["admin", "xifang", "nobody"], ["xifang", "admin", "ducha", "nobody"]):
        values = padded("name", names)
        found = [u for (u,) in prepared(("test_padded", len(values)), build, **values)]
        plain = User.select(User.username).where(User.username.in_(names)).order_by(User.username)
        assert found == [u for (u,) in plain.tuples()]
    assert builds == [4]  # both lists ran the statement for four
