"""Uploaded photos and files, stored on disk by content, referenced by a public id."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

import forms
from engine import audit
from engine.actors import Actor
from engine.errors import FieldProblem, Invalid, NotFound
from engine.i18n import gettext as _
from engine.models import Attachment, Item
from engine.scope import visible_items

MAX_BYTES = 10 * 1024 * 1024
ALLOWED_TYPES = {
    "image/jpeg", "image/png", "image/gif", "image/webp", "image/heic", "application/pdf",
    "text/plain", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def _path(root: str | Path, sha: str) -> Path:
    return Path(root) / sha[:2] / sha


def store(
    actor: Actor, filename: str, content_type: str, stream: BinaryIO, *, root: str | Path,
    now: dt.datetime, field: str = "file",
) -> Attachment:
    """Store an upload by its SHA-256 and record who uploaded it.

    :raises Invalid: a type not allowed, an empty or oversized file (path = ``field``).
    """
    content_type = (content_type or "").split(";")[0].strip().lower()
    if content_type not in ALLOWED_TYPES:
        message = _("File type %(type)s is not allowed.") % {"type": content_type or "?"}
        raise Invalid(message, [FieldProblem(field, message)])
    data = stream.read(MAX_BYTES + 1)
    if not data:
        raise Invalid(_("The file is empty."), [FieldProblem(field, _("The file is empty."))])
    if len(data) > MAX_BYTES:
        message = _("The file is larger than %(mb)s MB.") % {"mb": MAX_BYTES // 1024 // 1024}
        raise Invalid(message, [FieldProblem(field, message)])
    sha = hashlib.sha256(data).hexdigest()
    path = _path(root, sha)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    attachment = Attachment.create(
        public_id="att_" + secrets.token_urlsafe(12), uploaded_by=actor.user,
        filename=Path(filename or "upload").name[:255], content_type=content_type,
        size=len(data), sha256=sha, created_at=now,
    )
    audit.record("attachment.upload", at=now, actor=actor.user, target=f"attachment:{attachment.public_id}",
                 after={"filename": attachment.filename, "size": attachment.size})
    return attachment


def ids_in(schema: Mapping[str, Any], data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(field path, attachment id) for every photo/file answer of a form, group rows included."""
    found: list[tuple[str, str]] = []
    for spec in forms.field_specs(schema):
        if spec.kind in ("photo", "file"):
            found += [(spec.name, str(v)) for v in data.get(spec.name) or []]
        elif spec.kind == "group":
            for index, row in enumerate(data.get(spec.name) or []):
                for child in spec.children:
                    if child.kind in ("photo", "file"):
                        found += [(f"{spec.name}/{index}/{child.name}", str(v)) for v in row.get(child.name) or []]
    return found


def claim(ids: list[tuple[str, str]], actor: Actor, *, item: Item | None = None, record: str | None = None) -> None:
    """Link the actor's uploads to what they were uploaded for: an item or a record
    (``"checklist-row:12"``, ``"kpi-report:3"``). Someone else's upload, or one already
    used elsewhere, is refused with the field's path.

    :raises Invalid: an id that is not the actor's free upload.
    """
    for path, public_id in ids:
        free = Attachment.item.is_null() & Attachment.record.is_null()
        same = (Attachment.item == item) if item is not None else (Attachment.record == record)
        claimed = (
            Attachment.update(item=item, record=record)
            .where((Attachment.public_id == public_id) & (Attachment.uploaded_by == actor.user) & (free | same))
            .execute()
        )
        if not claimed:
            raise Invalid(_("An attachment is missing."),
                          [FieldProblem(f"data/{path}", _("Attachment %(id)s is not yours or does not exist.") % {"id": public_id})])


def _may_read_record(actor: Actor, record: str) -> bool:
    """Whether ``actor`` sees the record an attachment belongs to (lists and KPI reports)."""
    kind, _sep, raw_id = record.partition(":")
    if not raw_id.isdigit():
        return False
    if kind == "checklist-row":
        from engine.checklists import may_view
        from engine.records import ChecklistRow

        row = ChecklistRow.get_or_none(ChecklistRow.id == int(raw_id))
        return row is not None and may_view(actor, row.node)
    if kind == "kpi-report":
        from engine.kpi_reports import may_read

        return may_read(actor, int(raw_id))
    return False


def open_for(actor: Actor, public_id: str, *, root: str | Path) -> tuple[Attachment, Path]:
    """An attachment the actor may read: their own upload, one on an item they see, or
    one on a checklist row or KPI report they see.

    :raises NotFound: otherwise (no existence leak).
    """
    attachment = Attachment.get_or_none(Attachment.public_id == public_id)
    if attachment is None:
        raise NotFound(_("Attachment not found."))
    allowed = (
        attachment.uploaded_by_id == actor.user.id
        or (attachment.item_id is not None and visible_items(actor).where(Item.id == attachment.item_id).exists())
        or (attachment.record is not None and _may_read_record(actor, attachment.record))
    )
    if not allowed:
        raise NotFound(_("Attachment not found."))
    return attachment, _path(root, attachment.sha256)
