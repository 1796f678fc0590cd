"""Backup and restore: every table and every attachment's bytes, from one snapshot, in one zip.

A backup is a zip file: ``manifest.json``, ``tables/<table>.jsonl`` (a header line naming
the columns, then one JSON array per row, in primary-key order) and ``files/<ab>/<sha256>``
for each attachment. It is read inside one transaction (REPEATABLE READ on PostgreSQL, a
read transaction in WAL mode on SQLite), so the tables agree with each other; the files
are content-addressed and never change, so those the snapshot names are the ones taken
(from the database itself when attachments live there). The format does not depend on
the backend: a SQLite backup restores into PostgreSQL and the other way round.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import hashlib
import json
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from peewee import (
    AutoField,
    BlobField,
    DateField,
    DateTimeField,
    ForeignKeyField,
    TimeField,
    sort_models,
)

from engine.core.errors import Conflict, Invalid
from engine.core.i18n import gettext as _
from engine.store.db import JSONField, backend, bulk_insert, database, write_transaction
from engine.store.storage import Blob, Store

FORMAT = 1
BATCH = 1000


def _models() -> list[Any]:
    """Every table, parents before children; attachment bytes travel as files."""
    from engine.store.models import ALL_MODELS, DERIVED_MODELS

    # Attachment bytes travel as files; stored counts are derived: the restored items'
    # and summons' inserts make them again (triggers).
    derived = (Blob, *DERIVED_MODELS)
    return [m for m in sort_models(ALL_MODELS) if m not in derived]


def _encode(field: Any, value: Any) -> Any:
    if value is None or isinstance(field, JSONField):
        return value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def _decode(field: Any, value: Any) -> Any:
    if value is None or isinstance(field, JSONField):
        return value
    if isinstance(field, DateTimeField):
        return dt.datetime.fromisoformat(value)
    if isinstance(field, DateField):
        return dt.date.fromisoformat(value)
    if isinstance(field, TimeField):
        return dt.time.fromisoformat(value)
    if isinstance(field, BlobField):
        return base64.b64decode(value)
    return value


def _rows(model: Any) -> Iterator[list[Any]]:
    fields = model._meta.sorted_fields
    query = model.select(*fields).order_by(model._meta.primary_key).tuples()
    for row in query.iterator():
        yield [_encode(f, v) for f, v in zip(fields, row, strict=True)]


def backup(path: str | Path, store: Store, *, now: dt.datetime) -> dict[str, Any]:
    """Write every table and attachment to the zip ``path`` from one consistent snapshot.

    :returns: the manifest (row counts per table, files, SHA-256s missing from the store).
    """
    target = Path(path)
    partial = target.with_name(f".{target.name}.{os.getpid()}.part")
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "created_at": now.isoformat(),
        "backend": backend().name,
        "tables": {},
        "files": 0,
        "missing_files": [],
    }
    with (
        zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive,
        database.atomic(),
    ):
        # The first statement of the transaction: every later read sees one snapshot.
        backend().begin_snapshot()
        for model in _models():
            count = 0
            with archive.open(
                f"tables/{model._meta.table_name}.jsonl", "w", force_zip64=True
            ) as out:
                columns = [f.name for f in model._meta.sorted_fields]
                out.write(
                    json.dumps({"table": model._meta.table_name, "columns": columns}).encode()
                    + b"\n"
                )
                for row in _rows(model):
                    out.write(json.dumps(row, ensure_ascii=False).encode() + b"\n")
                    count += 1
            manifest["tables"][model._meta.table_name] = count
        from engine.store.storage import every_sha

        for sha in every_sha():
            data = store.get(sha)
            if data is None:
                manifest["missing_files"].append(sha)
                continue
            archive.writestr(
                zipfile.ZipInfo(f"files/{sha[:2]}/{sha}", (1980, 1, 1, 0, 0, 0)),
                data,
                compress_type=zipfile.ZIP_STORED,
            )
            manifest["files"] += 1
        archive.writestr("manifest.json", json.dumps(manifest, indent=1))
    partial.replace(target)
    return manifest


def is_empty() -> bool:
    """Whether no table of this instance holds a row (tables just created)."""
    from engine.store.models import ALL_MODELS

    return not any(model.select().exists() for model in ALL_MODELS)


def _invalid(message: str) -> Invalid:
    return Invalid(message, [])


def _read_manifest(archive: zipfile.ZipFile) -> dict[str, Any]:
    try:
        manifest = json.loads(archive.read("manifest.json"))
    except (KeyError, ValueError) as exc:
        raise _invalid(_("This is not a Sanfang backup (no manifest.json).")) from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _invalid(_("This backup's format is not one this version reads."))
    return manifest


def _insert_table(archive: zipfile.ZipFile, model: Any) -> int:
    """Insert one table's rows; a row pointing at a later row of its own table (a moved
    org node's parent) gets that link once every row is in."""
    name = f"tables/{model._meta.table_name}.jsonl"
    if name not in archive.namelist():
        return 0
    fields = model._meta.fields
    pk = model._meta.primary_key
    self_links = [
        f
        for f in model._meta.sorted_fields
        if isinstance(f, ForeignKeyField) and f.rel_model is model
    ]
    seen: set[Any] = set()
    later: list[tuple[Any, str, Any]] = []
    count = 0
    with archive.open(name) as lines:
        header = json.loads(lines.readline())
        unknown = [c for c in header["columns"] if c not in fields]
        if unknown:
            raise _invalid(
                _("Table %(table)s of the backup has columns this version lacks: %(columns)s")
                % {"table": model._meta.table_name, "columns": ", ".join(unknown)}
            )
        columns = [fields[c] for c in header["columns"]]
        batch: list[dict[str, Any]] = []
        for line in lines:
            row = {f.name: _decode(f, v) for f, v in zip(columns, json.loads(line), strict=True)}
            for link in self_links:
                if row.get(link.name) is not None and row[link.name] not in seen:
                    later.append((row[pk.name], link.name, row[link.name]))
                    row[link.name] = None
            seen.add(row[pk.name])
            batch.append(row)
            if len(batch) >= BATCH:
                bulk_insert(model, batch)
                count += len(batch)
                batch = []
        bulk_insert(model, batch)
        count += len(batch)
    for key, link_name, value in later:
        model.update({link_name: value}).where(pk == key).execute()
    return count


