"""Deliberation meetings (议事会, 红茶议事会, 联席会议, 三方联动月会): convene one with its
agenda and invited parties, record attendance and minutes, pass resolutions, and take a
resolution's outcome (raise an item; open a poll once polls register it)."""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Mapping
from functools import reduce
from typing import Any

from peewee import JOIN

from engine.core import clock
from engine.core.errors import Conflict, FieldProblem, Forbidden, Invalid, NotFound
from engine.core.i18n import gettext as _
from engine.decisions import common, outcomes
from engine.definitions.definitions import Runtime, runtime
from engine.org.actors import Actor, is_root
from engine.org.scope import NODE_COLUMNS
from engine.records import attachments
from engine.store.db import backend, write_transaction
from engine.store.decision_tables import Meeting, Resolution
from engine.store.models import Definition, Item, OrgNode
from engine.store.prepared import prepared, prepared_cursor
from engine.trail import audit

MAX_AGENDA = 20


def conveners(actor: Actor, node: OrgNode) -> list[Runtime]:
    """The meeting definitions ``actor`` may convene at ``node``."""
    return common.usable("meeting", node, actor, "convene_roles")


def _agenda(value: Any) -> list[str]:
    lines = value if isinstance(value, list) else str(value or "").splitlines()
    agenda = [str(line).strip() for line in lines if str(line).strip()]
    if not agenda:
        message = _("Give at least one agenda item.")
        raise Invalid(message, [FieldProblem("agenda", message)])
    if len(agenda) > MAX_AGENDA or any(len(a) > 200 for a in agenda):
        message = _("At most %(n)s agenda items of 200 characters each.") % {"n": MAX_AGENDA}
        raise Invalid(message, [FieldProblem("agenda", message)])
    return agenda


def _held_at(value: Any) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(str(value))
    except ValueError:
        message = _("Give the date and time it is held.")
        raise Invalid(message, [FieldProblem("held_at", message)]) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=clock.LOCAL)
    return parsed.astimezone(dt.UTC).replace(tzinfo=None)


def convene(
    actor: Actor, type_key: str, node_key: str, fields: Mapping[str, Any], *, now: dt.datetime
) -> Meeting:
    """Convene a meeting of definition ``type_key`` at ``node_key`` (audited ``meeting.convene``).

    :param fields: ``title``, ``held_at`` (local ISO date-time), ``place``, ``agenda`` (a list
        or one item per line) and ``invited`` (role keys; default the definition's parties).
    :raises NotFound: unknown definition or node.
    :raises Forbidden: the actor holds none of the definition's convene roles at the node.
    :raises Invalid: a field is missing or wrong (its name is the path).
    """
    definition, version, rt, node = common.governing(
        actor,
        "meeting",
        type_key,
        node_key,
        "convene_roles",
        unknown=_("No such kind of meeting."),
        not_here=_("%(type)s is not held at %(node)s."),
        forbidden=_("You may not convene %(type)s here."),
    )
    parties = rt.body.get("parties", [])
    invited = fields.get("invited")
    invited = [r for r in (invited if isinstance(invited, list) else parties) if isinstance(r, str)]
    unknown = [r for r in invited if r not in parties]
    if unknown or not invited:
        message = _("Invite at least one of the parties this meeting has.")
        raise Invalid(message, [FieldProblem("invited", message)])
    values = {
        "title": common.text(fields.get("title"), "title", limit=200),
        "place": common.text(fields.get("place"), "place", limit=200, required=False),
        "held_at": _held_at(fields.get("held_at")),
        "agenda": _agenda(fields.get("agenda")),
        "invited": invited,
    }
    with write_transaction():
        meeting = Meeting.create(
            definition=definition,
            version=version,
            node=node,
            node_path=node.path,
            created_by=actor.user,
            created_at=now,
            **values,
        )
        audit.record(
            "meeting.convene",
            at=now,
            actor=actor.user,
            target=f"meeting:{meeting.id}",
            after={**values, "held_at": clock.iso(values["held_at"]), "definition": rt.key},
        )
    return meeting


def get_meeting(actor: Actor, meeting_id: int) -> Meeting:
    """A meeting where ``actor`` sees deliberation. :raises NotFound: none (or out of reach)."""
    patterns = common.reach_patterns(actor)
    found = (
        next(
            iter(prepared(("get_meeting", len(patterns)), _meeting, wanted=meeting_id, **patterns)),
            None,
        )
        if patterns
        else None
    )
    if found is None:
        raise NotFound(_("No such meeting."))
    return found


def _meeting(wanted: Any, **patterns: Any) -> Any:
    """A meeting with its node (without the node's file) when under one of ``patterns``."""
    return (
        Meeting.select(Meeting, *NODE_COLUMNS)
        .join(OrgNode)
        .where((Meeting.id == wanted) & common.in_patterns(Meeting.node_path, patterns))
        .limit(1)
    )


