"""The peewee models: org tree, people, definitions, items, summons, audit."""

from __future__ import annotations

import datetime as dt

from peewee import (
    SQL,
    BooleanField,
    CharField,
    DateTimeField,
    FloatField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

from engine.db import JSONField, database


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


class Pack(Base):
    key = CharField(unique=True, max_length=80)
    name = CharField(max_length=200)
    version = CharField(max_length=40)
    roles = JSONField(default=dict)
    loaded_at = DateTimeField(default=utcnow)


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

    definition = ForeignKeyField(Definition, on_delete="RESTRICT")
    version = ForeignKeyField(DefinitionVersion, on_delete="RESTRICT")
    node = ForeignKeyField(OrgNode, on_delete="RESTRICT")
    node_path = CharField(max_length=500)
    title = CharField(max_length=300, default="")
    state = CharField(max_length=60)
    priority = IntegerField(default=0)
    data = JSONField(default=dict)
    raised_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    raised_at = DateTimeField()
    state_since = DateTimeField()
    due_at = DateTimeField(null=True)
    resolved_at = DateTimeField(null=True)
    resolution_seconds = IntegerField(null=True)
    satisfaction = IntegerField(null=True)
    closed = BooleanField(default=False)
    # Times a resolution was undone (a bad rating or a reopening); feeds the reopen rate.
    reopened = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    lock = IntegerField(default=1)  # the "version" clients send back; a stale one gives 409

    class Meta:
        indexes = (
            (("node", "closed", "due_at"), False),
            (("node_path", "closed", "due_at"), False),
            (("raised_by", "raised_at"), False),
            (("state",), False),
        )


class Assignment(Base):
    """A summons of a unit by a whistle (吹哨) or a bell; the unit reports in (报到)."""

    item = ForeignKeyField(Item, backref="assignments", on_delete="CASCADE")
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

    class Meta:
        indexes = (
            (("unit", "role", "open", "next_due_at"), False),
            (("item", "state"), False),
        )


class Attachment(Base):
    """An uploaded photo or file; items refer to it by its public id."""

    public_id = CharField(unique=True, max_length=40)
    item = ForeignKeyField(Item, null=True, backref="attachments", on_delete="SET NULL")
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
        indexes = ((("item", "at"), False),)


class Notification(Base):
    user = ForeignKeyField(User, backref="notifications", on_delete="CASCADE")
    item = ForeignKeyField(Item, null=True, on_delete="CASCADE")
    message = CharField(max_length=500)
    created_at = DateTimeField()
    read = BooleanField(default=False)

    class Meta:
        indexes = ((("user", "read", "created_at"), False),)


class RuleFailure(Base):
    """A rule that failed at evaluation: which definition, version and rule path."""

    at = DateTimeField()
    definition = CharField(max_length=80)
    version = IntegerField()
    where = CharField(max_length=300)
    message = TextField()
    item = ForeignKeyField(Item, null=True, on_delete="CASCADE")


class NodeFacts(Base):
    """The cached facts document of an org node (docs/facts.md) and when it was computed."""

    node = ForeignKeyField(OrgNode, unique=True, on_delete="CASCADE")
    facts = JSONField(default=dict)
    computed_at = DateTimeField()


class IndexSnapshot(Base):
    """A node's index score at one moment, under one index version (三方强基指数)."""

    definition = CharField(max_length=80)
    version = IntegerField()
    node = ForeignKeyField(OrgNode, on_delete="CASCADE")
    score = FloatField(null=True)
    dimensions = JSONField(default=dict)
    values = JSONField(default=dict)  # indicator key -> {"value", "score"}
    taken_at = DateTimeField()

    class Meta:
        indexes = ((("definition", "node", "taken_at"), False),)


class AuthAttempt(Base):
    """Failed logins, for throttling."""

    username = CharField(max_length=80, index=True)
    at = DateTimeField()


ALL_MODELS = [
    OrgNode, User, Grant, Token, Pack, Definition, DefinitionVersion, Item, Assignment,
    Attachment, Event, Notification, RuleFailure, NodeFacts, IndexSnapshot, AuthAttempt,
]


# Prefix matches on materialized paths (LIKE '/1/5/%') use these on PostgreSQL; SQLite
# matches with GLOB on the ordinary indexes.
PATTERN_INDEXES = (
    "CREATE INDEX IF NOT EXISTS org_node_path_pattern ON org_node (path text_pattern_ops)",
    "CREATE INDEX IF NOT EXISTS item_node_path_pattern ON item (node_path text_pattern_ops, closed, due_at)",
    "CREATE INDEX IF NOT EXISTS assignment_unit_path_pattern ON assignment (unit_path text_pattern_ops, role, open)",
)


def create_tables() -> None:
    """Create every table and index that is missing (idempotent)."""
    from engine.db import is_postgres

    database.create_tables(ALL_MODELS, safe=True)
    if is_postgres():
        for statement in PATTERN_INDEXES:
            database.execute_sql(statement)


__all__ = [m.__name__ for m in ALL_MODELS] + ["create_tables", "utcnow"]
