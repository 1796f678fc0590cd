"""Finances in the open (经营性收支公示, Civil Code art. 281): a compound's statements.

The property company (or the owners' committee) drafts a period's statement line by line;
the committee confirms it (published) or returns it with reasons; a published statement is
never changed, only corrected by a new version whose lines are compared with the old one's.
Money is integer cents (分) throughout; amounts are read with :class:`decimal.Decimal`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from engine.core import i18n
from engine.core.errors import Conflict, FieldProblem, Forbidden, Invalid, NotFound
from engine.core.i18n import gettext as _
from engine.definitions.definitions import applies_at, current_version
from engine.delivery.notify import notify_users, users_with_roles
from engine.org.actors import Actor
from engine.org.permissions import can
from engine.org.scope import NODE_COLUMNS
from engine.records import attachments
from engine.residents.periods import due_at, period_of
from engine.residents.statements import clean_line, title, totals
from engine.store.db import write_transaction
from engine.store.models import Definition, OrgNode, User
from engine.store.prepared import prepared
from engine.store.resident_tables import Statement
from engine.trail import audit

EDITABLE = ("draft", "returned")
READABLE = ("published", "superseded")  # what residents see


def _holds(actor: Actor, roles: Any, node_path: str) -> list[str]:
    return [r for r in roles or () if actor.reaches(r, node_path)]


def may_draft(actor: Actor, body: Mapping[str, Any], node_path: str) -> bool:
    return bool(_holds(actor, body.get("draft_roles"), node_path))


def may_confirm(actor: Actor, body: Mapping[str, Any], node_path: str) -> bool:
    return bool(_holds(actor, body.get("confirm_roles"), node_path))


def is_resident_of(actor: Actor, node_path: str) -> bool:
    """A resident of the compound (granted at it, or at one of its buildings)."""
    return any(
        g.role == "resident"
        and (g.node_path.startswith(node_path) or node_path.startswith(g.node_path))
        for g in actor.grants
    )


def may_read(actor: Actor, statement: Statement, body: Mapping[str, Any]) -> bool:
    """Residents of the compound read published versions; its drafters and confirmers and
    whoever oversees disclosures there (engine/org/permissions.py) read every version."""
    node = statement.node
    if statement.state in READABLE and is_resident_of(actor, statement.node_path):
        return True
    return (
        may_draft(actor, body, statement.node_path)
        or may_confirm(actor, body, statement.node_path)
        or can(actor, "disclosures", node)
    )


def body_of(statement: Statement) -> dict[str, Any]:
    from engine.definitions.runtimes import runtime

    return dict(runtime(statement.version_id).body)  # versions never change: cached


def get_statement(actor: Actor, statement_id: int) -> Statement:
    """:raises NotFound: no such statement, or not one ``actor`` may read (no existence leak)."""
    found = next(iter(prepared("disclosures.get_statement", _statement, wanted=statement_id)), None)
    if found is None or not may_read(actor, found, body_of(found)):
        raise NotFound(_("Statement not found."))
    return found


def _statement(wanted: Any) -> Any:
    """A statement by id with its node read along, without the node's file."""
    return (
        Statement.select(Statement, *NODE_COLUMNS)
        .join(OrgNode)
        .where(Statement.id == wanted)
        .limit(1)
    )


@attachments.record_kind("statement")
def may_read_statement(actor: Actor, statement_id: int) -> bool:
    """Who sees the statement sees its files."""
    try:
        get_statement(actor, statement_id)
    except NotFound:
        return False
    return True


def start(
    actor: Actor, key: str, node: OrgNode, period: str | None, *, now: dt.datetime
) -> Statement:
    """A new draft of ``key``'s statement for ``period`` (default: the period before now's).

    :raises Forbidden: the actor drafts no statement here.
    :raises Invalid: an unknown period or a definition not used here.
    :raises Conflict: the period already has a statement (correct it instead).
    """
    definition = Definition.get_or_none((Definition.key == key) & (Definition.kind == "disclosure"))
    if definition is None or not definition.current:
        raise NotFound(_("Statement type not found."))
    version = current_version(definition)
    body = version.body
    if node.kind not in body.get("node_kinds", ["compound"]) or not applies_at(body, node.path):
        message = _("This statement is not used at %(node)s.") % {"node": node.name}
        raise Invalid(message, [FieldProblem("node", message)])
    roles = _holds(actor, body.get("draft_roles"), node.path)
    if not roles:
        raise Forbidden(_("You may not draft statements here."))
    chosen = period or period_of(body["period"], now, previous=True)
    if due_at(body, chosen) is None:
        message = _("Not a period of this statement: %(period)s") % {"period": chosen[:20]}
        raise Invalid(message, [FieldProblem("period", message)])
    with write_transaction():
        if (
            Statement.select()
            .where(
                (Statement.definition == definition)
                & (Statement.node == node)
                & (Statement.period == chosen)
            )
            .exists()
        ):
            raise Conflict(_("This period already has a statement; correct it instead."))
        statement = Statement.create(
            definition=definition,
            version=version,
            node=node,
            node_path=node.path,
            period=chosen,
            publisher_role=roles[0],
            drafted_by=actor.user,
            drafted_at=now,
        )
        _audit("statement.create", statement, actor, now, after={"period": chosen})
    return statement


