"""The scoping query layer: id lists for small subtrees, path prefixes for large ones."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.org import scope
from engine.store.models import OrgNode
from engine.workflow import items
from engine.workflow.queues import Filters, inbox

NOW = dt.datetime(2026, 11, 27, 1, 0)


@pytest.fixture(params=[400, 0], ids=["id-list", "path-prefix"])
def strategy(request, monkeypatch):
    monkeypatch.setattr(scope, "ID_LIST_LIMIT", request.param)
    return request.param


def test_both_strategies_agree(app, actor_of, strategy):
    mine = items.raise_item(
        actor_of("lvzhou-yezhu1"),
        "bell",
        "lvzhouhuayuan",
        {"category": "治安", "summary": "夜间有陌生人徘徊"},
        now=NOW,
    )
    other = items.raise_item(
        actor_of("changzheng-yezhu1"),
        "bell",
        "changzhengqiaolu",
        {"category": "治安", "summary": "单元门禁损坏"},
        now=NOW,
    )
    seen = {
        u: {i.id for i in inbox(actor_of(u), Filters(open_only=False))}
        for u in ("xifang", "chaohui-ducha", "ducha", "changzhengqiaolu-zy")
    }
    assert mine.id in seen["xifang"] and other.id not in seen["xifang"]
    assert mine.id in seen["chaohui-ducha"] and other.id not in seen["chaohui-ducha"]
    assert {mine.id, other.id} <= seen["ducha"]
    assert other.id in seen["changzhengqiaolu-zy"] and mine.id not in seen["changzhengqiaolu-zy"]


def test_path_prefix_does_not_match_a_sibling_with_a_longer_id(app):
    node = OrgNode.get(OrgNode.key == "chaohui")
    sibling_path = node.path[:-1] + "0/"  # "/1/5/" → "/1/50/": not below "/1/5/"
    matched = OrgNode.select().where(scope.path_under(OrgNode.path, node.path))
    assert all(n.path.startswith(node.path) for n in matched)
    assert not sibling_path.startswith(node.path)
    assert matched.count() == len(scope.subtree_ids(node.path)) > 1


def test_sees_everything_only_from_the_only_root(app, actor_of):
    sees_everything = scope.sees_everything
    assert sees_everything(actor_of("admin")) and sees_everything(actor_of("ducha"))
    for username in ("chaohui-ducha", "xifang", "dept-zhifa-user", "lvzhou-yezhu1"):
        assert not sees_everything(actor_of(username)), username
    # A second root (another district) is outside the first one's subtree.
    OrgNode.create(key="other-district", name="另一个区", kind="district", path="/9999/")
    assert not sees_everything(actor_of("admin"))


def test_summons_in_view_without_the_join_sees_the_same_summons(app, actor_of):
    from engine.store.models import Assignment
    from tests.review_data import build

    build()
    for username in (
        "admin",
        "ducha",
        "chaohui-ducha",
        "xifang",
        "dept-gaj-user",
        "dept-zhifa-user",
        "lvzhou-yezhu1",
    ):
        actor = actor_of(username)
        joined = {a.id for a in scope.summons_in_view(actor).select(Assignment.id)}
        unjoined = {a.id for a in scope.summons_in_view_unjoined(actor).select(Assignment.id)}
        assert joined == unjoined, username
    assert {a.id for a in scope.summons_in_view(actor_of("chaohui-ducha"))}  # not vacuous


def test_one_item_by_path_sees_what_the_lists_see(app, actor_of):
    """get_item matches subtrees by path prefix (no id list to build for one row); on the
    demo's data it finds exactly the items visible_items lists, for every kind of sight."""
    from engine.core.errors import NotFound
    from engine.demo.demo import generate
    from engine.store.models import Item
    from tests.conftest import SEED

    generate(SEED, compounds=40, items=150, seed=3, now=NOW)
    all_ids = [i for (i,) in Item.select(Item.id).tuples()]
    for username in (
        "xifang",
        "lvzhouhuayuan-wy",
        "dept-zhifa-user",
        "chaohui-ducha",
        "ducha",
        "lvzhou-yezhu1",  # (a resident who raised items in this draw)
        "admin",
    ):
        actor = actor_of(username)
        listed = {i.id for i in scope.visible_items(actor)}
        by_path = {i.id for i in scope.visible_items(actor, by_path=True)}
        assert listed == by_path, username
        assert listed, username
        for item_id in all_ids[:40]:
            try:
                items.get_item(actor, item_id)
                found = True
            except NotFound:
                found = False
            assert found == (item_id in listed), (username, item_id)


