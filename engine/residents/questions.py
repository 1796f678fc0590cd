"""Questions residents ask about a line of a published statement: each is an item of the
definition's question type, routed to the publisher with a deadline like any other item."""

from __future__ import annotations

import datetime as dt

from engine.core.errors import NotFound
from engine.core.i18n import gettext as _
from engine.org.actors import Actor
from engine.org.scope import role_labels
from engine.residents.disclosures import READABLE, body_of, line_of
from engine.residents.statements import format_cents, title
from engine.store.db import write_transaction
from engine.store.models import Item
from engine.store.resident_tables import Statement
from engine.trail import audit


def ask(actor: Actor, st: Statement, line_id: str, question: str, *, now: dt.datetime) -> Item:
    """A resident's question on a line: an item of the definition's question type at the
    compound, routed to the publisher with a deadline like any other item.

    :raises NotFound: a statement not published or a line it does not have.
    :raises Invalid: the question does not pass the question type's form (path ``data/...``).
    """
    from engine.workflow import items

    if st.state not in READABLE:
        raise NotFound(_("Statement not found."))
    body = body_of(st)
    line = line_of(st, line_id)
    spec = body["questions"]
    data = {
        spec.get("statement_field", "statement"): title(body, st),
        spec.get("line_field", "line"): f"{line['label']} {format_cents(line['amount'])}",
        spec.get("question_field", "question"): question,
        # the publishing party by the pack's word for it: a routing rule reads it
        spec.get("publisher_field", "publisher"): role_labels().get(
            st.publisher_role, st.publisher_role
        ),
    }
    with write_transaction():  # the question and its link to the line, or neither
        item = items.raise_item(actor, spec["item_type"], st.node.key, data, now=now)
        # On the statement, not the item: the item's history shows its own steps only.
        audit.record(
            "statement.question",
            at=now,
            actor=actor.user,
            target=f"statement:{st.id}",
            detail={"line": line_id, "item": item.id, "node": st.node_path, "period": st.period},
        )
    return item


def questions_of(st: Statement) -> dict[str, list[int]]:
    """The questions asked on each line of this statement: line id → item ids."""
    from engine.store.models import Event

    out: dict[str, list[int]] = {}
    rows = (
        Event.select(Event.detail)
        .where((Event.action == "statement.question") & (Event.target == f"statement:{st.id}"))
        .order_by(Event.id)
        .tuples()
    )
    for (detail,) in rows:
        detail = detail or {}
        out.setdefault(str(detail.get("line")), []).append(detail.get("item"))
    return out
