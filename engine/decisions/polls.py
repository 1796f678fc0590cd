"""Votes (表决): open one on a matter at a compound, count it, close it, remind voters.

Who votes is fixed when a poll opens: each exclusive unit (专有部分) of the compound's
households file with a registered area (不动产登记面积) is copied to ``PollUnit`` with its
area and owner key, so changes to the file later do not move a running count. Ballots
are cast in engine/decisions/ballots.py; the count and the thresholds live in
engine/decisions/tally.py and the definition's rules.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from peewee import JOIN, fn

from engine.core.errors import Conflict, FieldProblem, Forbidden, Invalid, NotFound
from engine.core.i18n import gettext as _
from engine.decisions import outcomes, tally_sql
from engine.definitions import tally
from engine.definitions.definitions import applies_at, current_version
from engine.delivery.notify import notify_users
from engine.org.actors import Actor
from engine.org.permissions import can
from engine.org.scope import NODE_COLUMNS
from engine.store.db import backend, bulk_insert, database, write_transaction
from engine.store.decision_tables import Meeting, Resolution
from engine.store.models import Definition, DefinitionVersion, OrgNode, User
from engine.store.polls import Ballot, Poll, PollUnit
from engine.store.prepared import prepared
from engine.store.tables import Household
from engine.trail import audit

DEVELOPER_HEAD = "developer"  # the developer's unsold or undelivered units, one owner together


def head_of(household: Household) -> str:
    """Whose unit it is for the headcount (SPC interpretation art. 9)."""
    if household.developer_held:
        return DEVELOPER_HEAD
    if household.owner_key:
        return f"owner:{household.owner_key}"
    return f"unit:{household.id}"


def definition_body(poll: Poll) -> Mapping[str, Any]:
    """The definition version the poll was opened under (it keeps counting under it)."""
    return poll.version.body


def category_of(poll: Poll) -> Mapping[str, Any]:
    return next(
        (c for c in definition_body(poll)["categories"] if c["key"] == poll.category),
        {"key": poll.category, "label": poll.category},
    )


def may_run(actor: Actor, poll_or_node: Poll | OrgNode) -> bool:
    """Whether ``actor`` runs votes at this compound: enters paper ballots, closes, reminds."""
    node = poll_or_node.node if isinstance(poll_or_node, Poll) else poll_or_node
    return can(actor, "polls.run", node)


def _problem(field: str, message: str) -> Invalid:
    return Invalid(message, [FieldProblem(field, message)])


def open_poll(
    actor: Actor,
    definition_key: str,
    node: OrgNode | str,
    title: str,
    *,
    category: str,
    now: dt.datetime,
    description: str = "",
    options: Sequence[Mapping[str, Any]] | None = None,
    max_choices: int | None = None,
    closes_at: dt.datetime | None = None,
    source: str | None = None,
) -> Poll:
    """Open a vote on a matter at a compound, with its electorate fixed from the households.

    A meeting's resolution opens one the same way, naming itself as ``source``
    ("meeting:12").

    :param options: a list of candidates/choices ({"key", "label"}) instead of the
        definition's options; ``max_choices`` then says how many a ballot may pick.
    :param closes_at: naive UTC; default: the definition's ``window_days`` after ``now``.
    :raises NotFound: no such poll definition or node.
    :raises Forbidden: the actor may not open this vote at this node.
    :raises Invalid: a field is wrong (named), or the compound has no unit with an area.
    """
    if isinstance(node, str):
        found = OrgNode.get_or_none(OrgNode.key == node)
        if found is None:
            raise NotFound(f"org node {node!r} does not exist")
        node = found
    definition = Definition.get_or_none(
        (Definition.key == definition_key) & (Definition.kind == "poll")
    )
    if definition is None:
        raise NotFound(f"vote definition {definition_key!r} does not exist")
    version = current_version(definition)
    body = version.body
    if node.kind not in body.get("node_kinds", ["compound"]) or not applies_at(body, node.path):
        raise _problem("node", _("This vote is not held at this place."))
    if not may_run(actor, node) or not set(body["open_roles"]) & actor.roles_at(node.path):
        raise Forbidden(_("You may not open this vote here."))
    title = (title or "").strip()
    if not title or len(title) > 300:
        raise _problem("title", _("A title of 1 to 300 characters is required."))
    if category not in {c["key"] for c in body["categories"]}:
        raise _problem("category", _("Choose one of the matters of this vote."))
    chosen = _options(options, body)
    picks = body.get("max_choices", 1) if max_choices is None else max_choices
    if not isinstance(picks, int) or isinstance(picks, bool) or not 1 <= picks <= len(chosen):
        raise _problem("max_choices", _("At most as many choices as there are options."))
    closes_at = closes_at or now + dt.timedelta(days=body.get("window_days", 14))
    if closes_at <= now:
        raise _problem("closes_at", _("The vote must close after it opens."))
    households = list(
        Household.select().where(
            (Household.compound == node) & Household.registered_area.is_null(False)
        )
    )
    if not households:
        raise _problem(
            "node", _("No household of this compound has a registered area: import them first.")
        )
    with write_transaction():
        poll = Poll.create(
            definition=definition,
            version=version,
            node=node,
            node_path=node.path,
            title=title,
            description=(description or "").strip()[:4000],
            category=category,
            options=chosen,
            max_choices=picks,
            opened_by=actor.user,
            opens_at=now,
            closes_at=closes_at,
            source=source,
        )
        heads = Counter(head_of(h) for h in households)
        bulk_insert(
            PollUnit,
            [
                {
                    "poll": poll.id,
                    "household": h.id,
                    "building": h.building_id,
                    "room": h.room,
                    "area_hundredths": h.registered_area,
                    "head": head_of(h),
                    "shared": heads[head_of(h)] > 1,
                    "voter": h.owner_user_id,
                }
                for h in households
            ],
        )
        audit.record(
            "poll.open",
            at=now,
            actor=actor.user,
            target=f"poll:{poll.id}",
            after={"title": title, "category": category, "units": len(households)},
            detail={"definition": definition.key, "version": version.number, "source": source},
        )
        voters = User.select().where(User.id.in_({h.owner_user_id for h in households} - {None}))
        notify_users(list(voters), None, _("New vote: %(title)s") % {"title": title}, now=now)
    return poll


def _options(
    given: Sequence[Mapping[str, Any]] | None, body: Mapping[str, Any]
) -> list[dict[str, Any]]:
    if given is None:
        return [dict(o) for o in body["options"]]
    out: list[dict[str, Any]] = []
    if not isinstance(given, list) or not 2 <= len(given) <= 50:
        raise _problem("options", _("Give 2 to 50 options."))
    for i, option in enumerate(given):
        label = str(option.get("label", "")).strip() if isinstance(option, Mapping) else ""
        if not label or len(label) > 200:
            raise _problem(f"options/{i}/label", _("Each option needs a label."))
        out.append({"key": str(option.get("key") or f"c{i + 1}")[:40], "label": label})
    if len({o["key"] for o in out}) != len(out):
        raise _problem("options", _("Two options have the same key."))
    return out


def get_poll(poll_id: int) -> Poll:
    """:raises NotFound: no such poll."""
    poll = (
        next(iter(prepared("polls.get_poll", _poll_by_id, wanted=poll_id)), None)
        if isinstance(poll_id, int) and 0 < poll_id < 2**63
        else None
    )
    if poll is None:
        raise NotFound(f"poll {poll_id} does not exist")
    return poll


def is_open(poll: Poll, now: dt.datetime) -> bool:
    return not poll.closed and poll.opens_at <= now < poll.closes_at


def voters_of(poll: Poll) -> list[tally.Voter]:
    rows = (
        PollUnit.select(PollUnit.id, PollUnit.area_hundredths, PollUnit.head, PollUnit.building)
        .where(PollUnit.poll == poll.id)
        .tuples()
    )
    return [tally.Voter(u, a, h, b) for u, a, h, b in rows]


def ballots_of(poll: Poll) -> dict[int, list[str]]:
    """Unit id -> the options its ballot chose (raw rows: a 5,000-unit count in a few ms)."""
    cursor = database.execute_sql(
        f"SELECT unit_id, choices FROM ballot WHERE poll_id = {database.param}", (poll.id,)
    )
    decoded: dict[str, list[str]] = {}  # ballots repeat a few texts: decode each once
    out: dict[int, list[str]] = {}
    for unit, text in cursor:
        choices = decoded.get(text)
        if choices is None:
            choices = decoded[text] = list(json.loads(text))
        out[unit] = choices
    return out


def recount(poll: Poll) -> dict[str, Any]:
    """The result counted afresh from the ballots (equal to the stored one once closed):
    the database counts (engine/decisions/tally_sql.py), the definition's rules decide."""
    doc = tally_sql.count(poll.id, options=poll.options, category=category_of(poll))
    return {**doc, **tally.decide(doc, definition_body(poll)["thresholds"])}