@pytest.mark.parametrize(
    "pattern",
    ["/1/5/' OR 1=1 --*", "/1/5/%", "/1/5/?", "/1/a/*", "/1/5/\n*", "", "'", "/1/[0-9]/*"],
)
def test_a_pattern_written_into_sql_is_a_path_pattern_or_refused(pattern):
    """No text but a path's digits and slashes and a '*' goes into the SQL."""
    from engine.store.backends import Backend

    with pytest.raises(ValueError):
        Backend(None).pattern_literal(pattern)


def test_a_literal_pattern_matches_what_the_parameter_matches(app):
    from engine.store.db import backend

    node = OrgNode.get(OrgNode.key == "chaohui")
    pattern = scope.path_pattern(node.path)
    text = backend().pattern_literal(pattern)
    assert text is None or text == f"'{pattern}'"
    ids = lambda cond: {n.id for n in OrgNode.select(OrgNode.id).where(cond)}
    by_literal = ids(backend().path_match_literal(OrgNode.path, pattern))
    assert by_literal == ids(scope.path_like(OrgNode.path, pattern))
    assert len(by_literal) > 1


def test_evidence_filters_list_the_items_they_name(app, actor_of, strategy):
    """The node page's evidence lists: "open" the items not closed, "overdue" those past
    their deadline too, of the street's items the supervisor sees, newest first."""
    from engine.demo.demo import generate
    from engine.store.models import Item
    from tests.conftest import SEED

    generate(SEED, compounds=24, items=200, seed=3, now=NOW)
    street = OrgNode.get(OrgNode.key == "chaohui")
    actor = actor_of("chaohui-ducha")
    every = list(Item.select().where(Item.node_path.startswith(street.path)))
    wanted = {
        "open": {i.id for i in every if not i.closed},
        "overdue": {i.id for i in every if not i.closed and i.due_at and i.due_at < NOW},
    }
    assert wanted["open"] > wanted["overdue"] > set()
    for name, ids in wanted.items():
        listed = list(scope.evidence_items(actor, street, filter=name, type_key=None, now=NOW))
        assert {i.id for i in listed} == ids, name
        if name == "overdue":  # longest overdue first
            assert [i.due_at for i in listed] == sorted(i.due_at for i in listed)
        else:
            assert [i.raised_at for i in listed] == sorted(
                (i.raised_at for i in listed), reverse=True
            )


def test_nodes_under_lists_the_kinds_below_the_paths_by_name(app):
    """``scope.nodes_under``: the nodes of the kinds at or below any of the paths (a path
    inside another counted once), by name then id, the first ``most``; none for no path."""
    street = OrgNode.get(OrgNode.key == "chaohui")
    other = OrgNode.get(OrgNode.key == "xiaohe")
    compound = OrgNode.get(OrgNode.key == "lvzhouhuayuan")

    def expected(*roots: OrgNode, kinds=("compound",)) -> list[int]:
        found = [
            n
            for n in OrgNode.select().order_by(OrgNode.name, OrgNode.id)
            if n.kind in kinds and any(n.path.startswith(r.path) for r in roots)
        ]
        return [n.id for n in found]

    def ids(paths, kinds=("compound",), most=1000) -> list[int]:
        return [n.id for n in scope.nodes_under(paths, kinds, most=most)]

    both = expected(street, other)
    assert len(both) > len(expected(street)) > 1
    assert ids([street.path, other.path]) == both
    assert ids([street.path, compound.path]) == expected(street)  # the compound is inside
    assert ids([compound.path]) == [compound.id]
    assert ids([street.path], ("community", "compound")) == expected(
        street, kinds=("community", "compound")
    )
    assert ids([street.path, other.path], most=3) == both[:3]
    assert ids([]) == [] and ids([street.path], ()) == []


def test_a_subtree_is_small_up_to_the_limit(app, monkeypatch):
    """``small_subtree_ids``: the subtree's ids when it has at most ``ID_LIST_LIMIT``
    nodes, None past it (counted in the statement, the ids not read) and for a path no
    node has."""
    from engine.core import memo

    street = OrgNode.get(OrgNode.key == "chaohui")
    ids = sorted(n.id for n in OrgNode.select().where(OrgNode.path.startswith(street.path)))
    assert len(ids) > 2
    for limit, expected in ((len(ids), ids), (len(ids) + 5, ids), (len(ids) - 1, None)):
        monkeypatch.setattr(scope, "ID_LIST_LIMIT", limit)
        memo.clear()
        found = scope.small_subtree_ids(street.path)
        assert (sorted(found) if found is not None else None) == expected
    memo.clear()
    assert scope.small_subtree_ids(street.path + "999999/") is None


# Paths of nodes whose digits share prefixes with the subtrees' tested below.
PATHS = [
    "/1/",
    "/1/7/",
    "/1/7/8/",
    "/1/70/",
    "/1/78/",
    "/1/78/90/",
    "/1/780/",
    "/1/781/5/",
    "/1/79/",
    "/1/8/",
    "/1/2/",
    "/1/20/3/",
    "/1/9/",
    "/10/",
    "/2/",
]


