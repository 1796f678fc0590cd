"""The tables of a vote (表决): the poll, its electorate fixed when it opens, the ballots.

Areas are kept as whole hundredths of a square metre (不动产登记面积 is registered to
0.01 m²), so sums and shares are exact integers on every backend; pages and the API show
them as decimal text.
"""

from __future__ import annotations

from peewee import (
    BooleanField,
    CharField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from engine.store.db import DateTimeField, JSONField
from engine.store.models import Base, Definition, DefinitionVersion, OrgNode, User


class Poll(Base):
    """One vote on one matter at one compound, under one published ``poll`` definition."""

    definition = ForeignKeyField(Definition, on_delete="RESTRICT")
    version = ForeignKeyField(DefinitionVersion, on_delete="RESTRICT")
    node = ForeignKeyField(OrgNode, on_delete="RESTRICT")
    node_path = CharField(max_length=500, index=True)
    title = CharField(max_length=300)
    description = TextField(default="")
    category = CharField(max_length=80)  # a key of the definition's matter categories
    options = JSONField(default=list)  # [{"key", "label"}], copied from the definition or given
    max_choices = IntegerField(default=1)
    opened_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    opens_at = DateTimeField()
    closes_at = DateTimeField()
    closed = BooleanField(default=False)
    closed_at = DateTimeField(null=True)
    result = JSONField(null=True)  # the tally stored when it closed (engine.decisions.tally)
    source = CharField(max_length=120, null=True)  # what opened it: "meeting:12" ...
    lock = IntegerField(default=1)

    class Meta:
        indexes = ((("node", "closed", "closes_at"), False),)


class PollUnit(Base):
    """An exclusive unit (专有部分) entitled to vote in a poll, as the households file said
    when the poll opened: its area, and who the owner is for the headcount."""

    poll = ForeignKeyField(Poll, backref="units", on_delete="CASCADE")
    household = IntegerField(null=True)  # the Household id it was copied from
    building = ForeignKeyField(OrgNode, on_delete="RESTRICT", backref="+")
    room = CharField(max_length=40)
    area_hundredths = IntegerField()  # m² × 100
    # Units with the same head count as one owner (one owner, several units; the
    # developer's unsold units all together): the key names that owner.
    head = CharField(max_length=120)
    shared = BooleanField(default=False)  # its head owns other units of the poll too
    voter = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")

    class Meta:
        indexes = ((("poll", "building", "room"), True), (("poll", "voter"), False))


class Ballot(Base):
    """The one ballot of a unit in a poll (选票): online by its owner, or entered by the
    owners' committee from a signed paper ballot or a proxy (委托) with its photo."""

    poll = ForeignKeyField(Poll, backref="ballots", on_delete="CASCADE")
    unit = ForeignKeyField(PollUnit, on_delete="CASCADE", backref="+")
    choices = JSONField(default=list)  # option keys
    channel = CharField(max_length=10)  # "online", "paper", "proxy"
    cast_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    proxy_name = CharField(max_length=80, default="")
    evidence = CharField(max_length=40, null=True)  # attachment public id (paper, proxy)
    cast_at = DateTimeField()
    changes = IntegerField(default=0)

    class Meta:
        indexes = ((("poll", "unit"), True),)


POLL_MODELS = [Poll, PollUnit, Ballot]
