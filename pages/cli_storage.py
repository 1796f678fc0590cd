"""The `sanfang attachments`, `backup` and `restore` commands: where files live, and
the whole instance in one file."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from engine.core import clock
from engine.core.errors import ServiceError
from engine.store.db import database


@click.group("attachments")
def attachments() -> None:
    """Where attachment bytes are stored (database, disk or S3)."""


@attachments.command("migrate")
@click.option(
    "--to",
    "kind",
    type=click.Choice(["db", "disk", "s3"]),
    required=True,
    help="The store to copy every attachment into.",
)
@with_appcontext
def attachments_migrate(kind: str) -> None:
    """Copy every attachment into the store KIND from wherever it is now (the configured
    store, this host's upload folder, the database, S3 if configured). Safe to run again:
    what the target holds already is skipped. Then set SANFANG_ATTACHMENTS=KIND."""
    from engine.store.storage import DatabaseStore, DiskStore, make_store, migrate

    config = current_app.config
    target = make_store(
        kind,
        upload_dir=config["UPLOAD_DIR"],
        s3=config.get("S3"),
        s3_client=config.get("S3_CLIENT"),
    )
    sources = [
        current_app.extensions["sanfang.attachments"],
        DiskStore(config["UPLOAD_DIR"]),
        DatabaseStore(),
    ]
    if (config.get("S3") or {}).get("bucket") and kind != "s3":
        sources.append(
            make_store(
                "s3",
                upload_dir=config["UPLOAD_DIR"],
                s3=config["S3"],
                s3_client=config.get("S3_CLIENT"),
            )
        )
    with database.connection_context():
        copied, present, missing = migrate(target, sources)
    click.echo(f"{copied} copied to {kind}, {present} already there, {len(missing)} missing")
    for sha in missing:
        click.echo(f"missing: {sha}", err=True)
    if missing:
        sys.exit(1)


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False))
@with_appcontext
def backup(path: str) -> None:
    """Write the database and every attachment, from one snapshot, to the zip PATH."""
    from engine.store.backup import backup as run

    with database.connection_context():
        manifest = run(Path(path), current_app.extensions["sanfang.attachments"], now=clock.now())
    rows = sum(manifest["tables"].values())
    click.echo(
        f"{path}: {rows} rows in {len(manifest['tables'])} tables, {manifest['files']} files"
    )
    for sha in manifest["missing_files"]:
        click.echo(f"missing from the attachment store: {sha}", err=True)
    if manifest["missing_files"]:
        sys.exit(1)


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--force", is_flag=True, help="Replace everything in a non-empty instance.")
@with_appcontext
def restore(path: str, force: bool) -> None:
    """Load a backup made by `sanfang backup` into this (empty) instance."""
    from engine.store.backup import restore as run

    try:
        with database.connection_context():
            done = run(Path(path), current_app.extensions["sanfang.attachments"], force=force)
    except ServiceError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    click.echo(
        f"restored {sum(done['tables'].values())} rows and {done['files']} files from {path}"
    )
