"""Pack export (one .zip) and import (upload a .zip), validated as `sanfang pack validate` does."""

from __future__ import annotations

import io
import json
import stat
import tempfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import Any

from flask import flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _

from engine.authoring.packs import export_pack as export_files
from engine.authoring.packs import load_pack, outside_line, pack_member, read_pack, validate_pack
from engine.core import clock
from engine.core.errors import Invalid
from engine.definitions.definitions import known_units
from engine.store.db import database
from engine.trail import audit
from pages.auth import requires
from pages.designer import bp

MAX_FILES = 500
MAX_BYTES = 20 * 1024 * 1024


@bp.route("/packs/<key>.zip")
@requires("packs")
def export_pack(key: str) -> Any:
    files = export_files(key)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in files.items():
            archive.writestr(name, json.dumps(body, ensure_ascii=False, indent=2) + "\n")
    audit.record(
        "pack.export",
        at=clock.now(),
        actor=g.actor.user,
        target=f"pack:{key}",
        after={"files": sorted(files)},
    )
    buffer.seek(0)
    return send_file(
        buffer, mimetype="application/zip", as_attachment=True, download_name=f"{key}.zip"
    )


def _member_problem(
    info: zipfile.ZipInfo, prefix: str, root: Path
) -> tuple[Path | None, list[str]]:
    """Where a zip member goes inside ``root``, or the problem that keeps it out: a name that
    is absolute or climbs out with ``..`` (zip slip), or a symlink member."""
    problems: list[str] = []
    if stat.S_ISLNK(info.external_attr >> 16):
        return None, [outside_line(info.filename, info.filename)]
    name = info.filename.removeprefix(prefix)
    target = pack_member(root, name, info.filename, problems)
    return target, problems


def _copy(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, budget: int) -> int:
    """Write one member, counting the bytes it really inflates to (a zip's declared sizes may
    lie); returns them, or -1 past ``budget``."""
    written = 0
    target.parent.mkdir(parents=True, exist_ok=True)
    with archive.open(info) as source, target.open("wb") as out:
        while chunk := source.read(64 * 1024):
            written += len(chunk)
            if written > budget:
                return -1
            out.write(chunk)
    return written


# What a damaged zip raises while it is opened or read: a bad header or CRC, a truncated
# or corrupt deflate stream, a method or encryption zipfile does not support.
DAMAGED = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    NotImplementedError,
    RuntimeError,
    OSError,
    ValueError,
)


def _extract(data: bytes, root: Path) -> list[str]:
    """Unpack a zip into ``root``; problems for anything that is not a safe pack file.

    At most MAX_FILES members and MAX_BYTES inflated in all (counted while inflating, so a zip
    bomb stops at the cap); every member must land inside ``root`` (no absolute names, no
    ``..``, no symlinks), with the same problem line as a pack.json path that leaves the pack.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except DAMAGED:
        return [_("The upload is not a .zip file.")]
    try:
        return _unpack(archive, infos, root)
    except DAMAGED:
        return [_("The .zip file is damaged and cannot be read.")]


def _unpack(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo], root: Path) -> list[str]:
    names = [i for i in infos if not i.is_dir()]
    if len(infos) > MAX_FILES or sum(i.file_size for i in names) > MAX_BYTES:
        return [_("The pack is too large.")]
    prefix = ""
    if not any(i.filename == "pack.json" for i in names):
        # A zip of the folder itself: strip the one top folder.
        found = [i.filename for i in names if PurePosixPath(i.filename).name == "pack.json"]
        if found:
            prefix = str(PurePosixPath(min(found, key=len)).parent) + "/"
    targets = []
    for info in names:
        target, problems = _member_problem(info, prefix, root)
        if problems:
            return problems
        targets.append((info, target))
    budget = MAX_BYTES
    for info, target in targets:
        try:
            written = _copy(archive, info, target, budget)
        except (
            zipfile.BadZipFile,
            zlib.error,
            EOFError,
            RuntimeError,
            NotImplementedError,
            OSError,
        ):
            return [_("%(name)s: the file in the .zip is damaged or encrypted", name=info.filename)]
        if written < 0:
            return [_("The pack is too large.")]
        budget -= written
    return []


@bp.route("/packs/import", methods=["POST"])
@requires("packs")
def import_pack() -> Any:
    upload = request.files.get("pack")
    data = upload.read() if upload else b""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        problems = _extract(data, root) if data else [_("Choose a .zip file to import.")]
        if not problems:
            problems = validate_pack(read_pack(root), existing_units=known_units())
        if not problems:
            try:
                with database.atomic():
                    pack = load_pack(root, now=clock.now(), by=g.actor.user)
            except Invalid as exc:
                problems = [f"{p.path}: {p.message}" for p in exc.fields]
    if problems:
        return render_template("designer/import.html", problems=problems), 422
    flash(_("Pack %(key)s %(version)s was imported.", key=pack.key, version=pack.version))
    return redirect(url_for("designer.index"), 303)
