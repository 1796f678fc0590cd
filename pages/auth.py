"""Login, logout, the current actor, and role checks for every route."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from engine import clock
from engine.actors import Actor, active_actor, actor_for
from engine.attachments import open_for
from engine.notify import unread_count
from engine.scope import role_labels
from engine.users import Throttled, authenticate

bp = Blueprint("auth", __name__)
F = TypeVar("F", bound=Callable[..., Any])

HOME_BY_ROLE = (
    ("admin", "admin.index"),
    ("supervisor", "review.index"),
    ("commissioner", "work.inbox"),
    ("department", "work.inbox"),
    ("party", "work.inbox"),
    ("committee", "work.inbox"),
    ("property", "work.inbox"),
    ("resident", "resident.home"),
)


class LoginForm(FlaskForm):
    username = StringField("username", validators=[DataRequired(), Length(max=80)])
    password = PasswordField("password", validators=[DataRequired(), Length(max=200)])


@bp.before_app_request
def load_actor() -> None:
    g.user = None
    g.actor = None
    user_id = session.get("user_id")
    if user_id is not None:
        actor = active_actor(user_id)
        if actor is not None:
            g.user = actor.user
            g.actor = actor


@bp.app_context_processor
def inject_user() -> dict[str, Any]:
    actor: Actor | None = g.get("actor")
    return {
        "actor": actor,
        "unread": unread_count(actor.user) if actor else 0,
        "nav_roles": actor.roles if actor else set(),
        "nav": navigation(actor.roles if actor else set()),
        "role_labels": role_labels(),
    }


STAFF_ROLES = frozenset(("commissioner", "party", "committee", "property", "department", "supervisor", "admin"))


def navigation(roles: set[str]) -> dict[str, bool]:
    """Which audience areas the header links to."""
    return {
        "work": bool(roles & STAFF_ROLES),
        "resident": "resident" in roles,
        "review": bool(roles & {"supervisor", "admin"}),
        "evaluation": bool(roles & {"supervisor", "admin", "department"}),
        "dashboards": bool(roles & {"supervisor", "admin", "commissioner"}),
        "lists": bool(roles & {"commissioner", "party", "committee", "property", "supervisor", "admin"}),
        "imports": bool(roles & {"supervisor", "admin"}),
        "admin": "admin" in roles,
    }


def home_for(actor: Actor) -> str:
    for role, endpoint in HOME_BY_ROLE:
        if role in actor.roles:
            return url_for(endpoint)
    return url_for("auth.notifications")


def login_required(view: F) -> F:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.get("actor") is None:
            return redirect(url_for("auth.login", next=request.full_path))
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def roles_required(*roles: str) -> Callable[[F], F]:
    """Logged in and holding at least one of ``roles`` somewhere; else 403."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not g.actor.roles & set(roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate


def _safe_next(target: str | None) -> str | None:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return None


@bp.route("/")
def index() -> Any:
    if g.get("actor") is None:
        return redirect(url_for("auth.login"))
    return redirect(home_for(g.actor))


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        try:
            user = authenticate(form.username.data or "", form.password.data or "", now=clock.now())
        except Throttled:
            user, error = None, _("Too many failed attempts. Try again in 15 minutes.")
        if user is not None:
            session.clear()
            session["user_id"] = user.id
            g.actor = actor_for(user)
            target = _safe_next(request.args.get("next")) or home_for(g.actor)
            return redirect(target, 303)
        error = error or _("Wrong username or password.")
    status = 401 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form, error=error), status


@bp.route("/logout", methods=["POST"])
def logout() -> Any:
    session.clear()
    flash(_("You have logged out."))
    return redirect(url_for("auth.login"), 303)


@bp.route("/files/<public_id>")
@login_required
def file(public_id: str) -> Any:
    attachment, path = open_for(g.actor, public_id, root=current_app.config["UPLOAD_DIR"])
    return send_file(path, mimetype=attachment.content_type, download_name=attachment.filename,
                     as_attachment=not attachment.content_type.startswith("image/"))


from pages import notifications as _notifications  # noqa: F401  (routes on this blueprint)
