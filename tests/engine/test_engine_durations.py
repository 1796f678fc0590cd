"""Stored histograms of the summonses' durations (``summons_duration_tally``) equal a
recount after bulk, interactive, sweep and direct writes, on whichever backend the suite
runs on; the evaluation's medians from them equal the medians of the summonses' times."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.demo.demo import generate
from engine.org.org import area_of
from engine.store.db import backend, database
from engine.store.models import Assignment, Item, OrgNode, SummonsDurationTally
from engine.supervision import durations, evaluation
from engine.workflow import items
from engine.workflow.escalation import sweep
from tests.conftest import NOW, ON_POSTGRES, SEED

H = dt.timedelta(hours=1)
PERIODS = [
    evaluation.Period(dt.date(2026, 10, 1), dt.date(2026, 12, 31)),  # a quarter
    evaluation.Period(dt.date(2026, 11, 1), dt.date(2026, 11, 30)),  # a month
    evaluation.Period(dt.date(2026, 1, 1), dt.date(2026, 12, 31)),  # a year
]


def same(stored: dict, live: dict) -> bool:
    """Equal medians: exactly where both come from the same times in Python (SQLite);
    PostgreSQL's own median (percentile_cont) interpolates in its numeric type."""
    if not backend().sql_median:
        return stored == live

    def near(a: float | None, b: float | None) -> bool:
        return a is None if b is None else a is not None and a == pytest.approx(b, abs=1e-6)

    return stored.keys() == live.keys() and all(
        near(a, b) for k in stored for a, b in zip(stored[k], live[k], strict=True)
    )


@pytest.fixture(autouse=True)
def always_stored(monkeypatch):
    """The evaluation reads the histograms however few the summonses (the demo's few
    hundred are read from the summonses otherwise)."""
    monkeypatch.setattr(evaluation, "STORED_MEDIANS_ABOVE", 0)


def medians_both_ways(actor, period):
    """Per department: the medians from the histograms, and from every summons."""
    units = {
        n.id: n for n in evaluation._departments_for(actor, evaluation._departments_and_roots()[0])
    }
    everything = evaluation.sees_everything(actor)
    rows = {unit: evaluation.DepartmentRow(node, summoned=1) for unit, node in units.items()}
    stored = evaluation._stored_medians(actor, period, rows, everything=everything)
    live = evaluation._medians(actor, period, list(stored), everything=everything)
    live = {u: live.get(u, (None, None)) for u in stored}
    return stored, live


def whistle(actor_of, n: int) -> Item:
    return items.raise_item(
        actor_of("xifang"),
        "whistle",
        "lvzhouhuayuan",
        {"category": "违章搭建", "summary": f"第{n}件吹哨事项", "urgency": "一般"},
        now=NOW - dt.timedelta(days=n),
    )


def test_the_histograms_follow_every_writer(app, actor_of):
    assert durations.stored() == durations.recount() == {}
    generate(SEED, compounds=6, items=80, seed=4, now=NOW)  # the demo's bulk writer
    assert durations.stored() == durations.recount() != {}

    raised = [whistle(actor_of, n) for n in range(4)]  # the interactive one-row writer
    for item in raised[:2]:
        items.transition(actor_of("xifang"), item.id, "report", expected=None, now=NOW)
    assert durations.stored() == durations.recount()
    assert sweep(now=NOW + dt.timedelta(days=3)).total > 0  # the sweep's bulk writer
    assert durations.stored() == durations.recount()

    # Direct writes: reported in, done, done undone, moved to another unit and across a
    # month's end (local midnight), deleted.
    some = list(Assignment.select().order_by(Assignment.id).limit(5))
    other = OrgNode.get(OrgNode.key == "dept-gaj")
    first = some[0]
    Assignment.update(reported_at=first.summoned_at + 5 * H).where(
        Assignment.id == first.id
    ).execute()
    Assignment.update(state="done", done_at=first.summoned_at + 50 * H).where(
        Assignment.id == some[1].id
    ).execute()
    Assignment.update(state="reported").where(Assignment.id == some[2].id).execute()
    Assignment.update(unit=other.id).where(Assignment.id == some[3].id).execute()
    Assignment.update(summoned_at=dt.datetime(2026, 10, 31, 15, 59, 59)).where(
        Assignment.id == some[4].id
    ).execute()
    assert durations.stored() == durations.recount()
    Assignment.update(summoned_at=dt.datetime(2026, 10, 31, 16, 0, 0)).where(
        Assignment.id == some[4].id
    ).execute()
    Assignment.delete().where(Assignment.id == some[0].id).execute()
    assert durations.stored() == durations.recount()

    before = durations.stored()  # a rolled-back delete leaves them as they were
    with database.atomic() as transaction:
        Assignment.delete().execute()
        assert durations.stored() == {}
        transaction.rollback()
    assert durations.stored() == before
    SummonsDurationTally.delete().execute()  # rebuilt from nothing: the same
    durations.rebuild()
    assert durations.stored() == before


