"""The rows of deliberation: meetings (议事会) and their resolutions, opinion collections
(征求意见) and their answers, the party organisation's gate decisions (先议先审), and the
links from an item back to the resolution or opinion that raised it."""

from __future__ import annotations

from peewee import CharField, ForeignKeyField, IntegerField, TextField

from engine.store.db import DateTimeField, JSONField
from engine.store.models import Base, Definition, DefinitionVersion, Item, OrgNode, User


class Meeting(Base):
    """A deliberation meeting of a compound, community or street (议事会, 月会, 联席会议 ...)."""

    definition = ForeignKeyField(Definition, on_delete="RESTRICT")
    version = ForeignKeyField(DefinitionVersion, on_delete="RESTRICT")
    node = ForeignKeyField(OrgNode, on_delete="RESTRICT")
    node_path = CharField(max_length=500, index=True)
    title = CharField(max_length=200)
    held_at = DateTimeField()  # when it is (or was) held
    place = CharField(max_length=200, default="")
    agenda = JSONField(default=list)  # the agenda items (议题), in order
    invited = JSONField(default=list)  # the invited parties (role keys)
    attendance = JSONField(default=dict)  # role key -> number present
    minutes = JSONField(null=True)  # answers to the definition's minutes form; null: not yet
    state = CharField(max_length=12, default="planned")  # planned, held
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    created_at = DateTimeField()
    lock = IntegerField(default=1)

    class Meta:
        # (held_at, id): the district's list of every meeting, newest first, is read in this
        # order and stops at a page (engine.decisions.meetings.meeting_rows_in_reach).
        indexes = ((("held_at", "id"), False),)


class Resolution(Base):
    """A resolution (决议) of a meeting; its outcome may raise an item (or open a poll)."""

    meeting = ForeignKeyField(Meeting, backref="resolutions", on_delete="CASCADE")
    text = TextField()
    outcome = CharField(max_length=80, null=True)  # the key of the definition's outcome taken
    item = ForeignKeyField(Item, null=True, on_delete="SET NULL", backref="+")
    target = CharField(max_length=120, null=True)  # what another outcome kind made: "poll:7"
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    created_at = DateTimeField()


class OpinionCollection(Base):
    """A call for residents' opinions (征求意见) at a compound, open within a window."""

    definition = ForeignKeyField(Definition, on_delete="RESTRICT")
    version = ForeignKeyField(DefinitionVersion, on_delete="RESTRICT")
    node = ForeignKeyField(OrgNode, on_delete="RESTRICT")
    node_path = CharField(max_length=500, index=True)
    title = CharField(max_length=200)
    description = TextField(default="")
    opens_at = DateTimeField()
    closes_at = DateTimeField()
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    created_at = DateTimeField()

    class Meta:
        indexes = ((("node_path", "closes_at"), False),)


class Opinion(Base):
    """One resident's answer to a collection: one per resident, changed until it closes."""

    collection = ForeignKeyField(OpinionCollection, backref="opinions", on_delete="CASCADE")
    user = ForeignKeyField(User, on_delete="CASCADE", backref="+")
    data = JSONField(default=dict)
    at = DateTimeField()
    item = ForeignKeyField(Item, null=True, on_delete="SET NULL", backref="+")

    class Meta:
        indexes = ((("collection", "user"), True),)


class GateDecision(Base):
    """A decision taken at a gate of an item's workflow (党组织先议先审), with its reasons."""

    item = ForeignKeyField(Item, backref="gate_decisions", on_delete="CASCADE")
    node_path = CharField(max_length=500, index=True)
    state = CharField(max_length=60)  # the gate state
    transition = CharField(max_length=80)
    decision = CharField(max_length=40)
    reasons = TextField(default="")
    by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    at = DateTimeField()


class ItemOrigin(Base):
    """Where an item came from: a meeting's resolution or a resident's opinion."""

    item = ForeignKeyField(Item, unique=True, on_delete="CASCADE", backref="+")
    kind = CharField(max_length=20)  # resolution, opinion
    meeting = ForeignKeyField(Meeting, null=True, on_delete="CASCADE", backref="+")
    collection = ForeignKeyField(OpinionCollection, null=True, on_delete="CASCADE", backref="+")
    source = IntegerField()  # the resolution's or opinion's id


MODELS = [Meeting, Resolution, OpinionCollection, Opinion, GateDecision, ItemOrigin]