def result_of(poll: Poll) -> dict[str, Any]:
    """The stored result of a closed poll, else the live count."""
    return dict(poll.result) if poll.closed and poll.result is not None else recount(poll)


def _locked(poll_id: int) -> Poll:
    query = Poll.select().where(Poll.id == poll_id)
    found = backend().for_update(query).first()
    if found is None:
        raise NotFound(f"poll {poll_id} does not exist")
    return found


def close_poll(actor: Actor, poll_id: int, *, now: dt.datetime) -> Poll:
    """Close a vote and store its result, counted from its ballots in the same transaction.

    A ballot racing the close is either in the count or refused (the poll row is locked).

    :raises Forbidden: the actor does not run votes at its compound.
    :raises Conflict: it is already closed.
    """
    poll = get_poll(poll_id)
    if not may_run(actor, poll):
        raise Forbidden(_("You may not close this vote."))
    _close(poll, now, actor.user)
    return get_poll(poll.id)


def close_due(*, now: dt.datetime) -> int:
    """Close every vote whose window has ended (the sweep); returns how many it closed."""
    due = Poll.select(Poll.id).where(~Poll.closed & (Poll.closes_at <= now)).order_by(Poll.id)
    closed = 0
    for (poll_id,) in due.tuples():
        try:
            _close(get_poll(poll_id), now, None)
        except Conflict:
            continue  # another sweeper or the committee closed it meanwhile
        closed += 1
    return closed