@pytest.mark.parametrize("username", ["ducha", "dept-zhifa-user"])
def test_stored_medians_equal_those_of_every_summons(app, actor_of, username):
    generate(SEED, compounds=6, items=120, seed=7, now=NOW)
    actor = actor_of(username)
    for period in PERIODS:
        stored, live = medians_both_ways(actor, period)
        assert stored and any(r is not None for r, _ in stored.values())
        assert same(stored, live), period
        # and the evaluation shows them
        by_unit = {row.node.id: row for row in evaluation.evaluate(actor, period, now=NOW)}
        for unit, (report, handle) in stored.items():
            shown = by_unit[unit].report_median_hours
            assert shown == (None if report is None else round(report / 3600, 1))


@pytest.mark.parametrize("count", [1, 2, 3, 10, 11])
def test_a_median_is_picked_inside_its_bucket(app, actor_of, count):
    """Times of one department in one bucket and at buckets' edges (999.6 s, 1,000 s, a
    negative one), ties among them; odd and even counts: the value sorting them gives."""
    generate(SEED, compounds=2, items=10, seed=1, now=NOW)
    actor = actor_of("ducha")
    dept = OrgNode.get(OrgNode.key == "dept-zhifa")
    Assignment.delete().where(Assignment.unit == dept.id).execute()
    item = Item.select().first()
    start = dt.datetime(2026, 11, 10, 2, 0, 0)
    times = [3600, 3601, 3601, 3605, 3609, 999.6, 1000, -5, 3603, 3604, 3600.5][:count]
    for seconds in times:
        Assignment.create(
            item=item, unit=dept, unit_path=dept.path, role="department", table="whistle",
            summoned_at=start, reported_at=start + dt.timedelta(seconds=seconds),
            state="reported", open=False,
        )  # fmt: skip
    period = PERIODS[1]
    stored, live = medians_both_ways(actor, period)
    assert durations.stored() == durations.recount()
    assert same({dept.id: stored[dept.id]}, {dept.id: live[dept.id]})
    assert stored[dept.id][0] == pytest.approx(evaluation.median(list(times)), abs=1e-3)


def test_counts_that_disagree_with_the_times_are_read_from_the_summonses(app, actor_of):
    generate(SEED, compounds=4, items=60, seed=2, now=NOW)
    actor = actor_of("ducha")
    period = PERIODS[0]
    before, live = medians_both_ways(actor, period)
    unit = next(u for u, (r, _) in before.items() if r is not None)
    SummonsDurationTally.update(summonses=SummonsDurationTally.summonses + 7).where(
        (SummonsDurationTally.unit == unit) & (SummonsDurationTally.kind == 0)
    ).execute()
    rows = {u: evaluation.DepartmentRow(OrgNode.get_by_id(u), summoned=1) for u in before}
    stored = evaluation._stored_medians(actor, period, rows, everything=True)
    assert unit not in stored  # left to the summonses
    shown = {row.node.id: row for row in evaluation.evaluate(actor, period, now=NOW)}
    report = live[unit][0]
    assert shown[unit].report_median_hours == round(report / 3600, 1)


