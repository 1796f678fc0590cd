"""Needs matched with resources (需求清单/资源清单, 双向匹配).

Compounds post needs, units (共建单位, in-service party members, social organisations)
post resources; suggestions pair open needs with open resources of the same category whose
area covers the need's compound, nearest first; a supervisor or the compound's commissioner
confirms a pair, and the match becomes a project: a row of the compound's checklist the
definition names (协同清单).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.core import clock
from engine.core.errors import Conflict, Forbidden, NotFound
from engine.core.i18n import gettext as _
from engine.org.actors import Actor
from engine.org.permissions import can
from engine.records import checklists
from engine.residents.listings import _write, area_path, area_paths, body_of, visible
from engine.store.db import write_transaction
from engine.store.models import OrgNode
from engine.store.resident_tables import Listing
from engine.trail import audit


@dataclass(frozen=True)
class Suggestion:
    """A need and a resource that fit: same category, the resource's area covers the need."""

    need: Listing
    resource: Listing
    same_place: bool  # the place answers are the same too

    @property
    def nearness(self) -> int:
        return len(self.resource.node_path)


def _covers(body: Mapping[str, Any], resource: Listing, need: Listing) -> bool:
    return need.node_path.startswith(area_path(body, resource.node_path))


def suggestions(actor: Actor, key: str, rows: list[Listing] | None = None) -> list[Suggestion]:
    """Pairs of open needs and open resources ``actor`` sees, best first: a shared place,
    then the nearest resource (posted lowest in the tree), then the oldest need.

    :param rows: the listings of ``key`` the actor sees, if already read (others than open
        ones are left out).
    """
    rows = [x for x in (visible(actor, key) if rows is None else rows) if x.state == "open"]
    needs = [x for x in rows if _side(x, "need")]
    if not needs:
        return []
    body = body_of(needs[0])
    resources = [x for x in rows if _side(x, "resource")]
    area_paths(body, [r.node_path for r in resources])  # one query for every pair's _covers
    pairs = [
        Suggestion(n, r, bool(n.place) and n.place == r.place)
        for n in needs
        for r in resources
        if n.category == r.category and _covers(body, r, n)
    ]
    return sorted(pairs, key=lambda s: (not s.same_place, -s.nearness, s.need.posted_at, s.need.id))


def _side(listing: Listing, which: str) -> bool:
    matching = body_of(listing).get("matching") or {}
    return listing.side == matching.get(which)


def may_confirm(actor: Actor, need: Listing, body: Mapping[str, Any]) -> bool:
    roles = (body.get("matching") or {}).get("confirm_roles") or []
    return can(actor, "cobuild.match", need.node) and any(
        actor.reaches(r, need.node_path) for r in roles
    )


def confirm(actor: Actor, need: Listing, resource: Listing, *, now: dt.datetime) -> Listing:
    """Confirm a pair: both become ``matched`` to each other, and the match a project row of
    the need's compound, in one transaction.

    :raises Forbidden: the actor confirms no match for this compound.
    :raises Conflict: either side is no longer open, or they do not fit.
    """
    body = body_of(need)
    matching = body.get("matching")
    if (
        matching is None
        or need.definition_id != resource.definition_id
        or need.side != matching["need"]
        or resource.side != matching["resource"]
    ):
        raise NotFound(_("Not found."))
    if not may_confirm(actor, need, body):
        raise Forbidden(_("You may not confirm matches for this compound."))
    if need.category != resource.category or not _covers(body, resource, need):
        raise Conflict(_("This resource does not fit this need."))
    with write_transaction():
        _write(
            need,
            ("open",),
            state="matched",
            partner=resource.id,
            matched_at=now,
            matched_by=actor.user,
        )
        _write(
            resource,
            ("open",),
            state="matched",
            partner=need.id,
            matched_at=now,
            matched_by=actor.user,
        )
        row_id = None
        project = matching.get("project")
        if project is not None:
            row_id = _project_row(actor, project, need, resource, now=now)
            Listing.update(project=row_id).where(Listing.id.in_([need.id, resource.id])).execute()
            need.project = resource.project = row_id
        audit.record(
            "listing.match",
            at=now,
            actor=actor.user,
            target=f"listing:{need.id}",
            after={"need": need.id, "resource": resource.id, "project": row_id},
        )
    return need


def _project_row(
    actor: Actor, project: Mapping[str, Any], need: Listing, resource: Listing, *, now: dt.datetime
) -> int:
    data = dict(project.get("data") or {})
    data[project["content_field"]] = f"{need.title} — {resource.title}"
    if project.get("deadline_field"):
        local = clock.local(now + dt.timedelta(days=int(project.get("days", 30))))
        assert local is not None
        data[project["deadline_field"]] = local.date().isoformat()
    node = OrgNode.get_by_id(need.node_id)
    row = checklists.write_row(
        actor,
        project["checklist"],
        node,
        data,
        now=now,
        detail={"need": need.id, "resource": resource.id},
    )
    return int(row.id)
