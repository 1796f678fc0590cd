"""/admin/webhooks — endpoints (add, edit, disable) and their deliveries (see, retry)."""

from __future__ import annotations

import json
import re
from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import Length

from engine.core import clock
from engine.core.errors import FieldProblem, Invalid
from engine.core.events import EVENTS
from engine.delivery import webhooks
from pages.admin import bp
from pages.auth import requires


class EndpointForm(FlaskForm):
    key = StringField("key", validators=[Length(max=80)])
    url = StringField("url", validators=[Length(max=1000)])
    events = StringField("events", default="notification item.*", validators=[Length(max=500)])
    secret = PasswordField("secret", validators=[Length(max=200)])
    secret_env = StringField("secret_env", validators=[Length(max=120)])
    description = StringField("description", validators=[Length(max=500)])
    active = BooleanField("active", default=True)
    scope = SelectField("scope", choices=[], validate_choice=False)
    personal = BooleanField("personal", default=False)


def _values(form: EndpointForm) -> dict[str, Any]:
    return {
        "key": (form.key.data or "").strip(),
        "url": (form.url.data or "").strip(),
        "events": [e for e in re.split(r"[\s,，]+", form.events.data or "") if e],
        "secret": form.secret.data or "",
        "secret_env": (form.secret_env.data or "").strip(),
        "description": form.description.data or "",
        "active": bool(form.active.data),
        "scope": form.scope.data or "",
        "personal": bool(form.personal.data),
    }


def _scope_choices(form: EndpointForm) -> None:
    choices = [(n.key, n.name) for n in webhooks.scope_choices(g.actor)]
    if webhooks.is_district_admin(g.actor) and choices:
        choices[0] = ("", _("The whole district"))
    form.scope.choices = choices


@bp.route("/webhooks")
@requires("webhooks")
def webhook_list() -> Any:
    return render_template("admin/webhooks.html", rows=webhooks.endpoints_with_counts(g.actor))


@bp.route("/webhooks/new", methods=["GET", "POST"])
@bp.route("/webhooks/<key>/edit", methods=["GET", "POST"])
@requires("webhooks")
def webhook_edit(key: str | None = None) -> Any:
    endpoint = webhooks.endpoint_by_key(g.actor, key) if key else None
    form = EndpointForm()
    _scope_choices(form)
    problems: list[FieldProblem] = []
    if request.method == "GET" and endpoint is not None:
        form.url.data, form.secret_env.data = endpoint.url, endpoint.secret_env
        form.events.data = " ".join(endpoint.events)
        form.description.data, form.active.data = endpoint.description, endpoint.active
        form.scope.data = endpoint.scope.key if endpoint.scope_id else ""
        form.personal.data = endpoint.personal
    if form.validate_on_submit():
        try:
            saved = webhooks.save_endpoint(g.actor, key, _values(form), now=clock.now())
        except Invalid as exc:
            problems = exc.fields
        else:
            flash(_("Saved."))
            return redirect(url_for("admin.webhook", key=saved.key), 303)
    status = 422 if problems else 200
    return render_template(
        "admin/webhook_form.html",
        form=form,
        endpoint=endpoint,
        events=EVENTS,
        district=webhooks.is_district_admin(g.actor),
        problems={p.path: p.message for p in problems},
    ), status


@bp.route("/webhooks/<key>/active", methods=["POST"])
@requires("webhooks")
def webhook_active(key: str) -> Any:
    active = request.form.get("active") == "1"
    webhooks.set_active(g.actor, key, active, now=clock.now())
    flash(_("Enabled.") if active else _("Disabled."))
    return redirect(url_for("admin.webhook", key=key), 303)


@bp.route("/webhooks/<key>")
@requires("webhooks")
def webhook(key: str) -> Any:
    endpoint = webhooks.endpoint_by_key(g.actor, key)
    status = request.args.get("status")
    return render_template(
        "admin/webhook.html",
        endpoint=endpoint,
        status=status,
        rows=webhooks.deliveries(endpoint, status),
        counts=webhooks.endpoints_with_counts_for(endpoint),
    )


@bp.route("/deliveries/<int:delivery_id>")
@requires("webhooks")
def delivery(delivery_id: int) -> Any:
    found, attempts = webhooks.delivery_detail(g.actor, delivery_id)
    body = json.dumps(found.message.payload, ensure_ascii=False, indent=2)
    return render_template("admin/delivery.html", delivery=found, attempts=attempts, body=body)


@bp.route("/deliveries/<int:delivery_id>/retry", methods=["POST"])
@requires("webhooks")
def delivery_retry(delivery_id: int) -> Any:
    found = webhooks.retry(g.actor, delivery_id, now=clock.now())
    flash(_("Delivery %(id)s will be sent again.", id=delivery_id))
    return redirect(url_for("admin.delivery", delivery_id=found.id), 303)