@pytest.mark.parametrize("also_summoned", [False, True])
def test_a_street_reads_its_areas_histograms(app, actor_of, also_summoned):
    """A street's supervisor sees only its street's summonses of each department: their
    medians come from the histograms of the street's area and equal those of the
    summonses in the street's view; with a department's grant too, that department's
    from its whole histograms."""
    from engine.store.models import Grant, User

    generate(SEED, compounds=24, items=240, seed=2, now=NOW)
    if also_summoned:
        user = User.get(User.username == "chaohui-ducha")
        Grant.create(user=user, role="department", node=OrgNode.get(OrgNode.key == "dept-zhifa"))
    actor = actor_of("chaohui-ducha")
    street = OrgNode.get(OrgNode.key == "chaohui")
    assert evaluation._areas(actor) == [(street.id, street.path)]
    checked = 0
    for period in PERIODS:
        stored, live = medians_both_ways(actor, period)
        assert same(stored, live), period
        checked += sum(r is not None for r, _ in stored.values())
    assert checked  # some department was summoned in the street
    if also_summoned:  # its every summons, not only the street's
        dept = OrgNode.get(OrgNode.key == "dept-zhifa")
        everywhere = evaluation._stored_medians(
            actor_of("dept-zhifa-user"),
            PERIODS[0],
            {dept.id: evaluation.DepartmentRow(dept, summoned=1)},
            everything=False,
        )
        stored, _ = medians_both_ways(actor, PERIODS[0])
        assert stored[dept.id] == everywhere[dept.id]


def test_an_actor_under_an_area_reads_the_summonses(app, actor_of):
    """A compound's commissioner's subtree is no area: its medians are read from the
    summonses, not from the histograms."""
    generate(SEED, compounds=4, items=60, seed=2, now=NOW)
    actor = actor_of("xifang")
    assert evaluation._areas(actor) is None
    rows = {
        n.id: evaluation.DepartmentRow(n, summoned=1)
        for n in evaluation._departments_for(actor, evaluation._departments_and_roots()[0])
    }
    assert rows and evaluation._stored_medians(actor, PERIODS[0], rows, everything=False) == {}


def test_a_paths_area_is_the_same_in_sql_and_python(app):
    paths = ["/1/", "/1/78/", "/1/78/5/", "/12/345/6789/10/", "/7/8/"]
    db = backend()
    for path in paths:
        sql = f"SELECT {db.path_area('p.path')} FROM (SELECT CAST({db.database.param} AS TEXT)"
        (value,) = database.execute_sql(sql + " AS path) AS p", [path]).fetchone()
        assert value == area_of(path), path
    assert [area_of(p) for p in paths] == [0, 78, 78, 345, 8]


def test_an_items_move_and_delete_move_its_durations(app, actor_of):
    """An item moved to another street takes its summonses' durations there (one moved in
    its street leaves them); a deleted item takes them away, its summonses after it."""
    generate(SEED, compounds=8, items=120, seed=5, now=NOW)
    summoned = (
        Item.select()
        .join(Assignment, on=(Assignment.item == Item.id))
        .where(Assignment.reported_at.is_null(False))
        .order_by(Item.id)
    )
    first, second, third = list(summoned.distinct().limit(3))
    streets = list(OrgNode.select().where(OrgNode.kind == "street").order_by(OrgNode.id))
    elsewhere = next(s for s in streets if not first.node_path.startswith(s.path))
    Item.update(node=elsewhere.id, node_path=elsewhere.path).where(Item.id == first.id).execute()
    assert durations.stored() == durations.recount()
    same_street = OrgNode.get_by_id(int(second.node_path.strip("/").split("/")[1]))
    Item.update(node=same_street.id, node_path=same_street.path).where(
        Item.id == second.id
    ).execute()
    assert durations.stored() == durations.recount()
    before = durations.stored()
    with database.atomic() as transaction:
        Item.delete().where(Item.id == third.id).execute()  # its summonses by cascade
        assert durations.stored() == durations.recount() != before
        transaction.rollback()
    assert durations.stored() == before