def meetings_in_reach(actor: Actor, *, page: int = 1) -> tuple[list[Meeting], bool]:
    """One page of the meetings ``actor`` sees, newest first, with their node and definition,
    and whether an older page follows (one query)."""
    rows = list(
        Meeting.select(Meeting, OrgNode, Definition)
        .join(OrgNode)
        .switch(Meeting)
        .join(Definition)
        .where(common.in_reach(actor, Meeting.node_path))
        .order_by(Meeting.held_at.desc(), Meeting.id.desc())
        .limit(common.PAGE_SIZE + 1)
        .offset((page - 1) * common.PAGE_SIZE)
    )
    return rows[: common.PAGE_SIZE], len(rows) > common.PAGE_SIZE


def meeting_rows_in_reach(actor: Actor, *, page: int = 1) -> tuple[list[dict[str, Any]], bool]:
    """``meetings_in_reach`` as the list shows it: per meeting its id, title, held_at, state,
    ``node_name`` and ``definition_name`` (one prepared statement per number of subtrees)."""
    paths = common.reach_paths(actor)
    if not paths:
        return [], False
    patterns = common.reach_patterns(actor)
    # Under the district's root every meeting is in reach: read them in time order (the
    # held_at index) and test each path, rather than sort every meeting by time.
    wide = any(is_root(p) for p in paths)
    cursor = prepared_cursor(
        ("meeting_rows_in_reach", len(patterns), wide),
        _meeting_rows_by_time if wide else _meeting_rows,
        offset=(page - 1) * common.PAGE_SIZE,
        **patterns,
    )
    # Raw rows, the time read as the field reads it (``db.DateTimeField``: fromisoformat)
    held = Meeting.held_at.python_value
    rows = [
        {
            "id": meeting_id,
            "title": title,
            "held_at": held(held_at),
            "state": state,
            "node_name": node_name,
            "definition_name": definition_name,
        }
        for meeting_id, title, held_at, state, node_name, definition_name in cursor
    ]
    return rows[: common.PAGE_SIZE], len(rows) > common.PAGE_SIZE


def _meeting_rows(offset: Any, **patterns: Any) -> Any:
    return _meeting_list(offset).where(common.in_patterns(Meeting.node_path, patterns))


def _meeting_rows_by_time(offset: Any, **patterns: Any) -> Any:
    tests = [backend().path_filter(Meeting.node_path, p) for p in patterns.values()]
    return _meeting_list(offset).where(reduce(operator.or_, tests))


def _meeting_list(offset: Any) -> Any:
    return (
        Meeting.select(
            Meeting.id,
            Meeting.title,
            Meeting.held_at,
            Meeting.state,
            OrgNode.name.alias("node_name"),
            Definition.name.alias("definition_name"),
        )
        .join(OrgNode)
        .switch(Meeting)
        .join(Definition)
        .order_by(Meeting.held_at.desc(), Meeting.id.desc())
        .limit(common.PAGE_SIZE + 1)
        .offset(offset)
    )


def may_record(actor: Actor, meeting: Meeting) -> bool:
    """Whether ``actor`` records this meeting's minutes and resolutions (a convene role)."""
    rt = runtime(meeting.version_id)
    return any(actor.reaches(r, meeting.node_path) for r in rt.body["convene_roles"])


def _recorder(actor: Actor, meeting_id: int) -> tuple[Meeting, Runtime]:
    meeting = get_meeting(actor, meeting_id)
    if not may_record(actor, meeting):
        raise Forbidden(_("You may not record this meeting."))
    return meeting, runtime(meeting.version_id)