def _close(poll: Poll, now: dt.datetime, by: User | None) -> None:
    with write_transaction():
        locked = _locked(poll.id)
        if locked.closed:
            raise Conflict(_("This vote is already closed."))
        outcome = recount(poll)
        Poll.update(closed=True, closed_at=now, result=outcome, lock=Poll.lock + 1).where(
            Poll.id == poll.id
        ).execute()
        audit.record(
            "poll.close",
            at=now,
            actor=by,
            target=f"poll:{poll.id}",
            after={"quorum": outcome["quorum"], "passed": outcome["passed"]},
            detail={"area": outcome["area"], "owners": outcome["owners"]},
        )
        voters = (
            User.select()
            .join(PollUnit, on=(PollUnit.voter == User.id))
            .where(PollUnit.poll == poll.id)
            .distinct()
        )
        word = _("passed") if outcome["passed"] else _("not passed")
        notify_users(
            list(voters),
            None,
            _("Vote closed: %(title)s, %(outcome)s") % {"title": poll.title, "outcome": word},
            now=now,
        )


def participation(poll: Poll) -> list[dict[str, Any]]:
    """Units and units that voted per building, in building order (one query)."""
    rows = prepared("polls.participation", _participation, wanted=poll.id)
    return [
        {"building": name, "units": units, "voted": done, "percent": round(100 * done / units, 1)}
        for _id, name, units, done in rows
    ]