def _audit(
    action: str,
    st: Statement,
    actor: Actor,
    now: dt.datetime,
    *,
    before: Any = None,
    after: Any = None,
) -> None:
    audit.record(
        action,
        at=now,
        actor=actor.user,
        target=f"statement:{st.id}",
        before=before,
        after=after,
        detail={"node": st.node_path, "period": st.period, "number": st.number},
    )


def _write(st: Statement, states: tuple[str, ...], **changes: Any) -> None:
    """Write ``changes`` if the statement is still in one of ``states`` at the version read.

    :raises Conflict: someone moved it on meanwhile (or it is published: never edited).
    """
    changed = (
        Statement.update(lock=Statement.lock + 1, **changes)
        .where((Statement.id == st.id) & (Statement.lock == st.lock) & Statement.state.in_(states))
        .execute()
    )
    if not changed:
        raise Conflict(_("This statement changed or was published meanwhile; reload it."))
    for name, value in changes.items():
        setattr(st, name, value)
    st.lock += 1


def _editor(actor: Actor, st: Statement) -> dict[str, Any]:
    body = body_of(st)
    if st.state not in EDITABLE:
        raise Conflict(_("A statement sent for confirmation or published cannot be edited."))
    if not may_draft(actor, body, st.node_path):
        raise Forbidden(_("You may not draft statements here."))
    return body


def _tell(users: list[Any], message: str, now: dt.datetime) -> None:
    """Notify ``users`` (no item: the notification names the statement)."""
    notify_users([u for u in users if u is not None], None, message[:480], now=now)


def _next_id(st: Statement) -> str:
    """A line id no version of this statement has used: a removed line's id is never
    given to another line, so the comparison of versions stays true."""
    used = [str(x.get("id", "")) for x in st.lines or []]
    previous = st.previous_id
    while previous is not None:
        older = Statement.get_by_id(previous)
        used += [str(x.get("id", "")) for x in older.lines or []]
        previous = older.previous_id
    numbers = [int(x[1:]) for x in used if x.startswith("L") and x[1:].isdigit()]
    return f"L{max(numbers, default=0) + 1}"


def add_line(
    actor: Actor, st: Statement, fields: Mapping[str, Any], *, now: dt.datetime
) -> dict[str, Any]:
    """Add a line to a draft (or returned) statement. :raises Invalid, Forbidden, Conflict:"""
    body = _editor(actor, st)
    line = {"id": _next_id(st), **clean_line(body, fields)}
    if len(st.lines or []) >= int(body.get("max_lines", 200)):
        raise Invalid(_("Too many lines."), [FieldProblem("label", _("Too many lines."))])
    with write_transaction():
        _write(st, EDITABLE, lines=[*(st.lines or []), line])
        _audit("statement.line.add", st, actor, now, after=line)
    return line


def update_line(
    actor: Actor, st: Statement, line_id: str, fields: Mapping[str, Any], *, now: dt.datetime
) -> dict[str, Any]:
    body = _editor(actor, st)
    old = line_of(st, line_id)
    line = {"id": old["id"], **clean_line(body, fields)}
    with write_transaction():
        _write(st, EDITABLE, lines=[line if x["id"] == line_id else x for x in st.lines])
        _audit("statement.line.update", st, actor, now, before=old, after=line)
    return line


def remove_line(actor: Actor, st: Statement, line_id: str, *, now: dt.datetime) -> None:
    _editor(actor, st)
    old = line_of(st, line_id)
    with write_transaction():
        _write(st, EDITABLE, lines=[x for x in st.lines if x["id"] != line_id])
        _audit("statement.line.remove", st, actor, now, before=old)


def line_of(st: Statement, line_id: str) -> dict[str, Any]:
    """:raises NotFound: the statement has no such line."""
    for line in st.lines or []:
        if line.get("id") == line_id:
            return dict(line)
    raise NotFound(_("No such line."))


def submit(actor: Actor, st: Statement, *, now: dt.datetime) -> None:
    """Send a draft to the owners' committee. :raises Invalid: no lines yet."""
    _editor(actor, st)
    if not st.lines:
        raise Invalid(
            _("Add at least one line first."),
            [FieldProblem("lines", _("Add at least one line first."))],
        )
    with write_transaction():
        _write(st, EDITABLE, state="submitted", submitted_at=now)
        _audit(
            "statement.submit",
            st,
            actor,
            now,
            before={"state": "draft"},
            after={"state": "submitted"},
        )
        body = body_of(st)
        _tell(
            users_with_roles(body["confirm_roles"], st.node_path),
            _("A statement waits for your confirmation: %(title)s") % {"title": title(body, st)},
            now,
        )


