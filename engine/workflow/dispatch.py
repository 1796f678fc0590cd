"""Routing and dispatch: whistles (吹哨) summon units, units report in (报到) and reply."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import rules
from engine.core.errors import Conflict, FieldProblem, Forbidden, Invalid, NotFound
from engine.core.i18n import gettext as _
from engine.definitions.definitions import Runtime, runtime
from engine.delivery.notify import notify_users, users_with_roles
from engine.org.actors import Actor
from engine.org.org import compound_of
from engine.org.scope import visible_assignments
from engine.store.db import write_transaction
from engine.store.models import Assignment, Item, OrgNode, RuleFailure
from engine.trail import audit
from engine.workflow import kernel
from engine.workflow.deadlines import calendar_for

OPEN_STATES = ("summoned", "reported")


def unit_node(unit: Mapping[str, str], item: Item) -> tuple[OrgNode, str] | None:
    """The node and acting role a routing unit names, for this item."""
    if "unit" in unit:
        node = OrgNode.get_or_none(OrgNode.key == unit["unit"])
        return (node, "department") if node is not None else None
    compound = compound_of(item.node) or item.node
    return compound, unit["role"]


def summon(
    item: Item, table_name: str, doc: Mapping[str, Any], *, now: dt.datetime, actor: Actor | None
) -> list[Assignment]:
    """Run routing table ``table_name`` on ``doc`` and summon the units it names.

    A rule that fails to evaluate is recorded (definition, version, rule path) and the
    table's default units are summoned instead. The decision — which rule of which
    version fired on which inputs — is stored on the item's timeline.
    """
    rt: Runtime = runtime(item.version_id)
    plan = kernel.summon(
        rt,
        table_name,
        doc,
        resolve=lambda unit: unit_node(unit, item),
        already=open_units(item),
        calendar=calendar_for(item.definition_id, rt.body, rt.body["routing"][table_name]),
        now=now,
    )
    record_faults(rt, item, plan.faults, now)
    created = write_summonses(item, plan, now=now)
    audit.record(
        "route",
        at=now,
        actor=actor.user if actor else None,
        item=item,
        target=f"item:{item.id}",
        detail=plan.detail(rt),
    )
    return created


def open_units(item: Item) -> set[tuple[int, str]]:
    """(unit id, role) of the item's open summonses."""
    return {
        (a.unit_id, a.role)
        for a in Assignment.select(Assignment.unit, Assignment.role).where(
            (Assignment.item == item) & Assignment.open
        )
    }


def create_assignments(
    item: Item,
    table_name: str,
    planned: kernel.Planned,
    spec: Mapping[str, Any],
    *,
    now: dt.datetime,
) -> list[Assignment]:
    """Summon each planned unit not already summoned and open (a supervisor's re-route).

    :param planned: (unit as in a routing table, route with deadlines, rule key) triples.
    """
    rt = runtime(item.version_id)
    plan = kernel.SummonsPlan(table_name, kernel.Decision([], [], False, {}))
    plan.summonses = kernel.summonses(
        planned,
        table_name,
        spec,
        resolve=lambda unit: unit_node(unit, item),
        already=open_units(item),
        calendar=calendar_for(item.definition_id, rt.body, spec),
        now=now,
    )
    return write_summonses(item, plan, now=now)


def record_faults(
    rt: Runtime, item: Item | None, faults: list[kernel.RuleFault], now: dt.datetime
) -> None:
    """Keep the rules that failed while planning (admins see them under /admin)."""
    for fault in faults:
        RuleFailure.create(
            at=now,
            definition=rt.key,
            version=rt.number,
            item=item,
            where=fault.where,
            message=fault.message,
            params=fault.params,
        )


def failure_message(failure: RuleFailure) -> str:
    """A kept rule failure's message in the reader's language (kept as a msgid and its
    parameters; rows from before that, with ``params`` null, as they were written)."""
    if failure.params is None:
        return failure.message
    return rules.render(failure.message, rules.params_from_json(failure.params), _)


