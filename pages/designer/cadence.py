"""A meeting definition's cadence (例会周期) as a form on the form builder's page: a select of
the period (or none: held when needed) and how many meetings a period asks for."""

from __future__ import annotations

from typing import Any

from flask import abort, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from engine.authoring import designer
from engine.core import clock
from engine.definitions.checks_decisions import MAX_COUNT
from pages.auth import requires
from pages.designer import bp
from pages.designer.formbuilder import builder_context

PERIODS = {
    "": _l("When needed (no fixed cadence)"),
    "month": _l("Monthly"),
    "quarter": _l("Quarterly"),
    "half": _l("Every half year"),
    "year": _l("Yearly"),
}


def cadence_context(body: dict[str, Any]) -> dict[str, Any]:
    """What the cadence card shows: the choices and the definition's cadence."""
    found = body.get("cadence") if isinstance(body.get("cadence"), dict) else {}
    return {
        "cadence_periods": PERIODS,
        "cadence_period": found.get("period", ""),
        "cadence_count": found.get("count", 1),
    }


def _posted(form: Any) -> tuple[dict[str, Any] | None, str | None]:
    period = form.get("period", "")
    if period not in PERIODS:
        return None, _("Cadence: choose one of the periods offered.")
    if not period:
        return None, None
    raw = (form.get("count") or "1").strip()
    most = MAX_COUNT[period]
    if not raw.isdigit() or not 1 <= int(raw) <= most:
        return None, _("Meetings per period: a whole number from 1 to %(most)s.", most=most)
    count = int(raw)
    return ({"period": period} if count == 1 else {"period": period, "count": count}), None


@bp.route("/<key>/cadence", methods=["POST"])
@requires("design")
def cadence(key: str) -> Any:
    definition = designer.definition_of(key)
    if definition.kind != "meeting":
        abort(404)
    value, error = _posted(request.form)
    if error:
        context = builder_context(key, "main")
        context.update(cadence_context(designer.draft_of(definition)))
        context.update(
            cadence_error=error,
            cadence_period=request.form.get("period", ""),
            cadence_count=request.form.get("count", ""),
        )
        return render_template("designer/form.html", **context), 422

    def change(body: dict[str, Any]) -> None:
        if value is None:
            body.pop("cadence", None)
        else:
            body["cadence"] = value

    designer.edit_draft(g.actor.user, key, change, now=clock.now())
    return redirect(url_for("designer.form_builder", key=key) + "#cadence", 303)