def _participation(wanted: Any) -> Any:
    return (
        PollUnit.select(OrgNode.id, OrgNode.name, fn.COUNT(PollUnit.id), fn.COUNT(Ballot.id))
        .join(OrgNode, on=(PollUnit.building == OrgNode.id))
        .switch(PollUnit)
        .join(Ballot, JOIN.LEFT_OUTER, on=(Ballot.unit == PollUnit.id))
        .where(PollUnit.poll == wanted)
        .group_by(OrgNode.id, OrgNode.name)
        .order_by(OrgNode.id)
        .tuples()
    )


def remind(actor: Actor, poll_id: int, *, now: dt.datetime) -> tuple[int, int]:
    """Notify every owner who has not voted yet (催票); returns (reminded, without account).

    :raises Forbidden: the actor does not run votes here. :raises Conflict: it is closed.
    """
    poll = get_poll(poll_id)
    if not may_run(actor, poll):
        raise Forbidden(_("You may not remind the voters of this vote."))
    if not is_open(poll, now):
        raise Conflict(_("This vote is closed."))
    waiting = (
        PollUnit.select(PollUnit.voter)
        .join(Ballot, JOIN.LEFT_OUTER, on=(Ballot.unit == PollUnit.id))
        .where((PollUnit.poll == poll.id) & Ballot.id.is_null())
    )
    ids = [u for (u,) in waiting.tuples()]
    users = list(User.select().where(User.id.in_({u for u in ids if u is not None})))
    with write_transaction():
        sent = notify_users(
            users,
            None,
            _("Please vote: %(title)s, closes %(day)s")
            % {"title": poll.title, "day": _local_day(poll.closes_at)},
            now=now,
        )
        audit.record(
            "poll.remind",
            at=now,
            actor=actor.user,
            target=f"poll:{poll.id}",
            after={"reminded": sent, "without_account": sum(1 for u in ids if u is None)},
        )
    return sent, sum(1 for u in ids if u is None)


def _local_day(moment: dt.datetime) -> str:
    from engine.core import clock

    local = clock.local(moment) or moment
    return _("%(month)s/%(day)s") % {"month": local.month, "day": local.day}


def polls_at(node: OrgNode, *, limit: int = 50) -> list[Poll]:
    """The newest votes of a compound."""
    return list(Poll.select().where(Poll.node == node).order_by(Poll.opens_at.desc()).limit(limit))


def polls_of_voter(user: User, *, limit: int = 20) -> list[tuple[Poll, int, bool]]:
    """The votes ``user`` votes in (newest first): (poll, their units, whether each voted)."""
    rows = prepared("polls_of_voter", _polls_of_voter, user=user.id, limit=limit)
    return [(p, p.mine, p.done >= p.mine) for p in rows]


def _polls_of_voter(user: Any, limit: Any) -> Any:
    """:func:`polls_of_voter`'s query, for its slots (built once: every resident's /r)."""
    voted = fn.COUNT(Ballot.id)
    return (
        Poll.select(Poll, fn.COUNT(PollUnit.id).alias("mine"), voted.alias("done"))
        .join(PollUnit, on=(PollUnit.poll == Poll.id))
        .join(Ballot, JOIN.LEFT_OUTER, on=(Ballot.unit == PollUnit.id))
        .where(PollUnit.voter == user)
        .group_by(Poll.id)
        .order_by(Poll.closed, Poll.closes_at.desc())
        .limit(limit)
    )


__all__ = [
    "DEVELOPER_HEAD",
    "close_poll",
    "get_poll",
    "may_see",
    "open_poll",
    "participation",
    "recount",
    "remind",
    "result_of",
    "visible",
]