def write_summonses(item: Item, plan: kernel.SummonsPlan, *, now: dt.datetime) -> list[Assignment]:
    """Write a plan's summonses one row at a time and tell each unit's users."""
    created = []
    for planned in plan.summonses:
        assignment = Assignment.create(**planned.row(item.id))
        item.priority = max(item.priority, assignment.priority)
        created.append(assignment)
        notify_users(
            users_with_roles([planned.role], planned.unit.path),
            item,
            kernel.summons_message(item.definition.name, item.title),
            now=now,
        )
    if created:
        Item.update(priority=item.priority).where(Item.id == item.id).execute()
    return created


def _acting(actor: Actor, assignment_id: int) -> Assignment:
    assignment = visible_assignments(actor).where(Assignment.id == assignment_id).first()
    if assignment is None:
        if Assignment.get_or_none(Assignment.id == assignment_id) is None:
            raise NotFound(_("Summons %(id)s does not exist.") % {"id": assignment_id})
        raise Forbidden(_("You do not act for the unit summoned here."))
    return assignment


def _move(
    actor: Actor,
    assignment_id: int,
    *,
    from_states: tuple[str, ...],
    action: str,
    now: dt.datetime,
    changes: Mapping[str, Any],
) -> Assignment:
    with write_transaction():
        assignment = _acting(actor, assignment_id)
        before = {"state": assignment.state}
        updated = (
            Assignment.update(**changes)
            .where((Assignment.id == assignment.id) & Assignment.state.in_(from_states))
            .execute()
        )
        if not updated:
            raise Conflict(
                _("This summons has already moved on (%(state)s); reload the page.")
                % {"state": assignment.state}
            )
        assignment = Assignment.get_by_id(assignment.id)
        audit.record(
            f"summons.{action}",
            at=now,
            actor=actor.user,
            item=assignment.item,
            target=f"assignment:{assignment.id}",
            before=before,
            after={
                "state": assignment.state,
                "unit": assignment.unit.key,
                "reply": assignment.reply or None,
            },
        )
    return assignment


def report_in(actor: Actor, assignment_id: int, *, now: dt.datetime) -> Assignment:
    """The summoned unit reports in (报到); the handling deadline starts to count.

    :raises Conflict: already reported or finished.
    """
    current = _acting(actor, assignment_id)
    return _move(
        actor,
        assignment_id,
        from_states=("summoned",),
        action="report_in",
        now=now,
        changes={"state": "reported", "reported_at": now, "next_due_at": current.handle_due_at},
    )


def complete(actor: Actor, assignment_id: int, reply: str, *, now: dt.datetime) -> Assignment:
    """The unit replies with what it did and finishes its part.

    :raises Invalid: an empty reply.
    :raises Conflict: not reported in yet, or already finished.
    """
    reply = (reply or "").strip()
    if not reply:
        raise Invalid(
            _("Say what was done."), [FieldProblem("reply", _("This field is required."))]
        )
    current = _acting(actor, assignment_id)
    if current.state == "summoned":
        raise Conflict(_("Report in before completing."))
    return _move(
        actor,
        assignment_id,
        from_states=("reported",),
        action="complete",
        now=now,
        changes={
            "state": "done",
            "done_at": now,
            "reply": reply[:4000],
            "open": False,
            "next_due_at": None,
        },
    )


def decline(actor: Actor, assignment_id: int, reason: str, *, now: dt.datetime) -> Assignment:
    """The unit declines the summons with a reason (not its competence).

    :raises Invalid: an empty reason.
    """
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(_("Give a reason."), [FieldProblem("reply", _("This field is required."))])
    return _move(
        actor,
        assignment_id,
        from_states=OPEN_STATES,
        action="decline",
        now=now,
        changes={
            "state": "declined",
            "done_at": now,
            "reply": reason[:4000],
            "open": False,
            "next_due_at": None,
        },
    )


def cancel_open_summons(item: Item, *, actor: Actor | None, now: dt.datetime) -> int:
    """Close the summons still open when the item ends, so none is left to fall overdue."""
    open_ids = [
        a.id
        for a in Assignment.select(Assignment.id).where((Assignment.item == item) & Assignment.open)
    ]
    if not open_ids:
        return 0
    Assignment.update(state="cancelled", open=False, done_at=now, next_due_at=None).where(
        Assignment.id.in_(open_ids)
    ).execute()
    audit.record(
        "summons.cancel",
        at=now,
        actor=actor.user if actor else None,
        item=item,
        target=f"item:{item.id}",
        after={"cancelled": open_ids},
    )
    return len(open_ids)