def _attendance(value: Any, invited: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for role in invited:
        raw = (value or {}).get(role, 0) if isinstance(value, Mapping) else 0
        try:
            number = int(str(raw or 0).strip() or 0)
        except ValueError:
            number = -1
        if not 0 <= number <= 10000:
            message = _("Give how many attended as a whole number from 0.")
            raise Invalid(message, [FieldProblem(f"attendance/{role}", message)])
        counts[role] = number
    return counts


def record_minutes(
    actor: Actor,
    meeting_id: int,
    attendance: Any,
    minutes: Any,
    *,
    expected: int | None,
    now: dt.datetime,
) -> Meeting:
    """Record who attended and the minutes (the definition's form); the meeting is then held.

    :param expected: the meeting's ``lock`` the form showed; None skips the check.
    :raises Conflict: someone saved the minutes in between.
    :raises Invalid: attendance not a whole number, or the minutes do not validate
        (paths ``attendance/<role>``, ``data/<field>``).
    """
    with write_transaction():
        meeting, rt = _recorder(actor, meeting_id)
        if expected is not None and expected != meeting.lock:
            raise Conflict(_("Someone else saved this meeting meanwhile; reload the page."))
        counts = _attendance(attendance, meeting.invited)
        context = {
            "node": {"key": meeting.node.key, "kind": meeting.node.kind},
            "now": clock.iso(now),
        }
        cleaned = common.validate(rt.body["schema"], minutes, context, "data")
        before = {
            "state": meeting.state,
            "attendance": meeting.attendance,
            "minutes": meeting.minutes,
        }
        won = (
            Meeting.update(attendance=counts, minutes=cleaned, state="held", lock=meeting.lock + 1)
            .where((Meeting.id == meeting.id) & (Meeting.lock == meeting.lock))
            .execute()
        )
        if not won:
            raise Conflict(_("Someone else saved this meeting meanwhile; reload the page."))
        attachments.claim(
            attachments.ids_in(rt.body["schema"], cleaned),
            actor,
            record=attachments.record_ref("meeting", meeting.id),
        )
        audit.record(
            "meeting.minutes",
            at=now,
            actor=actor.user,
            target=f"meeting:{meeting.id}",
            before=before,
            after={"state": "held", "attendance": counts, "minutes": cleaned},
        )
    return Meeting.get_by_id(meeting.id)


def resolve(actor: Actor, meeting_id: int, text: Any, *, now: dt.datetime) -> Resolution:
    """Add a resolution (决议) to a held meeting (audited ``meeting.resolve``).

    :raises Conflict: the meeting's minutes are not recorded yet.
    """
    with write_transaction():
        meeting, _rt = _recorder(actor, meeting_id)
        if meeting.state != "held":
            raise Conflict(_("Record the minutes before passing resolutions."))
        body = common.text(text, "text", limit=2000)
        resolution = Resolution.create(
            meeting=meeting, text=body, created_by=actor.user, created_at=now
        )
        audit.record(
            "meeting.resolve",
            at=now,
            actor=actor.user,
            target=f"meeting:{meeting.id}",
            after={"resolution": resolution.id, "text": body},
        )
    return resolution


def resolutions_of(meeting: Meeting) -> list[Resolution]:
    """The meeting's resolutions with the items they raised (one prepared statement)."""
    return list(prepared("meetings.resolutions_of", _resolutions, wanted=meeting.id))


def _resolutions(wanted: Any) -> Any:
    return (
        Resolution.select(Resolution, Item)
        .join(Item, JOIN.LEFT_OUTER, on=(Resolution.item == Item.id))
        .where(Resolution.meeting == wanted)
        .order_by(Resolution.id)
    )


def offered_outcomes(actor: Actor, meeting: Meeting) -> list[Mapping[str, Any]]:
    """The outcomes ``actor`` may take on this meeting's resolutions."""
    if not may_record(actor, meeting):
        return []
    rt = runtime(meeting.version_id)
    return outcomes.offered(actor, rt.body.get("outcomes", []), meeting.node)


def take_outcome(actor: Actor, resolution_id: int, key: str, *, now: dt.datetime) -> Resolution:
    """Take outcome ``key`` on a resolution: once; the item it raises links back to it.

    :raises NotFound: no such resolution or outcome. :raises Conflict: an outcome was taken.
    """
    with write_transaction():
        resolution = Resolution.get_or_none(Resolution.id == resolution_id)
        if resolution is None:
            raise NotFound(_("No such resolution."))
        meeting, rt = _recorder(actor, resolution.meeting_id)
        if resolution.outcome is not None:
            raise Conflict(_("This resolution has already been acted on."))
        source = outcomes.Source(
            "resolution",
            resolution.id,
            meeting.node,
            {
                "resolution": {"text": resolution.text},
                "meeting": {
                    "title": meeting.title,
                    "held_at": clock.iso(meeting.held_at),
                    "minutes": meeting.minutes or {},
                },
            },
            meeting_id=meeting.id,
            title=meeting.title,
        )
        taken = outcomes.take(actor, rt.body.get("outcomes", []), key, source, now=now)
        won = (
            Resolution.update(outcome=key, item=taken.item, target=taken.target)
            .where((Resolution.id == resolution.id) & Resolution.outcome.is_null())
            .execute()
        )
        if not won:
            raise Conflict(_("This resolution has already been acted on."))
        audit.record(
            "resolution.outcome",
            at=now,
            actor=actor.user,
            target=f"meeting:{meeting.id}",
            after={
                "resolution": resolution.id,
                "outcome": key,
                "item": taken.item.id if taken.item else None,
                "target": taken.target,
            },
        )
    return Resolution.get_by_id(resolution.id)


@attachments.record_kind("meeting")
def may_read_meeting(actor: Actor, meeting_id: int) -> bool:
    """Who sees a meeting sees the photos of its minutes."""
    try:
        get_meeting(actor, meeting_id)
    except NotFound:
        return False
    return True
