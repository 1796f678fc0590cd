"""Demo votes (`sanfang demo`): a compound's households with registered areas, a closed
vote with its stored result and an open one, from the pack's demo.json ``polls``.

Deterministic for a seed and idempotent: a vote whose title the compound already has is
not made again. Most synthetic owners have no account, so their ballots are written
directly (online or on paper; each paper ballot's photo is the same demo picture, claimed by its ballot);
the votes are opened and the first one closed by the committee through the services, so
its stored result is the one the count gives.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import secrets
from collections.abc import Mapping
from typing import Any

from engine.core import clock
from engine.decisions import polls
from engine.org.actors import actor_for
from engine.records import attachments
from engine.store.db import bulk_insert, database
from engine.store.models import Attachment, OrgNode, User
from engine.store.polls import Ballot, Poll, PollUnit
from engine.store.tables import Household
from engine.trail import audit

DAY = dt.timedelta(days=1)
OPENS_AT = 9  # the local hour the demo's votes open (and one of them is closed)
# A 1×1 PNG: the demo's stand-in for a photo of a signed paper ballot.
PHOTO = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201a5d7b0f20000000049454e44ae426082"
)


def _households(
    spec: Mapping[str, Any], node: OrgNode, rng: random.Random, now: dt.datetime
) -> None:
    """The compound's units with registered areas, when it has none yet."""
    if (
        Household.select()
        .where((Household.compound == node) & Household.registered_area.is_null(False))
        .exists()
    ):
        return
    buildings = list(OrgNode.select().where(OrgNode.parent == node).order_by(OrgNode.id))
    low, high = (round(x * 100) for x in spec["area"])
    accounts = [User.get_or_none(User.username == name) for name in spec.get("accounts", [])]
    taken = {
        (h.building_id, h.room)
        for h in Household.select(Household.building, Household.room).where(
            Household.compound == node
        )
    }
    rows: list[dict[str, Any]] = []
    per = int(spec["units_per_building"])
    for building in buildings:
        for n in range(per):
            floor, door = n // 2 + 1, n % 2 + 1
            room = spec.get("room", "{floor}0{n}").format(floor=floor, n=door)
            if (building.id, room) in taken:
                continue
            rows.append(
                {
                    "building": building.id,
                    "compound": node.id,
                    "room": room,
                    "owner_name": "",
                    "phone": "",
                    "area": None,
                    "registered_area": rng.randint(low, high),
                    "owner_key": "",
                    "developer_held": False,
                    "owner_user": None,
                    "updated_at": now,
                }
            )
    rng.shuffle(rows)
    for i, row in enumerate(rows):
        row["owner_name"] = spec["owner_name"].format(n=i + 1)
        if i < len(accounts) and accounts[i] is not None:
            row["owner_user"] = accounts[i].id
            row["owner_name"] = accounts[i].name
    developer = int(spec.get("developer_held", 0))
    for row in rows[-developer:] if developer else []:
        row["developer_held"], row["owner_name"] = True, spec["developer_name"]
    multi = int(spec.get("multi_owner_units", 0))
    for row in rows[len(accounts) : len(accounts) + multi]:
        row["owner_key"], row["owner_name"] = "demo-multi", spec["multi_owner_name"]
    bulk_insert(Household, rows)


def _ballots(
    poll: Poll, vote: Mapping[str, Any], rng: random.Random, evidence: str, at: dt.datetime
) -> None:
    """Ballots of the synthetic owners (not of the demo accounts: they vote themselves)."""
    units = list(PollUnit.select().where((PollUnit.poll == poll.id) & PollUnit.voter.is_null()))
    rows = []
    for unit in units:
        if rng.random() >= float(vote["turnout"]):
            continue
        pick = rng.random()
        choice = (
            "yes"
            if pick < vote["agree"]
            else "abstain"
            if pick < vote["agree"] + vote["abstain"]
            else "no"
        )
        online = rng.random() < float(vote["online"])
        rows.append(
            {
                "poll": poll.id,
                "unit": unit.id,
                "choices": [choice],
                "channel": "online" if online else "paper",
                "cast_by": None,
                "proxy_name": "",
                "evidence": None if online else "att_" + secrets.token_urlsafe(12),
                "cast_at": at + dt.timedelta(minutes=rng.randint(10, 60 * 24 * 5)),
                "changes": 0,
            }
        )
    bulk_insert(Ballot, rows)
    _photos(poll, evidence, at)


def _photos(poll: Poll, evidence: str, at: dt.datetime) -> None:
    """Each paper ballot its own photo, claimed by the ballot as entering one on paper
    does (the same stored bytes as the demo photo ``evidence``): who may open a ballot's
    photo is decided by its record."""
    photo = Attachment.get(Attachment.public_id == evidence)
    paper = Ballot.select(Ballot.id, Ballot.evidence).where(
        (Ballot.poll == poll.id) & (Ballot.channel == "paper") & Ballot.evidence.is_null(False)
    )
    bulk_insert(
        Attachment,
        [
            {
                "public_id": public_id,
                "record": attachments.record_ref("ballot", ballot_id),
                "uploaded_by": photo.uploaded_by_id,
                "filename": photo.filename,
                "content_type": photo.content_type,
                "size": photo.size,
                "sha256": photo.sha256,
                "created_at": at,
            }
            for ballot_id, public_id in paper.tuples()
        ],
    )


def generate_votes(spec: Mapping[str, Any], *, store: Any, seed: int, now: dt.datetime) -> str:
    """Make the demo's votes (see the module docstring); returns a summary line."""
    node = OrgNode.get_or_none(OrgNode.key == spec.get("compound"))
    committee = User.get_or_none(User.username == spec.get("committee"))
    if node is None or committee is None:
        return "demo votes: no such compound or committee account"
    rng = random.Random(seed)
    actor = actor_for(committee)
    made = 0
    with database.atomic():
        _households(spec, node, rng, now)
    photo = ""
    for vote in spec.get("votes", []):
        if Poll.select().where((Poll.node == node) & (Poll.title == vote["title"])).exists():
            continue
        photo = (
            photo
            or attachments.store(
                actor, spec["photo_name"], "image/png", io.BytesIO(PHOTO), store=store, now=now
            ).public_id
        )
        # opened in the morning (its closing time is the opening's, a window later): at
        # ``now``'s time of day the demo's votes closed at the hour ``make run`` was run
        opened = min(now, clock.at_local_hour(now - DAY * vote["opened_days_ago"], OPENS_AT))
        poll = polls.open_poll(
            actor,
            vote["definition"],
            node,
            vote["title"],
            category=vote["category"],
            description=vote.get("description", ""),
            now=opened,
        )
        with database.atomic():
            _ballots(poll, vote, rng, photo, opened)
            audit.record(
                "demo.ballots",
                at=now,
                actor=None,
                target=f"poll:{poll.id}",
                after={"ballots": Ballot.select().where(Ballot.poll == poll.id).count()},
            )
        if "closed_days_ago" in vote:
            closed = clock.at_local_hour(now - DAY * vote["closed_days_ago"], OPENS_AT)
            polls.close_poll(actor, poll.id, now=min(now, closed))
        made += 1
    return f"demo votes: {made} at {node.name}"
