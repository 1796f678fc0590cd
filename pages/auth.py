"""Login, logout, the current actor, and role checks for every route."""

from __future__ import annotations

import datetime as dt
import functools
import io
import unicodedata
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit, urlunsplit

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

from engine.accounts import logins
from engine.accounts.users import Limits, Throttled, authenticate
from engine.core import clock
from engine.delivery.notify import remember_unread, unread_count, unread_query
from engine.org import permissions
from engine.org.actors import Actor, actor_for, is_root
from engine.org.scope import (
    packs_stamp_columns,
    remember_packs_stamp,
    remember_roots,
    role_labels,
    roots_column,
)
from engine.records.attachments import clean_filename, open_for, sniff
from engine.store.models import User
from pages.extensions import attachment_store

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
    ("partner", "work.cobuild"),
)


class LoginForm(FlaskForm):
    username = StringField("username", validators=[DataRequired(), Length(max=80)])
    password = PasswordField("password", validators=[DataRequired(), Length(max=200)])


@bp.before_app_request
def load_actor() -> None:
    """The session's user: the cookie names a session row, which must still be live."""
    g.user = None
    g.actor = None
    key = session.get("sid")
    if isinstance(key, str):
        # What every page shows or needs is read along with the session: the header's
        # unread count, the packs' stamp (their role settings are kept between requests),
        # and whether the org tree has one root (the scope's ``is_only_root``).
        actor, along = logins.session_actor(key, now=clock.now(), extra=_along, name="page")
        if actor is not None:
            remember_unread(actor.user.id, int(along[0]))
            remember_packs_stamp(tuple(along[1:3]))
            remember_roots(int(along[3]))
            g.user = actor.user
            g.actor = actor


def _along() -> tuple[Any, ...]:
    """The columns ``load_actor`` reads along with the session (built once per process)."""
    return (unread_query(User.id).alias("unread"), *packs_stamp_columns(), roots_column())


@bp.app_context_processor
def inject_user() -> dict[str, Any]:
    actor: Actor | None = g.get("actor")
    return {
        "actor": actor,
        "unread": unread_count(actor.user) if actor else 0,
        "nav_roles": actor.roles if actor else set(),
        "nav": navigation(actor),
        "role_labels": role_labels(),
    }


STAFF_ROLES = frozenset(permissions.roles_of("work"))
# The header's links, each shown to who holds the capability behind it somewhere.
NAV = {
    "work": "work",
    "resident": "resident",
    "review": "supervise",
    "evaluation": "evaluation",
    "live": "live",
    "dashboards": "dashboards",
    "lists": "lists.view",
    "roster": "roster.view",
    "polls": "polls.view",
    "decisions": "decisions",
    "accounts": "disclosures",
    "cobuild": "cobuild",
    "directories": "directories",
    "imports": "import",
    "admin": "admin",
}


_NAV_BY_GRANTS: dict[frozenset[tuple[str, bool]], dict[str, bool]] = {}


def navigation(actor: Actor | None) -> dict[str, bool]:
    """Which audience areas the header links to (engine/org/permissions.py decides).

    Without a node, a capability depends only on the roles held and whether at the root:
    the links are worked out once per such set of grants.
    """
    if actor is None:
        return {link: False for link in NAV}
    grants = frozenset((g.role, is_root(g.node_path)) for g in actor.grants)
    links = _NAV_BY_GRANTS.get(grants)
    if links is None:
        links = {link: permissions.can(actor, key) for link, key in NAV.items()}
        if len(_NAV_BY_GRANTS) > 1000:
            _NAV_BY_GRANTS.clear()
        _NAV_BY_GRANTS[grants] = links
    return dict(links)


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


def requires(capability: str) -> Callable[[F], F]:
    """Logged in and holding ``capability`` somewhere (engine/org/permissions.py); else 403.

    The page narrows what it shows to the nodes where the actor holds it. The view keeps
    the capability's name (``view.capability``) for the route walk in the tests.
    """
    key = capability
    roles = permissions.roles_of(key)

    def decorate(view: F) -> F:
        @functools.wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not permissions.can(g.actor, key):
                abort(403)
            return view(*args, **kwargs)

        wrapped.capability = key  # type: ignore[attr-defined]
        wrapped.roles = roles  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorate


