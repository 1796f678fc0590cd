"""The `sanfang` command: init, pack, demo, user, token, sweep, deliver, facts, index,
attachments, backup, restore."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext

from engine.core import clock
from engine.core.errors import ServiceError
from engine.store.db import database

DEFAULT_PACK = Path(__file__).resolve().parent.parent / "seed" / "gongshu"


def register(app: Flask) -> None:
    from pages.cli_storage import attachments, backup, restore

    for command in (
        init,
        pack,
        demo,
        user,
        token,
        accounts,
        sweep,
        deliver,
        facts,
        index,
        attachments,
        backup,
        restore,
    ):
        app.cli.add_command(command)


@click.command("init")
@click.option("--pack", "pack_path", default=str(DEFAULT_PACK), show_default=True)
@with_appcontext
def init(pack_path: str) -> None:
    """Create the tables and load the seed pack (idempotent)."""
    from engine.store.models import create_tables

    with database.connection_context():
        create_tables()
        loaded = _load(pack_path)
    click.echo(f"database ready; pack {loaded.key} {loaded.version} loaded")


def _load(path: str) -> Any:
    """Load a pack or exit 1 with one `path: message` line per mistake."""
    from engine.authoring.packs import load_pack

    try:
        return load_pack(path, now=clock.now())
    except ServiceError as exc:
        for problem in exc.fields:
            click.echo(f"{problem.path}: {problem.message}", err=True)
        sys.exit(1)


@click.group("pack")
def pack() -> None:
    """Validate, load and export scenario packs."""


@pack.command("validate")
@click.argument("path", type=click.Path())
def pack_validate(path: str) -> None:
    """Check a pack; print one `file/json/path: message` line per mistake."""
    from engine.authoring.packs import read_pack, validate_pack

    problems = validate_pack(read_pack(path))
    for line in problems:
        click.echo(line)
    if problems:
        click.echo(f"{len(problems)} problem(s)", err=True)
        sys.exit(1)
    click.echo("pack is valid", err=True)


@pack.command("load")
@click.argument("path", type=click.Path())
@with_appcontext
def pack_load(path: str) -> None:
    """Load (or update) a pack; running items keep their versions."""
    with database.connection_context():
        loaded = _load(path)
    click.echo(f"pack {loaded.key} {loaded.version} loaded")


@pack.command("export")
@click.argument("key")
@click.argument("folder", type=click.Path())
@with_appcontext
def pack_export(key: str, folder: str) -> None:
    """Write pack KEY's current definitions into FOLDER."""
    from engine.authoring.packs import export_pack

    with database.connection_context():
        files = export_pack(key)
    for name, content in files.items():
        target = Path(folder) / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(content, ensure_ascii=False, indent=2) + "\n", "utf-8")
    click.echo(f"{len(files)} files written to {folder}")


@click.command("demo")
@click.option("--compounds", default=40, show_default=True)
@click.option("--items", "item_count", default=400, show_default=True)
@click.option("--seed", default=1, show_default=True)
@click.option("--pack", "pack_path", default=str(DEFAULT_PACK), show_default=True)
@click.option(
    "--shape", is_flag=True, help="then print the district's shape (resolved share, streets)"
)
@with_appcontext
def demo(compounds: int, item_count: int, seed: int, pack_path: str, shape: bool) -> None:
    """Generate a deterministic synthetic district (idempotent for the same seed)."""
    from flask import current_app

    from engine.authoring.packs import read_pack
    from engine.decisions.polls_demo import generate_votes
    from engine.demo.demo import generate
    from engine.store.storage import configured

    with database.connection_context():
        summary = generate(
            pack_path, compounds=compounds, items=item_count, seed=seed, now=clock.now()
        )
        votes = read_pack(pack_path).demo.get("polls")
        if votes:
            store = configured(current_app.config)
            summary += "\n" + generate_votes(votes, store=store, seed=seed, now=clock.now())
        click.echo(summary)
        if shape:
            from engine.demo.demo_shape import measure

            click.echo("\n".join(measure(now=clock.now()).lines()))


@click.command("user")
@click.argument("username")
@click.option("--name", default=None)
@click.option("--password", default=None)
@click.option("--grant", "grants", multiple=True, help="ROLE@NODE_KEY, repeatable")
@with_appcontext
def user(username: str, name: str | None, password: str | None, grants: tuple[str, ...]) -> None:
    """Create or update a user and grant roles at org nodes."""
    from engine.accounts.users import upsert_user

    parsed = []
    for grant in grants:
        role, _, node = grant.partition("@")
        parsed.append({"role": role, "node": node})
    with database.connection_context():
        try:
            upsert_user(username, name or username, password, parsed, now=clock.now())
        except ServiceError as exc:
            click.echo(exc.message, err=True)
            sys.exit(1)
    click.echo(f"user {username} saved")


@click.group("token")
def token() -> None:
    """API bearer tokens."""


@token.command("create")
@click.argument("username")
@click.option("--label", default="")
@click.option(
    "--days",
    default=90,
    show_default=True,
    type=click.IntRange(1, 3650),
    help="Days until the token expires.",
)
@with_appcontext
def token_create(username: str, label: str, days: int) -> None:
    """Print a new bearer token for USERNAME (shown once; only its digest is kept)."""
    from engine.accounts.tokens import create_token

    with database.connection_context():
        try:
            click.echo(
                create_token(username, label, now=clock.now(), lifetime=dt.timedelta(days=days))
            )
        except ServiceError as exc:
            click.echo(exc.message, err=True)
            sys.exit(1)