def my_ballots(user: User, poll: Poll) -> list[tuple[PollUnit, Ballot | None]]:
    """The user's units in a poll, each with its ballot if it has one (one query)."""
    rows = (
        PollUnit.select(PollUnit, Ballot)
        .join(Ballot, JOIN.LEFT_OUTER, on=(Ballot.unit == PollUnit.id))
        .where((PollUnit.poll == poll.id) & (PollUnit.voter == user))
        .order_by(PollUnit.id)
    )
    return [(u, getattr(u, "ballot", None)) for u in rows]


def may_see(actor: Actor, poll: Poll) -> bool:
    """Whether ``actor`` sees a vote and its totals: who views votes at its compound, and
    its residents (owners see what they vote on)."""
    return can(actor, "polls.view", poll.node) or actor.reaches("resident", poll.node_path)


def shows_choices(actor: Actor, poll: Poll) -> bool:
    """Whether ``actor`` sees who voted what: the definition's ``show_choices`` says — only
    totals, or also the ballots to who runs the vote (the default), or to everyone who sees it."""
    setting = definition_body(poll).get("show_choices", "committee")
    if setting == "everyone":
        return may_see(actor, poll)
    return setting == "committee" and may_run(actor, poll)


def shows_participation(poll: Poll) -> bool:
    """Whether owners see participation by building (every setting but ``totals``)."""
    return definition_body(poll).get("show_choices", "committee") != "totals"


def visible(actor: Actor, poll_id: int) -> Poll:
    """:raises NotFound: no such poll, or one the actor may not see (never says which)."""
    poll = get_poll(poll_id)
    if not may_see(actor, poll):
        raise NotFound(f"poll {poll_id} does not exist")
    return poll


# --- a meeting's resolution opens a vote (the ``poll`` outcome kind) ------------------


def _open_from(
    actor: Actor, spec: Mapping[str, Any], source: outcomes.Source, now: dt.datetime
) -> outcomes.Taken:
    """Open a vote of ``spec["definition"]`` on the resolution's words, at its compound; the
    vote names the resolution as its source and the resolution the vote as its target."""
    body = current_version(spec["definition"]).body
    category = spec.get("category") or body["categories"][0]["key"]
    text = str((source.doc.get("resolution") or {}).get("text") or source.title)
    found = open_poll(
        actor,
        spec["definition"],
        source.node,
        text[:200],
        category=category,
        now=now,
        description=source.title,
        source=f"{source.kind}:{source.id}",
    )
    return outcomes.Taken(target=f"poll:{found.id}")


def _may_open_from(actor: Actor, spec: Mapping[str, Any], node: OrgNode) -> bool:
    found = prepared(  # built once: a meeting page asks for each offered outcome
        "polls.definition_current",
        lambda wanted, kind: (
            Definition.select(Definition.current)
            .where((Definition.key == wanted) & (Definition.kind == kind))
            .limit(1)
            .tuples()
        ),
        wanted=spec.get("definition"),
        kind="poll",
    )
    return any(bool(current) for (current,) in found) and may_run(actor, node)


outcomes.register("poll", _open_from, _may_open_from)


def _poll_by_id(wanted: Any) -> Any:
    """A poll with its version and its node (without the node's file)."""
    return (
        Poll.select(Poll, DefinitionVersion, *NODE_COLUMNS)
        .join(DefinitionVersion)
        .switch(Poll)
        .join(OrgNode)
        .where(Poll.id == wanted)
        .limit(1)
    )


def resolution_of(found: Poll) -> Any:
    """The meeting resolution that opened ``found``, if one did (its meeting joined)."""
    kind, _sep, raw = (found.source or "").partition(":")
    if kind != "resolution" or not raw.isdigit():
        return None
    return (
        Resolution.select(Resolution, Meeting)
        .join(Meeting)
        .where(Resolution.id == int(raw))
        .first()
    )