def _invisible(char: str) -> bool:
    """A control, format or whitespace character (Unicode categories C* and Z*)."""
    return unicodedata.category(char)[0] in "CZ"


def safe_next(target: str | None) -> str | None:
    r"""``target`` if it is a path on this site, else None: the one check for every redirect
    whose target comes from the request (``next=``, a form field, the Referer).

    A browser reads ``//host``, ``/\host`` and ``/<tab>/host`` (it drops tabs and newlines,
    and treats a backslash as a slash) as another site; so only a plain absolute path with
    no control character, whitespace or backslash passes, and only if it still starts
    like one after percent-decoding.
    """
    if not target or len(target) > 2000:
        return None
    if "\\" in target or any(_invisible(c) for c in target):
        return None
    decoded = "".join(c for c in unquote(target) if not _invisible(c))
    if any(not t.startswith("/") or t[1:2] in ("/", "\\") for t in (target, decoded)):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def back_to_referrer(default: str) -> Any:
    """Redirect (303) to the page the request came from if it is on this site, else ``default``."""
    referrer = request.referrer or ""
    parts = urlsplit(referrer)
    if parts.scheme in ("http", "https") and parts.netloc == request.host:
        referrer = urlunsplit(("", "", parts.path, parts.query, ""))
    return redirect(safe_next(referrer) or default, 303)


@bp.route("/")
def index() -> Any:
    if g.get("actor") is None:
        return redirect(url_for("auth.login"))
    return redirect(home_for(g.actor))


def login_limits() -> Limits:
    config = current_app.config
    return Limits(
        per_account=config["LOGIN_MAX_ATTEMPTS"],
        per_address=config["LOGIN_MAX_ATTEMPTS_PER_ADDRESS"],
        window=dt.timedelta(minutes=config["LOGIN_WINDOW_MINUTES"]),
    )


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = LoginForm()
    error, status = None, 200
    if form.validate_on_submit():
        address = request.remote_addr or ""
        now = clock.now()
        try:
            user = authenticate(
                form.username.data or "",
                form.password.data or "",
                address=address,
                now=now,
                limits=login_limits(),
            )
        except Throttled:
            user, status = None, 429
            error = _(
                "Too many failed attempts. Try again in %(minutes)s minutes.",
                minutes=current_app.config["LOGIN_WINDOW_MINUTES"],
            )
        if user is not None:
            session.clear()
            lifetime = dt.timedelta(hours=current_app.config["SESSION_HOURS"])
            session["sid"] = logins.start_session(user, address=address, now=now, lifetime=lifetime)
            g.actor = actor_for(user)
            target = safe_next(request.args.get("next")) or home_for(g.actor)
            return redirect(target, 303)
        error = error or _("Wrong username or password.")
    if request.method == "POST" and status == 200:
        status = 401
    response = current_app.make_response(
        (render_template("auth/login.html", form=form, error=error), status)
    )
    if status == 429:
        response.headers["Retry-After"] = str(current_app.config["LOGIN_WINDOW_MINUTES"] * 60)
    return response


@bp.route("/logout", methods=["POST"])
def logout() -> Any:
    """End the session on the server too: a copy of the cookie no longer logs anyone in."""
    key = session.get("sid")
    if isinstance(key, str):
        logins.end_session(key, now=clock.now())
    session.clear()
    flash(_("You have logged out."))
    return redirect(url_for("auth.login"), 303)


@bp.route("/files/<public_id>")
@login_required
def file(public_id: str) -> Any:
    attachment, data = open_for(g.actor, public_id, store=attachment_store())
    # The type the bytes are, and a clean name, for files stored before uploads were checked too.
    kind = sniff(data) or "application/octet-stream"
    return send_file(
        io.BytesIO(data),
        mimetype=kind,
        download_name=clean_filename(attachment.filename),
        as_attachment=not kind.startswith("image/"),
        etag=attachment.sha256,
        last_modified=attachment.created_at,
    )


from pages import notifications as _notifications  # noqa: F401  (routes on this blueprint)
