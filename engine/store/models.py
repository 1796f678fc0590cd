"""The peewee models: org tree, people, definitions, items, summons, audit."""

from __future__ import annotations

import datetime as dt
from typing import Any

from peewee import (
    BooleanField,
    CharField,
    FloatField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

from engine.store.db import DateTimeField, JSONField, add_missing_columns, database

# The role an item's explicit handler stands in for (小区专员): a reassigned item is
# handled by its handler, not by the commissioners of its compound.
HANDLER_ROLE = "commissioner"


def utcnow() -> dt.datetime:
    """Naive UTC; only for column defaults. Services take ``now`` explicitly."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(Model):
    class Meta:
        database = database
        legacy_table_names = False


class OrgNode(Base):
    """A node of the org tree: district, street (街道), community (社区), compound (小区),
    building (楼栋) or department (职能部门)."""

    key = CharField(unique=True, max_length=80)
    name = CharField(max_length=200)
    kind = CharField(max_length=20, index=True)
    parent = ForeignKeyField("self", null=True, backref="children", on_delete="RESTRICT")
    # Materialized path of ids, "/1/4/17/": a subtree is one indexed LIKE prefix query.
    path = CharField(max_length=500, index=True)
    keys = JSONField(default=list)  # ancestor keys, root first, self last (rules see this)
    profile = JSONField(default=dict)
    # The compound file's version: a save names the one its form showed and loses (409)
    # if someone saved in between, instead of silently reverting their change.
    profile_lock = IntegerField(default=1)

    def ancestors_and_self(self) -> list[str]:
        return list(self.keys)


class User(Base):
    username = CharField(unique=True, max_length=80)
    name = CharField(max_length=120)
    password_hash = CharField(max_length=255)
    locale = CharField(max_length=10, default="zh_CN")
    active = BooleanField(default=True)
    created_at = DateTimeField(default=utcnow)


class Grant(Base):
    """A role granted at a node of the org tree; it reaches the node's subtree."""

    user = ForeignKeyField(User, backref="grants", on_delete="CASCADE")
    role = CharField(max_length=40)
    node = ForeignKeyField(OrgNode, backref="grants", on_delete="CASCADE")

    class Meta:
        indexes = ((("user", "role", "node"), True), (("role", "node"), False))


class Token(Base):
    """A bearer token for the JSON API; only its SHA-256 is stored."""

    user = ForeignKeyField(User, backref="tokens", on_delete="CASCADE")
    digest = CharField(unique=True, max_length=64)
    label = CharField(max_length=120, default="")
    created_at = DateTimeField(default=utcnow)
    revoked = BooleanField(default=False)
    expires_at = DateTimeField(null=True)  # null: made before tokens expired (valid until revoked)
    revoked_at = DateTimeField(null=True)
    last_used_at = DateTimeField(null=True)


class Pack(Base):
    key = CharField(unique=True, max_length=80)
    name = CharField(max_length=200)
    version = CharField(max_length=40)
    roles = JSONField(default=dict)
    loaded_at = DateTimeField(default=utcnow)
    calendar = JSONField(null=True)  # pack.json "calendar"; null: natural hours


class Definition(Base):
    """A named definition (item type, profile, ...); its published bodies are versions."""

    pack = ForeignKeyField(Pack, backref="definitions", on_delete="CASCADE")
    key = CharField(unique=True, max_length=80)
    kind = CharField(max_length=20, index=True)
    name = CharField(max_length=200)
    draft = JSONField(null=True)
    current = IntegerField(default=0)  # number of the newest published version


class DefinitionVersion(Base):
    """An immutable published body of a definition; items are pinned to one."""

    definition = ForeignKeyField(Definition, backref="versions", on_delete="CASCADE")
    number = IntegerField()
    body = JSONField()
    digest = CharField(max_length=64)
    published_at = DateTimeField(default=utcnow)
    published_by = ForeignKeyField(User, null=True, on_delete="SET NULL")

    class Meta:
        indexes = ((("definition", "number"), True),)


class Item(Base):
    """A raised matter: a bell (协商铃), a repair (报事报修), a whistle (吹哨) ..."""

    # indexed with the open flag and raised time below (Meta), not alone
    definition = ForeignKeyField(Definition, on_delete="RESTRICT", index=False)
    version = ForeignKeyField(DefinitionVersion, on_delete="RESTRICT")
    node = ForeignKeyField(OrgNode, on_delete="RESTRICT")
    node_path = CharField(max_length=500)
    title = CharField(max_length=300, default="")
    state = CharField(max_length=60)
    priority = IntegerField(default=0)
    data = JSONField(default=dict)
    raised_by = ForeignKeyField(User, null=True, on_delete="SET NULL", index=False)
    raised_at = DateTimeField()
    state_since = DateTimeField()
    due_at = DateTimeField(null=True)
    resolved_at = DateTimeField(null=True)
    resolution_seconds = IntegerField(null=True)
    satisfaction = IntegerField(null=True)
    closed = BooleanField(default=False)
    lock = IntegerField(default=1)  # the "version" clients send back; a stale one gives 409
    # Who handles the item in place of the compound's commissioner, once a supervisor
    # reassigned it; null means the commissioners of its compound, as before.
    handler = ForeignKeyField(
        User, null=True, on_delete="SET NULL", backref="handled_items", index=False
    )
    urge_count = IntegerField(default=0)  # times a supervisor urged (督办) it or one of its summons
    reopen_count = IntegerField(default=0)  # times it left a resolved state for an unresolved one

    class Meta:
        indexes = (
            (("node", "closed", "due_at"), False),
            # resolution_seconds last: /review/'s medians read a subtree's resolution times
            # from this index alone (no item row visited); a separate index on (node_path,
            # resolution_seconds) drew the inbox's subtree arm away from this one
            (("node_path", "closed", "due_at", "resolution_seconds"), False),
            (("raised_by", "raised_at"), False),
            (("raised_by", "closed", "due_at"), False),  # the inbox part "items I raised"
            (("handler", "closed", "due_at"), False),  # the inbox part "items handed to me"
            # In place of the keys' own indexes, with the path: the review's summary finds
            # the items a user raised or was handed outside its subtrees on these alone.
            # (The path after the deadline above would cost the parts their order by id.)
            (("raised_by", "node_path"), False),
            (("handler", "node_path"), False),
            (("state",), False),
            # The sweep: open items by state deadline. The id and node after it: a list
            # walking it in deadline order (newest first among equals, no deadline newest
            # first) tests a subtree's nodes on the index, reading only the rows it keeps
            # (a street's closed items at the ten-year million, 2.4 -> 1.9 ms)
            (("closed", "due_at", "id", "node"), False),
            # The list behind an indicator, newest first: a street's or the district's
            # walked in this order instead of sorting every item under the node
            (("raised_at",), False),
            # In place of the type's own index: a type's open items newest first (the
            # live board walks them and stops at its page; by the type alone it read every
            # item of the type and sorted the open ones: 1 s for a street at a million)
            (("definition", "closed", "raised_at"), False),
            # The evaluation's items touched: rating and reopenings by id from this index
            # alone (a few bytes an entry) instead of the item rows (a page a few rows)
            (("id", "satisfaction", "reopen_count"), False),
            # A median's bucket: the resolution times in a range, their paths tested here
            # (``medians``); led by the time, no path or deadline query is drawn to it.
            (("resolution_seconds", "node_path"), False),
        )


class Assignment(Base):
    """A summons of a unit by a whistle (吹哨) or a bell; the unit reports in (报到)."""

    # indexed with the unit's path below (Meta), not alone
    item = ForeignKeyField(Item, backref="assignments", on_delete="CASCADE", index=False)
    unit = ForeignKeyField(OrgNode, on_delete="RESTRICT")
    unit_path = CharField(max_length=500)
    role = CharField(max_length=40)  # who of the unit acts: "department", "property", ...
    state = CharField(max_length=20, default="summoned")  # summoned, reported, done, declined
    table = CharField(max_length=60)
    rule = CharField(max_length=80, null=True)  # routing rule key; null for the default route
    priority = IntegerField(default=0)
    summoned_at = DateTimeField()
    report_due_at = DateTimeField(null=True)
    reported_at = DateTimeField(null=True)
    handle_due_at = DateTimeField(null=True)
    done_at = DateTimeField(null=True)
    reply = TextField(default="")
    open = BooleanField(default=True)
    next_due_at = DateTimeField(null=True)  # report deadline until reported, then handle deadline
    urge_count = IntegerField(default=0)  # times a supervisor urged (督办) this summons

    class Meta:
        indexes = (
            (("unit", "role", "open", "next_due_at"), False),
            # In place of the item's own index: whether a unit under a path was summoned on
            # an item is read off it alone (a department's view of the items: the live
            # board tests each open emergency so, 9,500 at a million items, 41 -> 24 ms)
            (("item", "unit_path"), False),
            (("item", "state"), False),
            # the sweep: open summons by deadline; unit and item for the overdue board by
            # department, which counts late summons and their items from this index alone
            (("open", "next_due_at", "unit", "item"), False),
            (("open", "handle_due_at"), False),
            # the summons of a role at the root (a district supervisor's list) in deadline
            # order: ``scope.assignment_shape_by_ids``
            (("role", "open", "next_due_at"), False),
        )


# Department evaluation over a period reads only this index (a covering index): the
# period's summons of each department, with every column its counts, medians and
# items read, without visiting the rows themselves.
Assignment.add_index(
    Assignment.index(
        Assignment.unit,
        Assignment.summoned_at,
        Assignment.state,
        Assignment.reported_at,
        Assignment.report_due_at,
        Assignment.done_at,
        Assignment.handle_due_at,
        Assignment.urge_count,
        Assignment.item,
        name="assignment_evaluation",
    )
)
# ... and its items touched, pair by pair in (unit, item) order: no sort to make the pairs
# distinct, and the items are then read in id order (near each other on disk).
Assignment.add_index(
    Assignment.index(
        Assignment.unit, Assignment.item, Assignment.summoned_at, name="assignment_unit_items"
    )
)

# The evaluation's summons still inside a deadline that falls today (the stored day counts
# hold the other days): only such undecided summons are in these indexes.


def pending(summons: Any, which: str) -> Any:
    """``summons`` (the model or an alias) is inside its report (``which`` "report") or
    handling deadline and undecided: the condition of the two partial indexes below,
    which a query repeats term for term for SQLite to use them."""
    if which == "report":
        return (
            summons.reported_at.is_null()
            & summons.done_at.is_null()
            & summons.report_due_at.is_null(False)
        )
    return (
        (summons.state != "done") & summons.done_at.is_null() & summons.handle_due_at.is_null(False)
    )


# With the unit, the summons time and the item beside the deadline: the evaluation reads
# today's deadlines off the index alone (7,131 of them for the district at 1,000,000 items,
# each read in the table before: 9.2 -> 1.4 ms).
def _pending_index(which: str, due: Any) -> Any:
    columns = (due, Assignment.unit, Assignment.summoned_at, Assignment.item)
    name = f"assignment_pending_{which}_units"
    return Assignment.index(*columns, name=name).where(pending(Assignment, which))


Assignment.add_index(_pending_index("report", Assignment.report_due_at))
Assignment.add_index(_pending_index("handle", Assignment.handle_due_at))


def open_deadline(summons: Any) -> Any:
    """``summons`` (the model or an alias) is open with a next deadline: the condition of
    the partial index below, which a query repeats term for term for SQLite to use it."""
    return summons.open & summons.next_due_at.is_null(False)


# The open summonses' next deadlines by item: a live board's two hundred items' earliest
# read off this index alone (0.62 -> 0.19 ms at the stress million, where the (item,
# state) index read each of their summonses in the table). No constant in its condition,
# so SQLite has no bound value to weigh it by (``Backend.extra_indexes``).
Assignment.add_index(
    Assignment.index(
        Assignment.item, Assignment.next_due_at, name="assignment_open_item_due"
    ).where(open_deadline(Assignment))
)


class Escalation(Base):
    """An escalation step applied once to a summons or a state visit (超时预警, 督办, 升级).

    The unique key is what makes a step happen exactly once: every sweeper inserts
    the row in the same transaction as the step's effects, and the loser of a race
    gets an IntegrityError and rolls its copy back.
    """

    item = ForeignKeyField(Item, backref="escalations", on_delete="CASCADE")
    # "summons:<assignment id>" or "state:<state>:<item lock at entry>"
    subject = CharField(max_length=120)
    step = CharField(max_length=80)
    kind = CharField(max_length=20)  # the step's "on": summons_report, summons_handle, state
    assignment = ForeignKeyField(Assignment, null=True, on_delete="CASCADE")
    due_at = DateTimeField()  # the deadline the step is measured from
    at = DateTimeField()  # when the sweep applied it
    detail = JSONField(null=True)

    class Meta:
        indexes = ((("item", "subject", "step"), True),)


class Attachment(Base):
    """An uploaded photo or file; items refer to it by its public id."""

    public_id = CharField(unique=True, max_length=40)
    item = ForeignKeyField(Item, null=True, backref="attachments", on_delete="SET NULL")
    record = CharField(max_length=60, null=True, index=True)  # "checklist-row:12", "kpi-report:3"
    uploaded_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    filename = CharField(max_length=255)
    content_type = CharField(max_length=120)
    size = IntegerField()
    sha256 = CharField(max_length=64)
    created_at = DateTimeField(default=utcnow)


class Event(Base):
    """An audit event: who, when, what, before and after. Never updated."""

    at = DateTimeField(index=True)
    actor = ForeignKeyField(User, null=True, on_delete="SET NULL")
    action = CharField(max_length=60)
    item = ForeignKeyField(Item, null=True, backref="events", on_delete="CASCADE")
    target = CharField(max_length=120, default="")
    before = JSONField(null=True)
    after = JSONField(null=True)
    detail = JSONField(null=True)

    class Meta:
        # (target, action): a record's events that are not an item's (a statement's
        # questions on its page) are read by target; without it every event is scanned.
        indexes = ((("item", "at"), False), (("target", "action"), False))


class Notification(Base):
    user = ForeignKeyField(User, backref="notifications", on_delete="CASCADE")
    item = ForeignKeyField(Item, null=True, on_delete="CASCADE")
    message = CharField(max_length=500)
    created_at = DateTimeField()
    read = BooleanField(default=False)

    class Meta:
        indexes = ((("user", "read", "created_at"), False),)


class WebhookEndpoint(Base):
    """An address events are POSTed to, signed with HMAC-SHA256; from a pack or an admin."""

    key = CharField(unique=True, max_length=80)
    url = CharField(max_length=1000)
    events = JSONField(default=list)  # patterns: "notification", "item.*", "*"
    secret_env = CharField(max_length=120, null=True)  # name of the env var holding the secret
    secret = CharField(max_length=200, null=True)  # admin-entered; never shown back
    active = BooleanField(default=True)
    pack = CharField(max_length=80, null=True)  # the pack that declares it; null: admin-made
    description = CharField(max_length=500, default="")
    updated_at = DateTimeField(default=utcnow)
    # Where it listens: events about items in this node's subtree (null: the whole district).
    scope = ForeignKeyField(OrgNode, null=True, on_delete="CASCADE")
    scope_path = CharField(max_length=500, null=True)
    personal = BooleanField(default=False)  # may receive personal data (names, phones)

    def listens_at(self, node_path: str | None) -> bool:
        """Whether events about a node on ``node_path`` (None: no node) reach this endpoint."""
        if self.scope_path is None:
            return True
        return node_path is not None and node_path.startswith(self.scope_path)


class OutboxMessage(Base):
    """An event to forward, written in the same transaction as the change it reports."""

    event = CharField(max_length=60)
    item = IntegerField(null=True)  # the item's id (no foreign key: history outlives items)
    payload = JSONField()
    created_at = DateTimeField()


class Delivery(Base):
    """One outbox message on its way to one endpoint (pending, retrying, delivered, dead)."""

    message = ForeignKeyField(OutboxMessage, backref="deliveries", on_delete="CASCADE")
    endpoint = ForeignKeyField(WebhookEndpoint, backref="deliveries", on_delete="CASCADE")
    stream = CharField(max_length=40, null=True)  # "item:12": delivered in order within it
    status = CharField(max_length=12, default="pending")
    attempts = IntegerField(default=0)
    next_attempt_at = DateTimeField()
    claimed_by = CharField(max_length=60, null=True)
    claimed_until = DateTimeField(null=True)
    last_status = IntegerField(null=True)
    last_error = TextField(default="")
    delivered_at = DateTimeField(null=True)

    class Meta:
        indexes = (
            (("status", "next_attempt_at"), False),
            (("endpoint", "stream", "status"), False),
            (("endpoint", "status", "id"), False),
        )


class DeliveryAttempt(Base):
    """One POST of a delivery: when, the HTTP status or the error, how long it took."""

    delivery = ForeignKeyField(Delivery, backref="attempt_rows", on_delete="CASCADE")
    at = DateTimeField()
    status_code = IntegerField(null=True)
    error = TextField(default="")
    duration_ms = IntegerField()
    worker = CharField(max_length=60, default="")  # which deliverer (process) sent it


class RuleFailure(Base):
    """A rule that failed at evaluation: which definition, version and rule path."""

    at = DateTimeField()
    definition = CharField(max_length=80)
    version = IntegerField()
    where = CharField(max_length=300)
    message = TextField()  # an English msgid with %(name)s placeholders, or (params null) text
    params = JSONField(null=True)  # the placeholders' values (rules.params_from_json)
    item = ForeignKeyField(Item, null=True, on_delete="CASCADE")


class NodeFacts(Base):
    """The cached facts document of an org node (docs/facts.md) and when it was computed."""

    node = ForeignKeyField(OrgNode, unique=True, on_delete="CASCADE")
    facts = JSONField(default=dict)
    # indexed: the cache's stamp reads the newest time on every dashboard, and in the row
    # it comes after the document (7 KB a node at a million items, over overflow pages)
    computed_at = DateTimeField(index=True)


class NodeTally(Base):
    """Stored counts of the items at one org node, kept by database triggers on ``item``
    in the same transaction as every insert, update and delete (``Backend.tally_triggers``;
    ``engine.supervision.tallies`` reads them and can rebuild them from the items).

    ``bucket``: "" for closed items; for open ones the UTC date (YYYY-MM-DD) of their
    deadline, or "~" without one — so "open and overdue before today" is a sum over the
    buckets before today's date, and only today's deadlines need the items themselves.
    Derived data: not in backups (a restore's item inserts make it again).
    """

    node = ForeignKeyField(OrgNode, on_delete="CASCADE", backref="+")
    bucket = CharField(max_length=10)
    items = IntegerField(default=0)
    open = IntegerField(default=0)
    resolved = IntegerField(default=0)  # resolved_at set
    rated = IntegerField(default=0)  # satisfaction set
    rating_sum = IntegerField(default=0)  # sum of satisfaction

    class Meta:
        table_name = "node_tally"
        indexes = ((("node", "bucket"), True),)


class AreaTally(Base):
    """:class:`NodeTally` summed over each area (the node below the root on an item's path,
    a street; 0 for the root's own items), for the district's children on ``/review/``:
    1,523 rows at the stress million where the nodes have 10,325. Read for this month's
    days before today only (:class:`AreaMonthTally` holds the rest), keyed (bucket, area):
    those days one range of the index. Kept by triggers on ``item``
    (``Backend.area_tally_triggers``). Derived data: not in backups."""

    area = IntegerField()
    bucket = CharField(max_length=10)
    items = IntegerField(default=0)
    open = IntegerField(default=0)
    resolved = IntegerField(default=0)
    rated = IntegerField(default=0)
    rating_sum = IntegerField(default=0)

    class Meta:
        table_name = "area_tally"
        indexes = ((("bucket", "area"), True),)


class AreaMonthTally(AreaTally):
    """:class:`AreaTally` with each open item bucketed by its deadline's UTC month
    (``YYYY-MM``): the areas' counts, and their open items due before this month, summed
    from 130 rows at the stress million (the 1,523 by day took 0.41 ms). Keyed (area,
    bucket), read whole in the areas' order. Kept beside the others
    (``Backend.area_tally_triggers``). Derived data: not in backups."""

    bucket = CharField(max_length=7)

    class Meta:
        table_name = "area_month_tally"
        indexes = ((("area", "bucket"), True),)


class AreaHourTally(AreaTally):
    """:class:`AreaTally` with each open item bucketed by its deadline's UTC hour
    (``YYYY-MM-DD HH``), not its day, read only for today's hours: who sees the whole tree
    counts today's deadlines before this hour from these rows and reads only this hour's
    from the items (the stress million: 19,835 open items due today by 21:20; 693 due
    from 21:00 to 21:36). Keyed (bucket, area), the hours of a day one range of the index.
    Kept by triggers on ``item`` beside :class:`AreaTally`'s
    (``Backend.area_tally_triggers``). Derived data: not in backups."""

    bucket = CharField(max_length=13)

    class Meta:
        table_name = "area_hour_tally"
        indexes = ((("bucket", "area"), True),)


class AreaSlotTally(AreaTally):
    """:class:`AreaHourTally` by ten minutes of the deadline (``YYYY-MM-DD HH:M``), read
    only for this hour's: who sees the whole tree counts this hour's deadlines up to the
    end of these ten minutes from these rows, and reads from the items only those of these
    ten minutes still to come, to take them away (the stress million: 1,011 open items
    due from 13:00 to 13:58, read from the items by path in 3.0 ms). Kept beside the
    others (``Backend.area_tally_triggers``). Derived data: not in backups."""

    bucket = CharField(max_length=15)

    class Meta:
        table_name = "area_slot_tally"
        indexes = ((("bucket", "area"), True),)


class SummonsTally(Base):
    """Stored counts of the open summons of one unit on the items at one org node, kept
    by database triggers on ``assignment`` and ``item`` in the same transaction as every
    write (``Backend.summons_tally_triggers``), like :class:`NodeTally`. Derived data: not
    in backups."""

    unit = ForeignKeyField(OrgNode, on_delete="CASCADE", backref="+")
    node = ForeignKeyField(OrgNode, on_delete="CASCADE", backref="+")  # the items' node
    open = IntegerField(default=0)

    class Meta:
        table_name = "summons_tally"
        indexes = ((("unit", "node"), True),)


class SummonsPairDue(Base):
    """The earliest deadline of a unit's open summonses on one item (``next_due_at``),
    while it has one, and the item's area: the item is behind the unit's late count once
    that deadline has passed. Kept by database triggers on ``assignment`` and ``item``
    (``Backend.due_tally_triggers``); the item is a plain id (the item's delete trigger
    takes its pairs away before its summonses go). Derived data: not in backups."""

    unit = ForeignKeyField(OrgNode, on_delete="CASCADE", backref="+", index=False)
    item = IntegerField(column_name="item_id", index=True)
    area = IntegerField()  # the item's (``engine.org.org.area_of``)
    due = DateTimeField()

    class Meta:
        table_name = "summons_pair_due"
        indexes = (
            (("unit", "item"), True),
            (("due", "area", "unit"), False),  # this hour's passed deadlines, from the rows
        )


class SummonsDueTally(Base):
    """Per unit and area of the items, the open summonses with a deadline and the pairs
    (``SummonsPairDue``) by the UTC day (``span`` 10: ``YYYY-MM-DD``) and hour (``span``
    13: ``YYYY-MM-DD HH``) of that deadline (a pair's earliest), for the board by
    department of who sees the whole tree or whole areas: the late ones are the days
    before today, today's hours before this one and this hour's read from the rows. Kept
    by triggers like :class:`SummonsPairDue`. Derived data: not in backups."""

    unit = ForeignKeyField(OrgNode, on_delete="CASCADE", backref="+", index=False)
    area = IntegerField()  # the items' (``engine.org.org.area_of``)
    span = IntegerField()
    bucket = CharField(max_length=13)
    summonses = IntegerField(default=0)
    items = IntegerField(default=0)

    class Meta:
        table_name = "summons_due_tally"
        indexes = ((("unit", "span", "bucket", "area"), True),)


class SummonsDayTally(Base):
    """Stored counts of the summons of one unit on the items at one org node, summoned on
    one UTC day, for the evaluation (``engine.supervision.evaluation``); kept by triggers
    like :class:`SummonsTally` (``Backend.day_tally_triggers``). Whether a summons still
    inside its deadline counts as decided depends on the clock: such summons are keyed by
    the UTC date of that deadline (``report_due``, ``handle_due``; "" for the others), so
    a reader counts the days before today and reads only today's deadlines from the rows.
    Derived data: not in backups."""

    unit = ForeignKeyField(OrgNode, on_delete="CASCADE", backref="+")
    node = ForeignKeyField(OrgNode, on_delete="CASCADE", backref="+")  # the items' node
    day = CharField(max_length=10)  # summoned_at's UTC date
    report_due = CharField(max_length=10)
    handle_due = CharField(max_length=10)
    summoned = IntegerField(default=0)
    report_fixed = IntegerField(default=0)  # decided whatever the clock says
    report_on_time = IntegerField(default=0)
    handle_fixed = IntegerField(default=0)
    handle_on_time = IntegerField(default=0)
    urged = IntegerField(default=0)  # sum of urge_count

    class Meta:
        table_name = "summons_day_tally"
        indexes = (
            (("unit", "node", "day", "report_due", "handle_due"), True),
            (("unit", "day"), False),
        )


class SummonsUnitDayTally(Base):
    """:class:`SummonsDayTally` summed over the items' nodes, for a reader that sees its
    units whole (the district, a department its own): the district's departments fill
    2,279 of these rows a quarter at 1,000,000 items, where they fill 17,933 per node.
    Kept by triggers on ``assignment`` alone (``Backend.unit_day_tally_triggers``): an
    item's node does not matter here. Derived data: not in backups."""

    unit = ForeignKeyField(OrgNode, on_delete="CASCADE", backref="+")
    day = CharField(max_length=10)  # summoned_at's UTC date
    report_due = CharField(max_length=10)
    handle_due = CharField(max_length=10)
    summoned = IntegerField(default=0)
    report_fixed = IntegerField(default=0)
    report_on_time = IntegerField(default=0)
    handle_fixed = IntegerField(default=0)
    handle_on_time = IntegerField(default=0)
    urged = IntegerField(default=0)

    class Meta:
        table_name = "summons_unit_day_tally"
        indexes = ((("unit", "day", "report_due", "handle_due"), True),)


class SummonsItemTally(Base):
    """The evaluation's items touched (``engine.supervision.evaluation``): a unit's
    summonses on one item are a pair; each local day the pair was summoned on is an entry,
    keyed by that day and the pair's previous such day ("" for its first), so the pairs a
    range of days touched are the range's entries whose previous day lies before it, each
    counted once. An entry carries its item's rating and reopening. Kept by triggers like
    :class:`SummonsTally` (``Backend.item_tally_triggers``). Derived data: not in backups."""

    unit = ForeignKeyField(OrgNode, on_delete="CASCADE", backref="+")
    node = ForeignKeyField(OrgNode, on_delete="CASCADE", backref="+")  # the items' node
    day = CharField(max_length=10)  # the local (UTC+8) date summoned
    prev_day = CharField(max_length=10)  # the pair's previous local date summoned, or ""
    touched = IntegerField(default=0)  # entries (pairs)
    rated = IntegerField(default=0)  # their items with a rating
    rating_sum = IntegerField(default=0)
    reopened = IntegerField(default=0)  # their items reopened at least once

    class Meta:
        table_name = "summons_item_tally"
        indexes = ((("unit", "node", "day", "prev_day"), True),)


# A period's entries of the units read off this index alone, their counts beside the key:
# for the district at 1,000,000 items, 38,852 entries a quarter, each visited in the table
# before (the district's evaluation 29-31 -> 24-25.5 ms).
SummonsItemTally.add_index(
    SummonsItemTally.index(
        SummonsItemTally.unit,
        SummonsItemTally.day,
        SummonsItemTally.prev_day,
        SummonsItemTally.touched,
        SummonsItemTally.rated,
        SummonsItemTally.rating_sum,
        SummonsItemTally.reopened,
        name="summons_item_tally_counts",
    )
)


class UnitOpenItem(Base):
    """The open items each unit was summoned on: one row per pair of a unit and an open
    item with a summons of it, kept by database triggers on ``assignment`` and ``item``
    in the same transaction as every write (``Backend.open_items_triggers``). A
    department's list of its items reads its few open ones here (69 of its 39,913
    summonses' items after ten years at 1,000,000 items) instead of walking the district's
    open items to probe its summonses on each (``scope._summoned_conds``). Derived data:
    not in backups."""

    unit = ForeignKeyField(OrgNode, on_delete="CASCADE", backref="+", index=False)
    item = ForeignKeyField(Item, on_delete="CASCADE", backref="+")
    unit_path = CharField(max_length=500, index=True)  # the summons' (a subtree's units)
    # The item's type, so a board of some types reads only their pairs: a department's
    # live board probed the district's open emergencies for its summonses, 7,753 for none
    # (20 ms) with 273,000 items open. An item's type never changes (a migration moves it
    # to another version of its type), so no trigger follows it. Null only between an
    # upgrade adding the column and the pairs' rebuild that follows it (``create_tables``).
    definition = ForeignKeyField(
        Definition, on_delete="CASCADE", backref="+", index=False, null=True
    )
    # The item's deadline (kept by a trigger on the item), so a unit's open items are read
    # in deadline order on (unit, due_at, item) and a page stops after its end: a
    # department of the stress million with 8,987 open items walked the district's open
    # items probing its summonses on each. Null for an item without one (and, as the
    # type, between an upgrade adding the column and the rebuild that follows it).
    due_at = DateTimeField(null=True)

    class Meta:
        table_name = "unit_open_item"
        indexes = (
            (("unit", "item"), True),
            (("definition", "unit_path"), False),
            (("unit", "due_at", "item"), False),
        )


class ResolutionTally(Base):
    """A histogram of resolution times: how many resolved items at or below one org node
    took a time in one bucket (``medians.bucket_of``), kept by database triggers on
    ``item`` in the same transaction as every change (``Backend.resolution_triggers``).
    Each item counts at its node and every ancestor, so a subtree's histogram is its
    root's rows; ``engine.supervision.medians`` finds a median's bucket there and reads
    only that bucket's times from the items. Derived data: not in backups.
    """

    node = ForeignKeyField(OrgNode, on_delete="CASCADE", backref="+")
    bucket = IntegerField()
    items = IntegerField(default=0)

    class Meta:
        table_name = "resolution_tally"
        # (node, bucket, items): the histograms are read by node in bucket order for their
        # counts alone (``medians``); on the unique (node, bucket) index each of the
        # district's 1,230 demo rows was a lookup in the table as well (0.70 → 0.47 ms).
        indexes = ((("node", "bucket"), True), (("node", "bucket", "items"), False))


class SummonsDurationTally(Base):
    """Histograms of the time departments took to report in (``kind`` 0) and to finish
    (1): how many summonses of one unit, on items of one area (the node below the org
    tree's root on the item's path, a street; 0 for the root itself), summoned in one
    local calendar month (``YYYY-MM``), took a time in one bucket (``medians.bucket_of``
    of the whole seconds), kept by database triggers on ``assignment`` and ``item``
    (``Backend.duration_triggers``). The evaluation finds its medians' buckets here and
    reads only those buckets' times from the summonses (``engine.supervision.durations``).
    Derived data: not in backups.
    """

    unit = ForeignKeyField(OrgNode, on_delete="CASCADE", backref="+")
    area = IntegerField()  # a node id, not a foreign key: 0 for the root
    kind = IntegerField()
    month = CharField(max_length=7)
    bucket = IntegerField()
    summonses = IntegerField(default=0)

    class Meta:
        table_name = "summons_duration_tally"
        # read by unit and months for their counts alone (covering), or by unit, area,
        # kind and months
        indexes = (
            (("unit", "area", "kind", "month", "bucket"), True),
            (("unit", "month", "kind", "bucket", "summonses"), False),
        )


class IndexSnapshot(Base):
    """A node's index score at one moment, under one index version (三方强基指数)."""

    definition = CharField(max_length=80)
    version = IntegerField()
    node = ForeignKeyField(OrgNode, on_delete="CASCADE")
    score = FloatField(null=True)
    dimensions = JSONField(default=dict)
    values = JSONField(default=dict)  # indicator key -> {"value", "score"}
    taken_at = DateTimeField()
    # The scheduled period ("2026-12", "2026-W49") a sweep took it for; null for one taken
    # by hand. Unique per index and node: two sweeps of one period take it once.
    period = CharField(max_length=20, null=True)

    class Meta:
        indexes = (
            (("definition", "node", "taken_at"), False),
            (("definition", "node", "period"), True),
        )


# The per-node record tables and the login tables live in engine/store/tables.py, the
# tables of polls, meetings and opinions in engine/store/polls.py and
# engine/store/decision_tables.py, statements and listings in engine/store/resident_tables.py
# (they build on Base above).
from engine.store.decision_tables import MODELS as DECISION_MODELS
from engine.store.polls import Ballot, Poll, PollUnit
from engine.store.resident_tables import DirectoryEntry, Listing, Statement
from engine.store.storage import Blob
from engine.store.tables import (
    ChecklistRow,
    Household,
    KpiClose,
    KpiReport,
    LoginCounter,
    LoginSession,
)

# The stored counts and histograms: derived from the items and summonses by triggers, so
# backups leave them out (a restore's inserts make them again).
DERIVED_MODELS = (
    NodeTally,
    AreaTally,
    AreaMonthTally,
    AreaHourTally,
    AreaSlotTally,
    SummonsTally,
    SummonsDayTally,
    SummonsUnitDayTally,
    SummonsItemTally,
    ResolutionTally,
    SummonsDurationTally,
    UnitOpenItem,
    SummonsPairDue,
    SummonsDueTally,
)

ALL_MODELS = [
    OrgNode,
    User,
    Grant,
    Token,
    Pack,
    Definition,
    DefinitionVersion,
    Item,
    Assignment,
    Attachment,
    Event,
    Notification,
    RuleFailure,
    Escalation,
    WebhookEndpoint,
    OutboxMessage,
    Delivery,
    DeliveryAttempt,
    NodeFacts,
    *DERIVED_MODELS,
    IndexSnapshot,
    ChecklistRow,
    KpiReport,
    KpiClose,
    Household,
    LoginSession,
    LoginCounter,
    Blob,
    Poll,
    PollUnit,
    Ballot,
    *DECISION_MODELS,
    Statement,
    Listing,
    DirectoryEntry,
]


# Indexes an upgraded instance drops (a wider index took their place).
RETIRED_INDEXES = (
    "DROP INDEX IF EXISTS assignment_open_next_due_at",
    "DROP INDEX IF EXISTS assignment_pending_report",
    "DROP INDEX IF EXISTS assignment_pending_handle",
    "DROP INDEX IF EXISTS assignment_report_seconds",
    "DROP INDEX IF EXISTS assignment_handle_seconds",
    "DROP INDEX IF EXISTS summons_item_tally_unit_id_day_prev_day",
    "DROP INDEX IF EXISTS item_raised_by_id",
    "DROP INDEX IF EXISTS item_handler_id",
    "DROP INDEX IF EXISTS item_definition_id",
    "DROP INDEX IF EXISTS assignment_item_id",
    "DROP INDEX IF EXISTS item_closed_due_at",
    "DROP INDEX IF EXISTS area_tally_area_bucket",  # now (bucket, area)
    # "closed = 0": every statement binding the flag compiled again per run (backends.py)
    "DROP INDEX IF EXISTS item_open_definition_id_node_path_raised_at",
)


def _retire_durations_without_area(db: Any) -> None:
    """Drop the summons-duration histograms of an instance made before they were kept per
    area, and their triggers: ``create_tables`` makes and counts them again."""
    table = SummonsDurationTally._meta.table_name
    if not SummonsDurationTally.table_exists():
        return
    if "area" in {c.name for c in database.get_columns(table)}:
        return
    with database.atomic():
        for statement in db.drop_duration_triggers():
            database.execute_sql(statement)
        SummonsDurationTally.drop_table()


def create_tables() -> None:
    """Create every table, column and index that is missing (idempotent); one process at
    a time (``Backend.schema_lock``: servers that start together)."""
    from engine.store.db import backend

    with backend().schema_lock():
        _create_tables()


def _create_tables() -> None:
    from engine.store.db import backend

    _retire_durations_without_area(backend())
    added = add_missing_columns(ALL_MODELS)  # first: new indexes may cover new columns
    tallied = NodeTally.table_exists()
    # the counts per area at each width an instance made before it lacks
    areas_untallied = [t for t, _, _ in backend().AREA_LEVELS if not database.table_exists(t)]
    summons_tallied = SummonsTally.table_exists()
    day_tallied = SummonsDayTally.table_exists()
    unit_days_tallied = SummonsUnitDayTally.table_exists()
    items_tallied = SummonsItemTally.table_exists()
    open_paired = UnitOpenItem.table_exists()
    dues_tallied = SummonsDueTally.table_exists() and SummonsPairDue.table_exists()
    histograms = ResolutionTally.table_exists()
    durations = SummonsDurationTally.table_exists()
    database.create_tables(ALL_MODELS, safe=True)
    for statement in RETIRED_INDEXES:
        database.execute_sql(statement)
    for statement in backend().extra_indexes:
        database.execute_sql(statement)
    triggers = backend().tally_triggers() + backend().area_tally_triggers()
    triggers += backend().summons_tally_triggers()
    triggers += backend().day_tally_triggers() + backend().unit_day_tally_triggers()
    triggers += backend().item_tally_triggers() + backend().open_items_triggers()
    triggers += backend().due_tally_triggers()
    # an instance of before the pairs' types or deadlines
    pairs_typed = bool({"unit_open_item.definition_id", "unit_open_item.due_at"} & set(added))
    if pairs_typed:  # its triggers made pairs without them (SQLite keeps them as they were)
        triggers = backend().drop_open_items_triggers() + triggers
    for statement in triggers:
        database.execute_sql(statement)
    if not tallied:  # an instance made before the stored counts: count what it holds
        with database.atomic():
            backend().rebuild_tallies()
    for table in areas_untallied:
        with database.atomic():
            backend().rebuild_area_tally(table)
    if not summons_tallied:
        with database.atomic():
            backend().rebuild_summons_tally()
    if not day_tallied:
        with database.atomic():
            backend().rebuild_day_tally()
    if not unit_days_tallied:
        with database.atomic():
            backend().rebuild_unit_day_tally()
    if not items_tallied:
        with database.atomic():
            backend().rebuild_item_tally()
    if not open_paired or pairs_typed:  # before the units' open items were kept, or typed, or dated
        with database.atomic():
            backend().rebuild_open_items()
    if not dues_tallied:  # an instance made before the late summonses were kept
        with database.atomic():
            backend().rebuild_due_tally()
    for statement in backend().resolution_triggers():
        database.execute_sql(statement)
    if not histograms:  # an instance made before the resolution-time histograms
        with database.atomic():
            backend().rebuild_resolution_tally()
    for statement in backend().duration_indexes() + backend().duration_triggers():
        database.execute_sql(statement)
    if not durations:  # an instance made before the summons-duration histograms
        with database.atomic():
            backend().rebuild_duration_tally()


__all__ = [m.__name__ for m in ALL_MODELS] + [
    "DERIVED_MODELS",
    "HANDLER_ROLE",
    "create_tables",
    "utcnow",
]
