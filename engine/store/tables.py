"""Tables beside the core ones: rows entered per compound — checklist rows (任务/协同/破难清单),
KPI progress reports of the rows that cannot be measured, households (for owner-change
reminders) — and the login tables (sessions, throttle counters; engine/accounts/logins.py)."""

from __future__ import annotations

from peewee import (
    BooleanField,
    CharField,
    FloatField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from engine.store.db import DateTimeField, JSONField
from engine.store.models import Base, Definition, OrgNode, User


class ChecklistRow(Base):
    """One row of a task, coordination or difficulty list at a compound."""

    definition = ForeignKeyField(Definition, on_delete="CASCADE")
    node = ForeignKeyField(OrgNode, on_delete="CASCADE")
    node_path = CharField(max_length=500, index=True)
    data = JSONField(default=dict)  # the answers to the list's row_schema
    done = IntegerField(default=0)  # 1 when its status is one of the list's done values
    deadline = CharField(max_length=10, null=True)  # local date YYYY-MM-DD, copied from data
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = DateTimeField()
    updated_at = DateTimeField()
    lock = IntegerField(default=1)


class KpiReport(Base):
    """The responsible unit's progress on a KPI row that cannot be measured, and its review."""

    list_key = CharField(max_length=80)
    row_key = CharField(max_length=80)
    unit = ForeignKeyField(OrgNode, on_delete="CASCADE")  # the reporting unit
    note = TextField()
    evidence = JSONField(default=list)  # attachment public ids
    state = CharField(max_length=12, default="reported")  # reported, accepted, returned
    reported_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    reported_at = DateTimeField()
    reviewed_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    reviewed_at = DateTimeField(null=True)
    review_note = TextField(default="")

    class Meta:
        indexes = ((("list_key", "row_key", "unit"), False),)


class KpiClose(Base):
    """A KPI list's figures at one district or street as its period ended: the facts its
    measures read, kept so that a past year's 达成/未达成 stays what it was (taken by the
    first facts refresh after the period's last day; engine/metrics/kpi_close.py)."""

    list_key = CharField(max_length=80)
    node = ForeignKeyField(OrgNode, on_delete="CASCADE", backref="+")
    facts = JSONField(default=dict)  # the part of the node's facts the measures read
    facts_at = DateTimeField()  # when those facts were computed
    closed_at = DateTimeField()

    class Meta:
        indexes = ((("list_key", "node"), True),)


class Household(Base):
    """A household of a building: its room, owner and area; imported from Excel."""

    building = ForeignKeyField(OrgNode, on_delete="CASCADE", backref="+")
    compound = ForeignKeyField(OrgNode, on_delete="CASCADE", backref="+")
    room = CharField(max_length=40)
    owner_name = CharField(max_length=80)
    phone = CharField(max_length=40, default="")
    area = FloatField(null=True)  # m²
    updated_at = DateTimeField()
    # Who votes for this exclusive unit (专有部分) and with what weight (Civil Code art. 278):
    # its registered area (不动产登记面积) in whole hundredths of a m², exact; the owner's
    # key for the headcount (one owner holding several units counts once; empty: the
    # unit is its own owner); units the developer has not sold or delivered count once
    # all together; the resident account that votes for it online.
    registered_area = IntegerField(null=True)
    owner_key = CharField(max_length=80, default="")
    developer_held = BooleanField(default=False)
    owner_user = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")

    class Meta:
        indexes = ((("building", "room"), True),)


class LoginSession(Base):
    """A browser session: the signed cookie carries its key; logout or a new password ends it."""

    digest = CharField(unique=True, max_length=64)  # SHA-256 of the key in the cookie
    user = ForeignKeyField(User, backref="sessions", on_delete="CASCADE")
    created_at = DateTimeField()
    expires_at = DateTimeField()
    ended_at = DateTimeField(null=True, index=True)
    address = CharField(max_length=64, default="")


class LoginCounter(Base):
    """Login attempts in the current window, per client address or per (username, address)."""

    key = CharField(unique=True, max_length=200)
    attempts = IntegerField(default=0)
    started_at = DateTimeField(index=True)
