"""Uploaded photos and files, stored on disk by content, referenced by a public id."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from pathlib import Path
from typing import BinaryIO

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


def open_for(actor: Actor, public_id: str, *, root: str | Path) -> tuple[Attachment, Path]:
    """An attachment the actor may read: their own upload or one on an item they see.

    :raises NotFound: otherwise (no existence leak).
    """
    attachment = Attachment.get_or_none(Attachment.public_id == public_id)
    if attachment is None:
        raise NotFound(_("Attachment not found."))
    mine = attachment.uploaded_by_id == actor.user.id
    if not mine and (
        attachment.item_id is None
        or not visible_items(actor).where(Item.id == attachment.item_id).exists()
    ):
        raise NotFound(_("Attachment not found."))
    return attachment, _path(root, attachment.sha256)
