"""An index's snapshot schedule (三方强基指数 trend), set without JSON: none (snapshots only by
``sanfang index snapshot``), monthly or weekly — the sweep then takes one per period."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from engine.authoring import designer
from engine.core import clock
from pages.auth import requires
from pages.designer import bp

SCHEDULES = {
    "": _l("Only when taken by hand"),
    "monthly": _l("Every month, by the sweep"),
    "weekly": _l("Every week, by the sweep"),
}


def schedule_of(body: dict[str, Any]) -> str | None:
    """The index's schedule for the form ("" for none); None for other kinds."""
    return str(body.get("snapshot", "")) if body.get("kind") == "index" else None


@bp.route("/<key>/snapshot", methods=["POST"])
@requires("design")
def snapshot_schedule(key: str) -> Any:
    definition = designer.definition_of(key)
    body = designer.draft_of(definition)
    if body.get("kind") != "index":
        abort(404)
    if not designer.may_edit(g.actor, body):
        abort(403)
    chosen = request.form.get("snapshot", "")
    if chosen not in SCHEDULES:
        flash(_("Snapshot schedule: choose one of the options."), "error")
        return redirect(url_for("designer.json_view", key=key), 303)
    if chosen:
        body["snapshot"] = chosen
    else:
        body.pop("snapshot", None)
    designer.save_draft(g.actor.user, key, body, now=clock.now())
    flash(_("The draft was saved."))
    return redirect(url_for("designer.json_view", key=key), 303)
