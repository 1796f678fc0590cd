"""/admin/designer/calendar — the pack's working calendar as a form (district admins only)."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from engine.authoring.calendar_form import calendar_of, save_calendar
from engine.core import clock
from engine.core.errors import Invalid
from engine.store.models import Pack
from pages.auth import requires
from pages.designer import bp

BLANK_ROWS = 3


def _rows(form: MultiDict[str, str], prefix: str, names: tuple[str, ...]) -> list[dict[str, str]]:
    rows, k = [], 0
    while f"{prefix}-{k}-{names[0]}" in form:
        row = {n: form.get(f"{prefix}-{k}-{n}", "").strip() for n in names}
        k += 1
        if row[names[0]] and not form.get(f"{prefix}-{k - 1}-delete"):
            rows.append(row)
    return rows


def posted_calendar(form: MultiDict[str, str], old: dict[str, Any]) -> dict[str, Any]:
    """The calendar the form describes; what it does not show (weekend days, several office
    periods, the source) is kept."""
    spec = dict(old)
    spec["kind"] = "workdays" if form.get("kind") == "workdays" else "natural"
    holidays = []
    for row in _rows(form, "h", ("from", "to", "name")):
        holiday = {"from": row["from"], "to": row["to"] or row["from"]}
        if row["name"]:
            holiday["name"] = row["name"]
        holidays.append(holiday)
    spec["holidays"] = holidays
    spec["workdays"] = [row["day"] for row in _rows(form, "w", ("day",))]
    opens, closes = form.get("opens", "").strip(), form.get("closes", "").strip()
    if (
        opens
        and closes
        and not (
            isinstance(old.get("office_hours"), list)
            and old["office_hours"]
            and isinstance(old["office_hours"][0], list)
        )
    ):
        spec["office_hours"] = [opens, closes]
    for name in ("holidays", "workdays"):
        if not spec[name]:
            spec.pop(name)
    return spec


@bp.route("/calendar/<pack>", methods=["GET", "POST"])
@requires("design")
def calendar(pack: str) -> Any:
    """Holidays, make-up workdays and office hours of the pack's working calendar."""
    old = calendar_of(pack)
    spec, problems = old, []
    if request.method == "POST":
        spec = posted_calendar(request.form, old)
        try:
            save_calendar(g.actor.user, pack, spec, now=clock.now())
        except Invalid as exc:
            problems = [
                {"path": "", "what": "", "link": "", "message": p.message} for p in exc.fields
            ]
        else:
            flash(_("The calendar was saved."))
            return redirect(url_for("designer.calendar", pack=pack), 303)
    office = spec.get("office_hours") or ["09:00", "17:30"]
    single = isinstance(office[0], str)
    return render_template(
        "designer/calendar.html",
        pack=Pack.get(Pack.key == pack),
        spec=spec,
        holidays=[*spec.get("holidays", []), *[{}] * BLANK_ROWS],
        workdays=[*spec.get("workdays", []), *[""] * BLANK_ROWS],
        opens=office[0] if single else "",
        closes=office[1] if single else "",
        several=not single,
        problems=problems,
    ), (422 if problems else 200)
