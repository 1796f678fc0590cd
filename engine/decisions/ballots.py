"""Ballots (选票): one per exclusive unit, cast online by its owner or entered by the owners'
committee from a signed paper ballot or a proxy (委托) with its photo.

One ballot per unit is the table's unique key: fifty clicks at once leave one ballot (the
losers of the insert change it, as the same owner may until the vote closes). A ballot
and the close both lock the poll row first, so a ballot racing the close is counted or
refused, never half-written. Every cast and change is an audit event.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from peewee import IntegrityError

from engine.core.errors import Conflict, FieldProblem, Forbidden, Invalid, NotFound
from engine.core.i18n import gettext as _
from engine.decisions.polls import get_poll, may_run
from engine.definitions.runtimes import runtime
from engine.org.actors import Actor
from engine.records import attachments
from engine.store.db import backend, database, write_transaction
from engine.store.polls import Ballot, Poll, PollUnit
from engine.store.prepared import prepared
from engine.trail import audit

CHANNELS = ("online", "paper", "proxy")


def _trail(poll: Poll, choices: list[str]) -> list[str] | None:
    """The choices as the audit trail keeps them: none for a vote whose definition shows
    totals only (``show_choices: totals``), so the trail cannot tell who voted what."""
    shown = runtime(poll.version_id).body.get("show_choices", "committee")
    return None if shown == "totals" else choices


def _choices(poll: Poll, choices: Any) -> list[str]:
    """The ballot's option keys, checked against the poll.

    :raises Invalid: at ``choices``: not a list, empty, too many, repeated or unknown.
    """
    if isinstance(choices, str):
        choices = [choices]
    keys = {o["key"] for o in poll.options}
    if (
        not isinstance(choices, list)
        or not choices
        or len(choices) > poll.max_choices
        or len(set(map(str, choices))) != len(choices)
        or not all(isinstance(c, str) and c in keys for c in choices)
    ):
        message = _("Choose 1 to %(n)s of the options.") % {"n": poll.max_choices}
        raise Invalid(message, [FieldProblem("choices", message)])
    return list(choices)


def _open_locked(poll: Poll, now: dt.datetime) -> None:
    """Lock the poll row against a concurrent close and refuse when it is not open."""
    query = Poll.select(Poll.closed, Poll.closes_at, Poll.opens_at).where(Poll.id == poll.id)
    row = backend().for_update(query, share=True).first()
    if row is None or row.closed or not row.opens_at <= now < row.closes_at:
        raise Conflict(_("This vote is closed: no more ballots."))


def _write(
    actor: Actor,
    poll: Poll,
    unit: PollUnit,
    choices: list[str],
    *,
    channel: str,
    now: dt.datetime,
    proxy_name: str = "",
    evidence: str | None = None,
) -> Ballot:
    """Insert the unit's ballot, or change it when the same owner cast it online."""
    try:
        with database.atomic():  # a savepoint: the loser of a race goes on to change it
            ballot = Ballot.create(
                poll=poll.id,
                unit=unit.id,
                choices=choices,
                channel=channel,
                cast_by=actor.user,
                proxy_name=proxy_name,
                evidence=evidence,
                cast_at=now,
            )
    except IntegrityError:
        query = Ballot.select().where((Ballot.poll == poll.id) & (Ballot.unit == unit.id))
        ballot = backend().for_update(query).get()
        if channel != "online" or ballot.channel != "online" or ballot.cast_by_id != actor.user.id:
            raise Conflict(
                _("Unit %(room)s has already voted; only its owner may change it online.")
                % {"room": unit.room}
            ) from None
        before = list(ballot.choices)
        Ballot.update(choices=choices, cast_at=now, changes=Ballot.changes + 1).where(
            Ballot.id == ballot.id
        ).execute()
        audit.record(
            "ballot.change",
            at=now,
            actor=actor.user,
            target=f"poll:{poll.id}",
            before={"choices": _trail(poll, before)},
            after={"choices": _trail(poll, choices)},
            detail={"unit": unit.id, "channel": channel},
        )
        return Ballot.get_by_id(ballot.id)
    audit.record(
        "ballot.cast",
        at=now,
        actor=actor.user,
        target=f"poll:{poll.id}",
        after={"choices": _trail(poll, choices)},
        detail={
            "unit": unit.id,
            "channel": channel,
            "evidence": evidence,
            "proxy": proxy_name or None,
        },
    )
    return ballot


