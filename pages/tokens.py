"""/admin/tokens — the API tokens of the users an admin administers, with revoke."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, url_for
from flask_babel import gettext as _

from engine.accounts import tokens
from engine.core import clock
from engine.store.db import database
from pages.admin import bp
from pages.auth import requires


@bp.route("/tokens")
@requires("tokens")
def token_list() -> Any:
    """A district admin sees every token; a street admin those of users within its street."""
    return render_template(
        "admin/tokens.html", rows=tokens.tokens_for_admin(g.actor, now=clock.now())
    )


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@requires("tokens")
def token_revoke(token_id: int) -> Any:
    with database.atomic():
        row = tokens.revoke_token(token_id, now=clock.now(), by=g.actor)
    flash(_("Token %(label)s of %(name)s revoked.", label=row.label or f"#{row.id}", name=row.name))
    return redirect(url_for("admin.token_list"), 303)