@pytest.mark.parametrize(
    "subtrees",
    [
        ["/1/78/"],
        ["/1/7/", "/1/78/"],  # siblings whose paths share a prefix
        ["/1/78/", "/1/78/90/"],  # one inside the other
        ["/1/9/", "/1/2/", "/1/78/", "/1/2/"],  # unsorted, repeated
        ["/1/"],
    ],
)
def test_a_path_outside_the_subtrees_is_one_no_subtree_holds(app, subtrees):
    """``path_outside`` (ranges of the path index on SQLite, NOT LIKE on PostgreSQL)
    keeps exactly the paths that start with none of the subtrees' paths."""
    from peewee import Value

    from engine.store.db import backend, database

    values = backend().outside_values(subtrees)
    kept = set()
    for path in PATHS:
        row = database.execute(
            OrgNode.select(Value(1)).where(backend().path_outside(Value(path), values)).limit(1)
        ).fetchone()
        if row is not None:
            kept.add(path)
    assert kept == {p for p in PATHS if not any(p.startswith(s) for s in subtrees)}


@pytest.mark.parametrize("subtree", ["/1/", "/1/7/", "/1/78/", "/1/780/", "/1/9/", "/2/"])
def test_a_path_within_a_subtree_is_one_that_starts_with_it(app, subtree):
    """``path_within`` (a range of the path index on SQLite, LIKE on PostgreSQL) keeps
    exactly the paths that start with the subtree's path."""
    from peewee import Value

    from engine.store.db import backend, database

    values = backend().within_values(subtree, "unit")
    kept = set()
    for path in PATHS:
        within = backend().path_within(Value(path), values, "unit")
        if database.execute(OrgNode.select(Value(1)).where(within).limit(1)).fetchone():
            kept.add(path)
    assert kept == {p for p in PATHS if p.startswith(subtree)}


@pytest.mark.parametrize(
    "subtree", ["/1/", "/1/7/", "/1/78/", "/1/780/", "/1/9/", "/2/", "/1/7", "/", ""]
)
@pytest.mark.parametrize("how", ["value", "literal", "filter", "test"])
def test_a_path_matched_by_its_pattern_is_one_that_starts_with_it(app, subtree, how):
    """``path_match`` (on SQLite a range worked out in SQL from the pattern, whether the
    pattern is a value or written into the statement; LIKE on PostgreSQL), and the row
    tests ``path_filter`` and ``path_test``, keep exactly the paths that start with the
    prefix: a sibling whose number shares the prefix's digits is not under it."""
    from peewee import Value

    from engine.store.db import backend, database

    db = backend()
    pattern = db.prefix_pattern(subtree)
    match = {
        "value": lambda field: db.path_match(field, pattern),
        "literal": lambda field: db.path_match_literal(field, pattern),
        "filter": lambda field: db.path_filter(field, pattern),
        "test": lambda field: db.path_test(field, pattern),
    }[how]
    kept = set()
    for path in PATHS:
        query = OrgNode.select(Value(1)).where(match(Value(path))).limit(1)
        if database.execute(query).fetchone():
            kept.add(path)
    assert kept == {p for p in PATHS if p.startswith(subtree)}


def test_the_only_root_is_a_large_subtree_without_being_read(app, count_queries):
    """The only root's subtree holds every node: ``small_subtree_ids`` answers None (a
    path condition, true of every row) without reading the tree; whether the root is the
    only one is read once per request, or not at all when the session's lookup read it
    along (``remember_roots``). A second root makes it a subtree like any other."""
    from engine.core import memo

    root = OrgNode.get(OrgNode.parent.is_null())
    street = OrgNode.get(OrgNode.key == "chaohui")
    memo.begin()  # as in a request
    try:
        with count_queries() as counted:
            assert scope.small_subtree_ids(root.path) is None
            assert scope.is_only_root(root.path) and not scope.is_only_root(street.path)
        assert counted.count == 1  # the roots, once
        memo.clear()
        scope.remember_roots(1)
        with count_queries() as counted:
            assert scope.small_subtree_ids(root.path) is None
        assert counted.count == 0

        OrgNode.create(key="other-district", name="另一个区", kind="district", path="/9999/")
        memo.clear()
        assert not scope.is_only_root(root.path)
        under = OrgNode.select().where(OrgNode.path.startswith(root.path))
        all_ids = sorted(n.id for n in under)
        assert len(all_ids) <= scope.ID_LIST_LIMIT  # the test data's tree: a small subtree
        assert sorted(scope.small_subtree_ids(root.path) or []) == all_ids
    finally:
        memo.end()