def cast(
    actor: Actor,
    poll_id: int,
    choices: Any,
    *,
    now: dt.datetime,
    unit_id: int | None = None,
) -> list[Ballot]:
    """An owner votes online for their unit(s) in a poll (all of them unless ``unit_id``).

    :raises NotFound: no such poll. :raises Forbidden: the actor owns no unit in it.
    :raises Invalid: bad choices. :raises Conflict: closed, or the unit voted on paper.
    """
    poll = get_poll(poll_id)
    picked = _choices(poll, choices)
    units = PollUnit.select().where((PollUnit.poll == poll.id) & (PollUnit.voter == actor.user))
    if unit_id is not None:
        units = units.where(PollUnit.id == unit_id)
    mine = list(units)
    if not mine:
        raise Forbidden(_("You have no unit that votes in this vote."))
    with write_transaction():
        _open_locked(poll, now)
        return [_write(actor, poll, unit, picked, channel="online", now=now) for unit in mine]


def enter_paper(
    actor: Actor,
    poll_id: int,
    unit_id: Any,
    choices: Any,
    *,
    evidence: str,
    now: dt.datetime,
    proxy_name: str = "",
) -> Ballot:
    """The owners' committee enters a signed paper ballot, or a proxy's (委托) when
    ``proxy_name`` is given, with the photo of it as evidence (an uploaded attachment).

    :raises Forbidden: the actor does not run votes at the compound.
    :raises Invalid: no such unit, bad choices, no photo (each at its field).
    :raises Conflict: closed, or the unit has voted already.
    """
    poll = get_poll(poll_id)
    if not may_run(actor, poll):
        raise Forbidden(_("You may not enter ballots in this vote."))
    picked = _choices(poll, choices)
    unit = (
        PollUnit.get_or_none((PollUnit.poll == poll.id) & (PollUnit.id == unit_id))
        if isinstance(unit_id, int) and not isinstance(unit_id, bool) and 0 < unit_id < 2**63
        else None
    )
    if unit is None:
        message = _("Choose a unit of this vote.")
        raise Invalid(message, [FieldProblem("unit", message)])
    proxy_name = (proxy_name or "").strip()[:80]
    if not evidence:
        message = _("A photo of the signed ballot is required.")
        raise Invalid(message, [FieldProblem("evidence", message)])
    with write_transaction():
        _open_locked(poll, now)
        ballot = _write(
            actor,
            poll,
            unit,
            picked,
            channel="proxy" if proxy_name else "paper",
            now=now,
            proxy_name=proxy_name,
            evidence=evidence,
        )
        try:
            attachments.claim(
                [("evidence", evidence)], actor, record=attachments.record_ref("ballot", ballot.id)
            )
        except Invalid as exc:
            raise Invalid(
                exc.message, [FieldProblem("evidence", p.message) for p in exc.fields]
            ) from None
    return ballot


@attachments.record_kind("ballot")
def may_read_evidence(actor: Actor, ballot_id: int) -> bool:
    """Whether ``actor`` sees the photo of a paper ballot: who runs votes at its compound."""
    ballot = Ballot.get_or_none(Ballot.id == ballot_id)
    return ballot is not None and may_run(actor, get_poll(ballot.poll_id))


def ballot_of(unit: PollUnit) -> Ballot | None:
    return Ballot.get_or_none(Ballot.unit == unit.id)


def units_for_entry(poll: Poll) -> list[tuple[int, str, str, bool]]:
    """(unit id, building name, room, has voted) of every unit, for the paper-ballot form."""
    rows = prepared("ballots.units_for_entry", _units, wanted=poll.id)
    return [(u, b, r, v is not None) for u, b, r, v in rows]


def _units(wanted: Any) -> Any:
    from peewee import JOIN

    from engine.store.models import OrgNode

    return (
        PollUnit.select(PollUnit.id, OrgNode.name, PollUnit.room, Ballot.id)
        .join(OrgNode, on=(PollUnit.building == OrgNode.id))
        .switch(PollUnit)
        .join(Ballot, JOIN.LEFT_OUTER, on=(Ballot.unit == PollUnit.id))
        .where(PollUnit.poll == wanted)
        .order_by(OrgNode.id, PollUnit.room)
        .tuples()
    )


def who_voted_what(poll: Poll) -> list[dict[str, Any]]:
    """Each ballot with its unit (building, room), choices and channel, by building and room."""
    rows = prepared("ballots.who_voted_what", _ballot_rows, wanted=poll.id)
    return [
        {"building": b, "room": r, "choices": c, "channel": ch, "evidence": e}
        for b, r, c, ch, e in rows
    ]


def _ballot_rows(wanted: Any) -> Any:
    from engine.store.models import OrgNode

    return (
        Ballot.select(OrgNode.name, PollUnit.room, Ballot.choices, Ballot.channel, Ballot.evidence)
        .join(PollUnit, on=(Ballot.unit == PollUnit.id))
        .join(OrgNode, on=(PollUnit.building == OrgNode.id))
        .where(Ballot.poll == wanted)
        .order_by(OrgNode.id, PollUnit.room)
        .tuples()
    )


__all__ = ["CHANNELS", "NotFound", "Sequence", "ballot_of", "cast", "enter_paper"]
