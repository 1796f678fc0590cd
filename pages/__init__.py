"""The web app: Flask app factory, one blueprint per audience."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask

from engine.core import memo
from engine.store.db import database, open_database
from engine.store.models import create_tables
from pages import security
from pages.templating import DictFirstEnvironment


def _secret_key(instance: Path) -> str:
    """SECRET_KEY from the environment, else one generated once per instance folder."""
    if os.environ.get("SANFANG_SECRET_KEY"):
        return os.environ["SANFANG_SECRET_KEY"]
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _init_attachments(app: Flask) -> None:
    """The attachment store every host shares: ATTACHMENT_STORE ("db", "disk", "s3"),
    else SANFANG_ATTACHMENTS, else the database on PostgreSQL and disk on SQLite."""
    from engine.store.storage import configured, default_kind, s3_settings

    app.config.setdefault("S3", s3_settings(os.environ))
    if not app.config.get("ATTACHMENT_STORE"):
        app.config["ATTACHMENT_STORE"] = default_kind(os.environ)
    app.extensions["sanfang.attachments"] = configured(app.config)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app; ``config`` overrides (tests pass DATABASE_URL, TESTING ...)."""
    app = Flask(__name__, instance_path=os.environ.get("SANFANG_INSTANCE", None))
    app.jinja_environment = DictFirstEnvironment
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(
        DATABASE_URL=os.environ.get(
            "DATABASE_URL", f"sqlite:///{Path(app.instance_path) / 'sanfang.db'}"
        ),
        UPLOAD_DIR=str(Path(app.instance_path) / "uploads"),
        MAX_CONTENT_LENGTH=40 * 1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        BABEL_DEFAULT_LOCALE="zh_CN",
        BABEL_DEFAULT_TIMEZONE="Asia/Shanghai",
        WTF_CSRF_TIME_LIMIT=None,
        # `sanfang run` and `make run` sweep deadlines in a background thread; tests,
        # gunicorn and cron-driven deployments leave it off unless the env says so.
        BACKGROUND_SWEEP=os.environ.get("SANFANG_BACKGROUND_SWEEP", "") in ("1", "true", "yes"),
        SWEEP_INTERVAL=float(os.environ.get("SANFANG_SWEEP_INTERVAL", "60")),
        FACTS_INTERVAL=float(os.environ.get("SANFANG_FACTS_INTERVAL", "300")),
        FACTS_MAX_AGE=float(os.environ.get("SANFANG_FACTS_MAX_AGE", "3600")),
        # Supervisors' statistics (the evaluation, /review/'s medians) are worked out again
        # at most this often per grants and period; the pages say when they were.
        STATISTICS_MAX_AGE=float(os.environ.get("SANFANG_STATISTICS_MAX_AGE", "300")),
        BACKGROUND_DELIVERY=os.environ.get("SANFANG_BACKGROUND_DELIVERY", "")
        in ("1", "true", "yes"),
        DELIVERY_INTERVAL=5,
        **security.defaults(),
    )
    if config:
        app.config.from_mapping(config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(Path(app.instance_path))
    open_database(app.config["DATABASE_URL"], pool=app.config.get("DATABASE_POOL", True))
    _init_attachments(app)
    if app.config.get("CREATE_TABLES", True):
        with database.connection_context():
            create_tables()
        # No pooled connection survives the start: a server that forks its workers after
        # loading the app (gunicorn --preload) would share it between them.
        if hasattr(database.obj, "close_all"):
            database.obj.close_all()

    from pages import extensions, guards, layout, timeline

    extensions.init_app(app)
    timeline.init_app(app)
    layout.init_app(app)
    guards.init_app(app)  # before the blueprints: their <int:...> rules use its converter

    @app.before_request
    def _connect() -> None:
        memo.begin()
        database.connect(reuse_if_open=True)

    @app.teardown_request
    def _close(exc: BaseException | None) -> None:
        memo.end()
        if not database.is_closed():
            database.close()

    from pages import (
        admin,
        api,
        auth,
        checklists,
        designer,
        directories,  # noqa: F401  (its routes are on /work)
        errors,
        imports,
        meetings,
        open311,
        opinions,
        polls,
        resident,
        review,
        work,
    )

    for module in (
        auth,
        work,
        resident,
        review,
        checklists,
        polls,
        imports,
        admin,
        designer,
        api,
        open311,
    ):
        app.register_blueprint(module.bp)
    for blueprint in (meetings.bp, opinions.bp, opinions.resident_bp):
        app.register_blueprint(blueprint)
    errors.init_app(app)
    security.init_app(app)
    # Made now, not at the first unknown username (which would then take twice as long).
    from engine.accounts.users import dummy_hash

    dummy_hash()
    from pages.cli import register

    register(app)
    from pages import sweeper

    sweeper.init_app(app)
    if app.config["BACKGROUND_DELIVERY"] and not app.config.get("TESTING"):
        from pages.background import start_delivery

        start_delivery(app)
    return app
