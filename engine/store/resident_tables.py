"""The records of the residents' services: statements (公示), listings (互助, 需求/资源) and
the entries of directories (名录)."""

from __future__ import annotations

from peewee import CharField, ForeignKeyField, IntegerField, TextField

from engine.store.db import DateTimeField, JSONField
from engine.store.models import Base, Definition, DefinitionVersion, OrgNode, User


class Statement(Base):
    """One version of a compound's statement for one period (经营性收支公示).

    Drafted line by line, confirmed or returned by the owners' committee, then published;
    a published version is never changed: a correction is a new version (``number`` + 1,
    ``previous`` the one it corrects) and the old one becomes ``superseded`` once the
    correction is published.
    """

    definition = ForeignKeyField(Definition, on_delete="RESTRICT")
    version = ForeignKeyField(DefinitionVersion, on_delete="RESTRICT")
    node = ForeignKeyField(OrgNode, on_delete="RESTRICT")
    node_path = CharField(max_length=500, index=True)
    period = CharField(max_length=20)  # "2026-Q3", "2026-11", "2026-H2", "2026"
    number = IntegerField(default=1)
    previous = ForeignKeyField("self", null=True, on_delete="SET NULL", backref="corrections")
    state = CharField(max_length=20, default="draft")
    # [{"id": "L1", "section", "category", "label", "amount": cents (int), "note"}]
    lines = JSONField(default=list)
    data = JSONField(default=dict)  # the statement's own answers (the definition's schema)
    reason = TextField(default="")  # why the committee returned it / why it is corrected
    publisher_role = CharField(max_length=40)
    drafted_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    drafted_at = DateTimeField()
    submitted_at = DateTimeField(null=True)
    published_at = DateTimeField(null=True)
    published_by = ForeignKeyField(
        User, null=True, on_delete="SET NULL", backref="published_statements"
    )
    lock = IntegerField(default=1)

    class Meta:
        indexes = ((("definition", "node", "period", "number"), True),)


class Listing(Base):
    """An offer or a request of help (邻里互助), or a need or a resource (需求清单/资源清单)."""

    definition = ForeignKeyField(Definition, on_delete="RESTRICT")
    version = ForeignKeyField(DefinitionVersion, on_delete="RESTRICT")
    node = ForeignKeyField(OrgNode, on_delete="RESTRICT")
    node_path = CharField(max_length=500, index=True)
    side = CharField(max_length=40)
    title = CharField(max_length=300, default="")
    category = CharField(max_length=100, default="")
    place = CharField(max_length=200, default="")
    data = JSONField(default=dict)
    state = CharField(max_length=20, default="open")  # open, taken, done, matched, withdrawn
    posted_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="listings")
    posted_at = DateTimeField()
    taken_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="taken_listings")
    taken_at = DateTimeField(null=True)
    poster_confirmed_at = DateTimeField(null=True)
    taker_confirmed_at = DateTimeField(null=True)
    done_at = DateTimeField(null=True)
    poster_rating = IntegerField(null=True)  # the poster rates the one who took it up
    taker_rating = IntegerField(null=True)
    partner = ForeignKeyField("self", null=True, on_delete="SET NULL")  # the matched listing
    matched_at = DateTimeField(null=True)
    matched_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="matches")
    project = IntegerField(null=True)  # the checklist row the match became
    lock = IntegerField(default=1)

    class Meta:
        indexes = ((("definition", "state", "node_path"), False),)


class DirectoryEntry(Base):
    """One entry of a directory (名录) kept at an org node: a social organisation, a project,
    an in-service party member. Never deleted: an entry is retired (``retired_at``), and
    retired entries count for nothing."""

    definition = ForeignKeyField(Definition, on_delete="RESTRICT")
    version = ForeignKeyField(DefinitionVersion, on_delete="RESTRICT")
    node = ForeignKeyField(OrgNode, on_delete="RESTRICT")
    node_path = CharField(max_length=500, index=True)
    title = CharField(max_length=300, default="")
    data = JSONField(default=dict)
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    created_at = DateTimeField()
    updated_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    updated_at = DateTimeField(null=True)
    retired_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    retired_at = DateTimeField(null=True)
    retire_reason = TextField(default="")
    lock = IntegerField(default=1)

    class Meta:
        indexes = (
            (("definition", "node_path"), False),
            # a directory's active entries counted per node (its list, the directories
            # page), from the index alone and already grouped
            (("definition", "node", "retired_at"), False),
        )


MODELS = [Statement, Listing, DirectoryEntry]
