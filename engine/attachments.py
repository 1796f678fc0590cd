"""Uploaded photos and files, kept by content in the attachment store, referenced by a public id."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import secrets
import unicodedata
import zipfile
from collections.abc import Mapping
from typing import Any, BinaryIO

import forms
from engine import audit
from engine.actors import Actor
from engine.db import write_transaction
from engine.errors import FieldProblem, Invalid, NotFound
from engine.i18n import gettext as _
from engine.models import Attachment, Item
from engine.scope import visible_items
from engine.storage import Store

MAX_BYTES = 10 * 1024 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ALLOWED_TYPES = {
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "image/heic",
    "application/pdf",
    "text/plain",
    XLSX,
    DOCX,
}
# What an ``x-accept`` extension stands for.
EXTENSIONS = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".heic": "image/heic",
    ".heif": "image/heic",
    ".pdf": "application/pdf",
    ".txt": "text/plain",
    ".xlsx": XLSX,
    ".docx": DOCX,
}
HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}


def sniff(data: bytes) -> str | None:
    """The type the bytes are (by their magic numbers), whatever the client declared;
    None for anything not in :data:`ALLOWED_TYPES`."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:8] == b"ftyp" and data[8:12] in HEIF_BRANDS:
        return "image/heic"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"PK\x03\x04"):
        return _office(data)
    return "text/plain" if _is_text(data) else None


def _office(data: bytes) -> str | None:
    """An Excel or Word (OOXML) file, or None for any other zip."""
    try:
        names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    if any(n.startswith("xl/") for n in names):
        return XLSX
    if any(n.startswith("word/") for n in names):
        return DOCX
    return None


def _is_text(data: bytes) -> bool:
    """Plain text: UTF-8 or GB18030, no NUL or other control bytes but whitespace."""
    if any(b < 32 and b not in (9, 10, 12, 13) for b in data[:65536]) or b"\x7f" in data[:65536]:
        return False
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return True
    return False


def accepts(accept: str | None, content_type: str) -> bool:
    """Whether an ``x-accept`` list ("image/*", "image/png,.pdf") admits ``content_type``;
    no list admits every allowed type."""
    if not accept or not accept.strip():
        return True
    for token in (t.strip().lower() for t in accept.split(",")):
        if token.endswith("/*") and content_type.startswith(token[:-1]):
            return True
        if token == content_type or EXTENSIONS.get(token) == content_type:
            return True
    return False


# Bidi overrides and isolates, zero-width and other format characters, controls,
# surrogates, private-use and unassigned code points: none belongs in a file name, and
# a right-to-left override makes "photo\u202egpj.exe" read as "photoexe.jpg".
_DROPPED = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def clean_filename(name: str | None) -> str:
    """A file name fit to show and to send back: its last path part, NFC-normalised,
    without control or bidi characters, at most 255 characters (the extension kept)."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c) not in _DROPPED)
    name = " ".join(name.split()).strip(" .") or "upload"
    if len(name) > 255:
        stem, dot, ext = name.rpartition(".")
        name = stem[: 254 - len(ext)] + dot + ext if dot and len(ext) < 16 else name[:255]
    return name


def _refuse(field: str, message: str) -> Invalid:
    return Invalid(message, [FieldProblem(field, message)])


def store(
    actor: Actor,
    filename: str,
    content_type: str,
    stream: BinaryIO,
    *,
    store: Store,
    now: dt.datetime,
    field: str = "file",
    accept: str | None = None,
) -> Attachment:
    """Check an upload's bytes, keep them by their SHA-256 and record who uploaded it.

    The type is what the bytes are, not what the client declared (``content_type`` is
    only named in the refusal); it must be allowed, and admitted by the field's
    ``x-accept`` (``accept``). Nothing is written until every check has passed.

    :raises Invalid: a type not allowed or not accepted, an empty or oversized file
        (path = ``field``).
    """
    data = stream.read(MAX_BYTES + 1)
    if not data:
        raise _refuse(field, _("The file is empty."))
    if len(data) > MAX_BYTES:
        raise _refuse(
            field, _("The file is larger than %(mb)s MB.") % {"mb": MAX_BYTES // 1024 // 1024}
        )
    declared = (content_type or "").split(";")[0].strip().lower()
    actual = sniff(data)
    if actual is None:
        raise _refuse(field, _("File type %(type)s is not allowed.") % {"type": declared or "?"})
    if not accepts(accept, actual):
        raise _refuse(
            field,
            _("This field takes %(accept)s; the file is %(type)s.")
            % {"accept": accept, "type": actual},
        )
    sha = hashlib.sha256(data).hexdigest()
    with write_transaction():  # a database store keeps the bytes and the row together
        store.put(sha, data)
        attachment = Attachment.create(
            public_id="att_" + secrets.token_urlsafe(12),
            uploaded_by=actor.user,
            filename=clean_filename(filename),
            content_type=actual,
            size=len(data),
            sha256=sha,
            created_at=now,
        )
        audit.record(
            "attachment.upload",
            at=now,
            actor=actor.user,
            target=f"attachment:{attachment.public_id}",
            after={"filename": attachment.filename, "size": attachment.size, "type": actual},
        )
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
                        found += [
                            (f"{spec.name}/{index}/{child.name}", str(v))
                            for v in row.get(child.name) or []
                        ]
    return found


def claim(
    ids: list[tuple[str, str]], actor: Actor, *, item: Item | None = None, record: str | None = None
) -> None:
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
            .where(
                (Attachment.public_id == public_id)
                & (Attachment.uploaded_by == actor.user)
                & (free | same)
            )
            .execute()
        )
        if not claimed:
            raise Invalid(
                _("An attachment is missing."),
                [
                    FieldProblem(
                        f"data/{path}",
                        _("Attachment %(id)s is not yours or does not exist.") % {"id": public_id},
                    )
                ],
            )


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
    if kind == "statement":
        from engine.residents.disclosures import get_statement

        try:
            get_statement(actor, int(raw_id))
        except NotFound:
            return False
        return True
    if kind == "listing":
        from engine.residents.listings import get_listing

        try:
            get_listing(actor, int(raw_id))
        except NotFound:
            return False
        return True
    if kind == "kpi-report":
        from engine.kpi_reports import may_read

        return may_read(actor, int(raw_id))
    return False


def open_for(actor: Actor, public_id: str, *, store: Store) -> tuple[Attachment, bytes]:
    """An attachment the actor may read: their own upload, one on an item they see, or
    one on a checklist row or KPI report they see.

    :raises NotFound: otherwise (no existence leak).
    """
    attachment = Attachment.get_or_none(Attachment.public_id == public_id)
    if attachment is None:
        raise NotFound(_("Attachment not found."))
    allowed = (
        attachment.uploaded_by_id == actor.user.id
        or (
            attachment.item_id is not None
            and visible_items(actor).where(Item.id == attachment.item_id).exists()
        )
        or (attachment.record is not None and _may_read_record(actor, attachment.record))
    )
    if not allowed:
        raise NotFound(_("Attachment not found."))
    data = store.get(attachment.sha256)
    if data is None:
        raise NotFound(
            _("The file of attachment %(id)s is missing from the store.") % {"id": public_id}
        )
    return attachment, data