def test_an_instance_without_the_histograms_gets_them_counted(app):
    from engine.store.models import create_tables

    generate(SEED, compounds=3, items=30, seed=2, now=NOW)
    expected = durations.stored()
    assert expected == durations.recount() != {}
    for statement in backend().drop_duration_triggers():
        database.execute_sql(statement)
    database.drop_tables([SummonsDurationTally])
    create_tables()
    assert durations.stored() == expected


def test_histograms_kept_without_areas_are_counted_again(app):
    """An instance made when the histograms had no area: its table and triggers are
    replaced and counted, and later writes keep them."""
    from engine.store.models import create_tables

    generate(SEED, compounds=3, items=30, seed=2, now=NOW)
    expected = durations.stored()
    for statement in backend().drop_duration_triggers():
        database.execute_sql(statement)
    database.drop_tables([SummonsDurationTally])
    database.execute_sql(
        f"CREATE TABLE summons_duration_tally (id {'SERIAL' if ON_POSTGRES else 'INTEGER'}"
        " NOT NULL PRIMARY KEY, unit_id INTEGER NOT NULL, kind INTEGER NOT NULL,"
        " month VARCHAR(7) NOT NULL, bucket INTEGER NOT NULL, summonses INTEGER NOT NULL)"
    )
    old = (  # a trigger of before, without the area
        "INSERT INTO summons_duration_tally (unit_id, kind, month, bucket, summonses)"
        " VALUES (NEW.unit_id, 0, '', 0, 1)"
    )
    on = "CREATE TRIGGER assignment_duration_insert AFTER INSERT ON assignment"
    if ON_POSTGRES:
        database.execute_sql(
            "CREATE OR REPLACE FUNCTION assignment_duration_tally() RETURNS trigger"
            f" LANGUAGE plpgsql AS $$ BEGIN {old}; RETURN NULL; END $$"
        )
        database.execute_sql(f"{on} FOR EACH ROW EXECUTE FUNCTION assignment_duration_tally()")
    else:
        database.execute_sql(f"{on} BEGIN {old}; END")
    create_tables()
    assert durations.stored() == expected
    waiting = Assignment.select().where(Assignment.reported_at.is_null()).first()
    Assignment.update(reported_at=waiting.summoned_at + 5 * H).where(
        Assignment.id == waiting.id
    ).execute()
    assert durations.stored() == durations.recount() != expected


@pytest.mark.parametrize(
    "first, last, months",
    [
        ("2026-10-01", "2026-12-31", ("2026-10", "2026-12")),
        ("2026-02-01", "2026-02-28", ("2026-02", "2026-02")),
        ("2026-10-02", "2026-12-31", None),
        ("2026-10-01", "2026-12-30", None),
        ("1991-01-01", "1991-12-31", None),
    ],
)
def test_whole_months(first, last, months):
    day = dt.date.fromisoformat
    assert durations.whole_months(day(first), day(last)) == months


def test_few_summonses_are_read_from_the_summonses(app, actor_of, monkeypatch):
    """Up to ``STORED_MEDIANS_ABOVE`` summonses in the period the times are read (cheaper
    than the histograms' window sums on a small database); above it, the histograms."""
    generate(SEED, compounds=3, items=30, seed=2, now=NOW)
    actor = actor_of("ducha")
    rows = {row.node.id: row for row in evaluation.evaluate(actor, PERIODS[0], now=NOW)}
    summoned = sum(row.summoned for row in rows.values())
    assert summoned > 0
    monkeypatch.setattr(evaluation, "STORED_MEDIANS_ABOVE", summoned)
    assert evaluation._stored_medians(actor, PERIODS[0], rows, everything=True) == {}
    monkeypatch.setattr(evaluation, "STORED_MEDIANS_ABOVE", summoned - 1)
    assert (
        evaluation._stored_medians(actor, PERIODS[0], rows, everything=True).keys() == rows.keys()
    )