def _reset_sequences() -> None:
    """Each id sequence continues after the largest id restored."""
    backend().reset_sequences(
        (model._meta.table_name, model._meta.primary_key.column_name)
        for model in _models()
        if isinstance(model._meta.primary_key, AutoField)
    )


def restore(path: str | Path, store: Store, *, force: bool = False) -> dict[str, Any]:
    """Load a backup into this instance, in one transaction.

    :param force: empty a non-empty instance first (every row of every table).
    :raises Conflict: the instance holds data and ``force`` is not set.
    :raises Invalid: not a backup, a format or column this version does not read, or a
        file whose bytes do not match its name.
    """
    from engine.store.models import create_tables

    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise _invalid(
            _("This is not a Sanfang backup: %(error)s") % {"error": str(exc)[:200]}
        ) from exc
    with archive:
        manifest = _read_manifest(archive)
        create_tables()
        if not is_empty() and not force:
            raise Conflict(
                _(
                    "This instance already holds data; restore into an empty one, or use --force "
                    "to replace everything in it."
                )
            )
        counts: dict[str, int] = {}
        with write_transaction():
            if force:
                for model in reversed(sort_models([*_models(), Blob])):
                    links = {
                        f.name: None
                        for f in model._meta.sorted_fields
                        if isinstance(f, ForeignKeyField) and f.rel_model is model
                    }
                    if links:  # a tree (org nodes) goes in one statement, not leaf first
                        model.update(links).execute()
                    model.delete().execute()
            for model in _models():
                counts[model._meta.table_name] = _insert_table(archive, model)
            files = 0
            for name in archive.namelist():
                if not name.startswith("files/") or name.endswith("/"):
                    continue
                data = archive.read(name)
                sha = name.rsplit("/", 1)[-1]
                if hashlib.sha256(data).hexdigest() != sha:
                    raise _invalid(_("The backup's file %(name)s is damaged.") % {"name": name})
                store.put(sha, data)
                files += 1
            _reset_sequences()
    return {"tables": counts, "files": files, "backup": manifest}
