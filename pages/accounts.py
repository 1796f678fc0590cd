"""Statements of accounts (经营性收支公示): drafted and confirmed on /work/accounts, read and
asked about by the compound's residents on /r/accounts (engine/residents/disclosures.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

import forms
from engine.core import clock
from engine.core.errors import Invalid, ServiceError
from engine.definitions.definitions import current_versions
from engine.org.scope import nodes_under
from engine.residents import disclosures as d
from engine.residents import questions
from engine.residents import statements as reading
from engine.residents.money import yuan_text
from engine.residents.periods import due_at, period_label, recent
from engine.store.models import OrgNode
from engine.store.resident_tables import Statement
from pages import charts
from pages.auth import requires
from pages.itemviews import bind, is_submit, submit
from pages.resident import _home_node
from pages.resident import bp as resident_bp
from pages.work import bp as work_bp


def statement_states() -> dict[str, str]:
    return {
        "draft": _("Draft"),
        "submitted": _("Waiting for the committee"),
        "returned": _("Returned"),
        "published": _("Published for residents"),
        "superseded": _("Replaced by a correction"),
    }


def field_labels() -> dict[str, str]:
    return {
        "section": _("Part"),
        "category": _("Category"),
        "label": _("Line item"),
        "amount": _("Amount (yuan)"),
        "note": _("Note"),
        "lines": "",
        "reason": "",
    }


def view_context(st: Statement) -> dict[str, Any]:
    """What both audiences' statement pages show: lines by section, totals, the chart, what
    the correction changed."""
    body = d.body_of(st)
    sums = reading.totals(body, st.lines)
    sections = [
        {
            **s,
            "lines": [x for x in st.lines if x["section"] == s["key"]],
            "total": sums["sections"][s["key"]],
        }
        for s in body["sections"]
    ]
    group_labels = {x["key"]: x["label"] for x in body.get("groups") or []}
    groups = [{"key": k, "label": group_labels.get(k, ""), **v} for k, v in sums["groups"].items()]
    previous = Statement.get_by_id(st.previous_id) if st.previous_id else None
    return {
        "st": st,
        "body": body,
        "title": reading.title(body, st),
        "sections": sections,
        "groups": groups,
        "chart": charts.money_bars(
            [(s["label"], s["total"], s["flow"]) for s in sections],
            title=reading.title(body, st),
        ),
        "previous": previous,
        "changes": reading.line_diff(previous.lines, st.lines) if previous else [],
        "section_labels": {s["key"]: s["label"] for s in body["sections"]},
        "due": due_at(body, st.period),
        "own_answers": shown_answers(body, st.data or {}) if body.get("schema") else [],
        "now": clock.now(),
    }


# -- residents ---------------------------------------------------------------------------


@resident_bp.route("/accounts")
@requires("resident")
def accounts() -> Any:
    node = _home_node()
    found = reading.published_for(g.actor, node)
    return render_template(
        "resident/accounts.html",
        node=node,
        statements=[(st, reading.title(d.body_of(st), st)) for st in found],
    )


@resident_bp.route("/accounts/<int:statement_id>")
@requires("resident")
def statement(statement_id: int) -> Any:
    st = d.get_statement(g.actor, statement_id)
    return render_template(
        "resident/statement.html", **view_context(st), asked=questions.questions_of(st)
    )


@resident_bp.route("/accounts/<int:statement_id>/ask/<line_id>", methods=["GET", "POST"])
@requires("resident")
def ask(statement_id: int, line_id: str) -> Any:
    st = d.get_statement(g.actor, statement_id)
    if st.state != "published":
        abort(404)
    line = d.line_of(st, line_id)
    error, text, status = None, "", 200
    if request.method == "POST":
        text = request.form.get("question", "")
        try:
            item = questions.ask(g.actor, st, line_id, text, now=clock.now())
        except Invalid as exc:
            error, status = "; ".join(p.message for p in exc.fields) or exc.message, 422
        else:
            flash(_("Your question was sent. The answer will come to your notifications."))
            return redirect(url_for("resident.item", item_id=item.id), 303)
    body = d.body_of(st)
    return render_template(
        "resident/ask.html",
        st=st,
        title=reading.title(body, st),
        line=line,
        section=next(s["label"] for s in body["sections"] if s["key"] == line["section"]),
        error=error,
        text=text,
    ), status


# -- the property company, the owners' committee, commissioners and supervisors ----------


def _draftable() -> list[tuple[Any, list[OrgNode]]]:
    """(definition version, compounds where the actor drafts it) for the new-statement form:
    the first 500 compounds by name under a grant of a drafting role."""
    versions = current_versions("disclosure", by_key=True)
    roles = {r for v in versions for r in v.body.get("draft_roles") or ()}
    paths = [gr.node_path for gr in g.actor.grants if gr.role in roles]
    compounds = nodes_under(paths, ("compound",), most=500)
    out = []
    for version in versions:
        nodes = [n for n in compounds if d.may_draft(g.actor, version.body, n.path)]
        if nodes:
            out.append((version, nodes))
    return out


@work_bp.route("/accounts")
@requires("disclosures")
def statements() -> Any:
    draftable = _draftable()
    kinds = {v.body["period"] for v, _nodes in draftable}
    periods = sorted({p for k in kinds for p in recent(k, clock.now())}, reverse=True)
    rows = reading.listed_in_reach(g.actor)
    titles = {st.id: reading.title(d.body_of(st), st) for st in rows}
    return render_template(
        "work/statements.html",
        rows=rows,
        titles=titles,
        draftable=draftable,
        periods=[(p, period_label(p)) for p in periods],
        statement_states=statement_states(),
    )


@work_bp.route("/accounts/new", methods=["POST"])
@requires("disclosures")
def new_statement() -> Any:
    node = OrgNode.get_or_none(OrgNode.key == request.form.get("node", ""))
    if node is None:
        flash(_("Choose a compound."), "error")
        return redirect(url_for("work.statements"), 303)
    try:
        st = d.start(
            g.actor,
            request.form.get("definition", ""),
            node,
            request.form.get("period") or None,
            now=clock.now(),
        )
    except ServiceError as exc:
        flash(exc.message, "error")
        return redirect(url_for("work.statements"), 303)
    return redirect(url_for("work.statement_page", statement_id=st.id), 303)


def _staff_page(st: Statement, status: int = 200, **extra: Any) -> Any:
    body = d.body_of(st)
    schema = body.get("schema") or {"type": "object", "properties": {}}
    editable = st.state in d.EDITABLE and d.may_draft(g.actor, body, st.node_path)
    return render_template(
        "work/statement.html",
        **view_context(st),
        editable=editable,
        confirming=st.state == "submitted" and d.may_confirm(g.actor, body, st.node_path),
        correctable=st.state == "published"
        and d.may_draft(g.actor, body, st.node_path)
        and not Statement.select().where(Statement.previous == st).exists(),
        asked=questions.questions_of(st),
        bound=extra.pop("bound", None)
        or (
            bind(schema, {}, data=st.data or {}) if editable and schema.get("properties") else None
        ),
        yuan=yuan_text,
        statement_states=statement_states(),
        field_labels=field_labels(),
        values=extra.pop("values", {}),
        problems=extra.pop("problems", {}),
        **extra,
    ), status


@work_bp.route("/accounts/<int:statement_id>")
@requires("disclosures")
def statement_page(statement_id: int) -> Any:
    return _staff_page(d.get_statement(g.actor, statement_id))


def _act(statement_id: int, action: Any, done: str) -> Any:
    """Run one change of a statement; a refusal shows the page again with what was typed."""
    st = d.get_statement(g.actor, statement_id)
    try:
        result = action(st)
    except Invalid as exc:
        return _staff_page(
            st,
            422,
            values=request.form,
            problems={p.path: p.message for p in exc.fields},
            failed=request.endpoint,
        )
    except ServiceError as exc:
        flash(exc.message, "error")
        return redirect(url_for("work.statement_page", statement_id=st.id), 303)
    flash(done)
    target = result.id if isinstance(result, Statement) else st.id
    return redirect(url_for("work.statement_page", statement_id=target), 303)


@work_bp.route("/accounts/<int:statement_id>/lines", methods=["POST"])
@requires("disclosures")
def add_line(statement_id: int) -> Any:
    return _act(
        statement_id,
        lambda st: d.add_line(g.actor, st, request.form, now=clock.now()),
        _("Line added."),
    )


@work_bp.route("/accounts/<int:statement_id>/lines/<line_id>", methods=["POST"])
@requires("disclosures")
def update_line(statement_id: int, line_id: str) -> Any:
    return _act(
        statement_id,
        lambda st: d.update_line(g.actor, st, line_id, request.form, now=clock.now()),
        _("Line saved."),
    )


@work_bp.route("/accounts/<int:statement_id>/lines/<line_id>/remove", methods=["POST"])
@requires("disclosures")
def remove_line(statement_id: int, line_id: str) -> Any:
    return _act(
        statement_id,
        lambda st: d.remove_line(g.actor, st, line_id, now=clock.now()),
        _("Line removed."),
    )


@work_bp.route("/accounts/<int:statement_id>/submit", methods=["POST"])
@requires("disclosures")
def submit_statement(statement_id: int) -> Any:
    return _act(
        statement_id,
        lambda st: d.submit(g.actor, st, now=clock.now()),
        _("Sent to the owners' committee for confirmation."),
    )


@work_bp.route("/accounts/<int:statement_id>/confirm", methods=["POST"])
@requires("disclosures")
def confirm_statement(statement_id: int) -> Any:
    return _act(
        statement_id,
        lambda st: d.confirm(g.actor, st, now=clock.now()),
        _("Confirmed and published to the residents."),
    )


@work_bp.route("/accounts/<int:statement_id>/return", methods=["POST"])
@requires("disclosures")
def return_statement(statement_id: int) -> Any:
    return _act(
        statement_id,
        lambda st: d.give_back(g.actor, st, request.form.get("reason", ""), now=clock.now()),
        _("Returned with your reasons."),
    )


@work_bp.route("/accounts/<int:statement_id>/correct", methods=["POST"])
@requires("disclosures")
def correct_statement(statement_id: int) -> Any:
    return _act(
        statement_id,
        lambda st: d.correct(g.actor, st, request.form.get("reason", ""), now=clock.now()),
        _("A correction was started; the published statement stays until it is confirmed."),
    )


@work_bp.route("/accounts/<int:statement_id>/data", methods=["POST"])
@requires("disclosures")
def statement_data(statement_id: int) -> Any:
    st = d.get_statement(g.actor, statement_id)
    body = d.body_of(st)
    if st.state not in d.EDITABLE or not d.may_draft(g.actor, body, st.node_path):
        abort(403)  # before bind(): a refused request stores none of its files
    bound = bind(body.get("schema") or {"type": "object", "properties": {}}, {})

    def save(data: dict[str, Any]) -> Any:
        d.set_data(g.actor, st, data, now=clock.now())
        flash(_("Saved."))
        return redirect(url_for("work.statement_page", statement_id=st.id), 303)

    result, loose = submit(bound, save)
    if result is not None:
        return result
    return _staff_page(st, 422 if is_submit(bound) else 200, bound=bound, loose=loose)


@resident_bp.app_template_filter("when")
def when(value: Any) -> str:
    """A time as people write it: 12月3日 09:15 (the lead unifies resident date filters)."""
    local = clock.local(value)
    if local is None:
        return ""
    return _(
        "%(month)s/%(day)s %(time)s", month=local.month, day=local.day, time=local.strftime("%H:%M")
    )


@resident_bp.app_template_filter("yuan")
def yuan(cents: Any) -> str:
    """Cents as ¥1,234.50."""
    return reading.format_cents(int(cents or 0))


def shown_answers(body: dict[str, Any], data: dict[str, Any]) -> list[dict[str, Any]]:
    """The answers as a reader sees them: labels, option titles, times as people write them."""
    out = []
    for spec in forms.field_specs(body["schema"]):
        value = data.get(spec.name)
        if value in (None, "", []):
            continue
        if spec.kind == "datetime" and isinstance(value, str):
            try:
                parsed = dt.datetime.fromisoformat(value)
            except ValueError:
                shown: Any = value
            else:
                utc = parsed.astimezone(dt.UTC).replace(tzinfo=None) if parsed.tzinfo else parsed
                shown = when(utc)
        elif spec.kind in ("photo", "file"):
            shown = list(value)
        elif isinstance(value, list):
            shown = "、".join(str(v) for v in value)
        else:
            shown = dict(spec.options or []).get(value, value)
        out.append({"label": spec.label, "kind": spec.kind, "value": shown})
    return out