def _confirmer(actor: Actor, st: Statement) -> None:
    if st.state != "submitted":
        raise Conflict(_("Only a statement sent for confirmation can be confirmed or returned."))
    if not may_confirm(actor, body_of(st), st.node_path):
        raise Forbidden(_("Only the owners' committee confirms statements."))


def give_back(actor: Actor, st: Statement, reason: str, *, now: dt.datetime) -> None:
    """The committee returns the statement with its reasons (退回); the drafter corrects it."""
    _confirmer(actor, st)
    reason = (reason or "").strip()
    if len(reason) < 2 or len(reason) > 500:
        message = _("Say why it is returned (2 to 500 characters).")
        raise Invalid(message, [FieldProblem("reason", message)])
    with write_transaction():
        _write(st, ("submitted",), state="returned", reason=reason)
        _audit(
            "statement.return",
            st,
            actor,
            now,
            before={"state": "submitted"},
            after={"state": "returned", "reason": reason},
        )
        drafter = User.get_or_none(User.id == st.drafted_by_id)
        _tell(
            [drafter] if drafter else [],
            _("Your statement was returned: %(reason)s") % {"reason": reason},
            now,
        )


def confirm(actor: Actor, st: Statement, *, now: dt.datetime) -> None:
    """The committee confirms: the statement is published and never changes again; the
    version it corrects is superseded in the same transaction."""
    _confirmer(actor, st)
    with write_transaction():
        _write(st, ("submitted",), state="published", published_at=now, published_by=actor.user)
        if st.previous_id is not None:
            Statement.update(state="superseded", lock=Statement.lock + 1).where(
                (Statement.id == st.previous_id) & (Statement.state == "published")
            ).execute()
        _audit(
            "statement.publish",
            st,
            actor,
            now,
            before={"state": "submitted"},
            after={
                "state": "published",
                "lines": st.lines,
                "totals": totals(body_of(st), st.lines),
            },
        )


def correct(actor: Actor, st: Statement, reason: str, *, now: dt.datetime) -> Statement:
    """A new draft version correcting a published statement, its lines copied; the
    published one stays as it is (and readable) until the correction is published.

    :raises Conflict: not the newest published version, or a correction is under way.
    """
    body = body_of(st)
    if st.state != "published":
        raise Conflict(_("Only the published statement can be corrected."))
    if not may_draft(actor, body, st.node_path):
        raise Forbidden(_("You may not draft statements here."))
    reason = (reason or "").strip()
    if len(reason) < 2 or len(reason) > 500:
        message = _("Say what the correction is for (2 to 500 characters).")
        raise Invalid(message, [FieldProblem("reason", message)])
    with write_transaction():
        if Statement.select().where(Statement.previous == st).exists():
            raise Conflict(_("A correction of this statement is already under way."))
        new = Statement.create(
            definition=st.definition_id,
            version=current_version(st.definition).id,
            node=st.node_id,
            node_path=st.node_path,
            period=st.period,
            number=st.number + 1,
            previous=st,
            lines=[dict(x) for x in st.lines],
            data=dict(st.data or {}),
            reason=reason,
            publisher_role=st.publisher_role,
            drafted_by=actor.user,
            drafted_at=now,
        )
        _audit(
            "statement.correct",
            new,
            actor,
            now,
            before={"corrects": st.id},
            after={"reason": reason},
        )
    return new


def set_data(actor: Actor, st: Statement, data: Any, *, now: dt.datetime) -> None:
    """Replace the statement's own answers (its note, its vouchers) through the definition's
    form; uploads are linked to the statement. :raises Invalid: paths ``data/...``."""
    import forms

    body = _editor(actor, st)
    schema = body.get("schema") or {"type": "object", "properties": {}}
    if not isinstance(data, Mapping):
        raise Invalid(
            _("Answers must be a JSON object."),
            [FieldProblem("data", _("Answers must be a JSON object."))],
        )
    context = {"node": {"key": st.node.key, "kind": st.node.kind, "name": st.node.name}}
    cleaned, errors = forms.validate(schema, dict(data), context=context, gettext=i18n.gettext)
    if errors:
        raise Invalid(
            _("Some answers need fixing."),
            [FieldProblem(f"data/{e.path}" if e.path else "data", e.message) for e in errors],
        )
    with write_transaction():
        attachments.claim(
            attachments.ids_in(schema, cleaned),
            actor,
            record=attachments.record_ref("statement", st.id),
        )
        before = dict(st.data or {})
        _write(st, EDITABLE, data=dict(cleaned))
        _audit("statement.data", st, actor, now, before=before, after=dict(cleaned))