@token.command("list")
@click.option("--user", "username", default=None, help="Only this user's tokens.")
@with_appcontext
def token_list(username: str | None) -> None:
    """List tokens: id, user, label, created, expires, last used, state (never the secret)."""
    from engine.accounts.tokens import list_tokens

    def when(value: dt.datetime | None) -> str:
        return clock.iso(value) or "-"

    with database.connection_context():
        rows = list_tokens(now=clock.now(), username=username)
    for row in rows:
        click.echo(
            "\t".join(
                (
                    str(row.id),
                    row.username,
                    row.label or "-",
                    when(row.created_at),
                    when(row.expires_at) if row.expires_at else "never",
                    when(row.last_used_at),
                    row.state,
                )
            )
        )
    click.echo(f"{len(rows)} token(s)", err=True)


@token.command("revoke")
@click.argument("token_id", type=int)
@with_appcontext
def token_revoke(token_id: int) -> None:
    """Revoke token TOKEN_ID (from `token list`); the API refuses it from now on."""
    from engine.accounts.tokens import revoke_token

    with database.connection_context():
        try:
            row = revoke_token(token_id, now=clock.now())
        except ServiceError as exc:
            click.echo(exc.message, err=True)
            sys.exit(1)
    click.echo(f"token {row.id} of {row.username} revoked")


@click.group("facts")
def facts() -> None:
    """The cached facts of every org node (docs/facts.md)."""


@facts.command("refresh")
@with_appcontext
def facts_refresh() -> None:
    """Recompute the facts of every org node with aggregate queries."""
    from engine.metrics import facts as node_facts

    with database.connection_context():
        count = node_facts.refresh(now=clock.now())
    click.echo(f"facts refreshed for {count} nodes")


@click.group("index")
def index() -> None:
    """The indices (三方强基指数): snapshots of every node's score."""


@index.command("snapshot")
@click.option("--key", "keys", multiple=True, help="index definition key (default: all)")
@with_appcontext
def index_snapshot(keys: tuple[str, ...]) -> None:
    """Record every node's score under each index's current version (from cached facts)."""
    from engine.metrics import indices

    with database.connection_context():
        taken = indices.snapshot_all(list(keys) or None, now=clock.now())
    click.echo(f"{taken} snapshots taken")


@click.command("accounts")
@click.option("--pack", "pack_path", default=str(DEFAULT_PACK), show_default=True)
def accounts(pack_path: str) -> None:
    """Print the pack's demo accounts with their roles (for demonstrations only)."""
    from engine.authoring.packs import read_pack

    files = read_pack(pack_path)
    labels = {k: v["label"] for k, v in files.manifest.get("roles", {}).items()}
    click.echo("Demo accounts (username / password — who):")
    for account in files.org.get("users", []):
        if not account.get("password"):
            continue
        roles = ", ".join(
            f"{labels.get(g['role'], g['role'])}@{g['node']}" for g in account.get("grants", [])
        )
        click.echo(
            f"  {account['username']:<28} {account['password']:<10} {account['name']} — {roles}"
        )


@click.command("sweep")
@click.option(
    "--now",
    "at",
    default=None,
    metavar="ISO",
    help="Sweep as of this time (no offset: Asia/Shanghai); default: the clock.",
)
@with_appcontext
def sweep(at: str | None) -> None:
    """Apply due deadlines and escalation once, refresh the facts if due, then take the
    indices' scheduled snapshots that are due; print the counts."""
    from engine.workflow.escalation import sweep as run_sweep

    now = clock.now()
    if at:
        try:
            parsed = dt.datetime.fromisoformat(at)
        except ValueError:
            click.echo(f"--now: not an ISO date-time: {at!r}", err=True)
            sys.exit(2)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=clock.LOCAL)
        now = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    from engine.decisions.polls import close_due
    from engine.workflow import timeouts

    with database.connection_context():
        result = run_sweep(now=now)
        closed = close_due(now=now)
        timed_out = timeouts.run(now=now)
    click.echo(
        f"sweep at {clock.iso(now)}: {result}; votes closed: {closed}; timed out: {timed_out}"
    )
    if at:  # facts computed as of another time would pass for current ones
        return
    from flask import current_app

    from engine.metrics import facts as node_facts

    with database.connection_context():
        count = node_facts.refresh_if_due(
            now=clock.now(),
            interval=current_app.config["FACTS_INTERVAL"],
            max_age=current_app.config["FACTS_MAX_AGE"],
        )
    click.echo(
        f"facts refreshed for {count} nodes"
        if count is not None
        else "facts: nothing changed, not refreshed"
    )
    from engine.metrics import indices

    with database.connection_context():
        taken = indices.snapshot_due(now=clock.now())
    click.echo(f"index snapshots taken: {taken}")


@click.command("deliver")
@with_appcontext
def deliver() -> None:
    """Send the webhook deliveries that are due, once (for cron or a systemd timer)."""
    from flask import current_app

    from engine.delivery.deliver import Policy
    from engine.delivery.deliver import deliver as run

    with database.connection_context():
        report = run(now=clock.now(), policy=Policy.from_config(current_app.config))
    click.echo(f"delivered {report.delivered}, retrying {report.retrying}, dead {report.dead}")


def main() -> None:
    from pages import create_app

    if sys.argv[1:2] == ["run"]:
        # `sanfang run` serves on its own: deadlines are swept in the background.
        os.environ.setdefault("SANFANG_BACKGROUND_SWEEP", "1")
    FlaskGroup(create_app=lambda: create_app(), add_default_commands=True)(prog_name="sanfang")