def test_a_street_reads_the_histograms_when_finding_its_summonses_reads_many(
    app, actor_of, monkeypatch
):
    """A street's few summonses are read from the summonses, unless finding them reads
    many rows (the units' summonses the district over, or the street's items of every
    year, the fewer: ``_subtree_read``): then its area's histograms, with the same medians."""
    from collections import Counter

    from engine.accounts.users import upsert_user
    from engine.org.scope import summons_unjoined_shape
    from engine.store.models import Assignment, Item, OrgNode

    generate(SEED, compounds=6, items=60, seed=2, now=NOW)
    start, end = PERIODS[0].bounds()
    paths = [  # the items' paths of the quarter's summonses: the busiest street is chosen
        node_path
        for node_path, at in Item.select(Item.node_path, Assignment.summoned_at)
        .join(Assignment, on=(Assignment.item == Item.id))
        .tuples()
        if start <= at < end
    ]
    streets = Counter(path.split("/")[2] for path in paths)
    street = OrgNode.get_by_id(int(streets.most_common(1)[0][0]))
    upsert_user("street-sup", "街道督导", "demo1234",
                [{"role": "supervisor", "node": street.key}], now=NOW)  # fmt: skip
    actor = actor_of("street-sup")
    period = PERIODS[0]
    rows = {row.node.id: row for row in evaluation.evaluate(actor, period, now=NOW)}
    summoned = sum(row.summoned for row in rows.values())
    read = evaluation._subtree_read(actor, period, list(rows))
    ways, values = summons_unjoined_shape(actor)
    values["start"], values["end"] = period.bounds()
    assert read == min(evaluation._sizes(ways, values, list(rows)))
    assert 0 < summoned < read  # the district's summonses are more than the street's
    monkeypatch.setattr(evaluation, "STORED_MEDIANS_ABOVE", read)
    assert evaluation._stored_medians(actor, period, rows, everything=False) == {}
    monkeypatch.setattr(evaluation, "STORED_MEDIANS_ABOVE", read - 1)
    stored = evaluation._stored_medians(actor, period, rows, everything=False)
    assert stored.keys() == rows.keys()
    live = evaluation._medians(actor, period, list(stored), everything=False)
    assert same(stored, {u: live.get(u, (None, None)) for u in stored})
    monkeypatch.setattr(evaluation, "STORED_MEDIANS_ABOVE", summoned)  # not the street's own
    assert evaluation._stored_medians(actor, period, rows, everything=False).keys() == rows.keys()


def test_an_upgrade_replaces_the_narrow_pending_indexes(app):
    """Today's deadlines are read off the partial indexes with the unit, the summons time
    and the item, a bucket's durations off those with the item too; an instance with the
    narrower ones of before gets these instead."""
    from engine.store.models import create_tables

    for which, due in (("report", "report_due_at"), ("handle", "handle_due_at")):
        database.execute_sql(f"CREATE INDEX assignment_pending_{which} ON assignment ({due})")
        database.execute_sql(  # and the durations' indexes without the item
            f"CREATE INDEX assignment_{which}_seconds ON assignment (unit_id, summoned_at)"
        )
    create_tables()
    names = {index.name for index in database.get_indexes("assignment")}
    assert {"assignment_pending_report_units", "assignment_pending_handle_units"} <= names
    assert {"assignment_report_seconds_item", "assignment_handle_seconds_item"} <= names
    assert not {"assignment_pending_report", "assignment_pending_handle"} & names
    assert not {"assignment_report_seconds", "assignment_handle_seconds"} & names
