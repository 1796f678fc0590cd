"""The settings tab of a definition kind edited by one form (a vote's, a directory's): GET shows
the draft, POST applies the form to it and saves it (303 back to the tab), a refused form comes
back with its problems named by field (422)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from engine.authoring import designer
from engine.core import clock
from engine.core.errors import FieldProblem, Invalid, NotFound
from pages.designer import pack_roles, tabs_context
from pages.designer.publishing import _problems

Apply = Callable[[dict[str, Any], MultiDict[str, str]], None]


def kind_tab(
    key: str,
    kind: str,
    apply: Apply,
    endpoint: str,
    template: str,
    extra: Callable[[dict[str, Any]], dict[str, Any]],
) -> Any:
    """Serve the tab of ``key`` (which must be of ``kind``); ``extra`` adds the template's own
    context from the draft's body."""
    definition = designer.definition_of(key)
    if definition.kind != kind:
        raise NotFound(f"{key!r} is not a {kind} definition")
    body = designer.draft_of(definition)
    error: list[FieldProblem] = []
    if request.method == "POST":
        try:
            apply(body, request.form)
            designer.save_draft(g.actor.user, key, body, now=clock.now())
        except Invalid as exc:
            error = exc.fields
        else:
            flash(_("The draft was saved."))
            return redirect(url_for(endpoint, key=key), 303)
    return render_template(
        template,
        **tabs_context(definition),
        body=body,
        roles=pack_roles(),
        **extra(body),
        error=[{"path": p.path, "message": p.message, "link": "", "what": ""} for p in error],
        problems=[] if error else _problems(key, body),
    ), (422 if error else 200)
