"""Uploading a pack .zip: paths stay inside the pack (pack.json paths, zip-slip member names,
symlink members all give the same kind of problem line), and a zip bomb or a zip of too many
members stops at the cap."""

from __future__ import annotations

import html
import io
import json
import stat
import zipfile

import pytest

from engine.store.models import DefinitionVersion
from pages.designer import packio


@pytest.fixture
def admin(client, auth):
    auth.login("admin")
    return client


@pytest.fixture
def exported(admin) -> dict[str, bytes]:
    archive = zipfile.ZipFile(io.BytesIO(admin.get("/admin/designer/packs/gongshu.zip").data))
    return {name: archive.read(name) for name in archive.namelist()}


def zipped(
    files: dict[str, bytes], extra: list[zipfile.ZipInfo | tuple[zipfile.ZipInfo, bytes]] = ()
) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in files.items():
            out.writestr(name, data)
        for info, data in extra:
            out.writestr(info, data)
    return buffer.getvalue()


def upload(client, data: bytes):
    return client.post(
        "/admin/designer/packs/import",
        data={"pack": (io.BytesIO(data), "pack.zip")},
        content_type="multipart/form-data",
    )


def with_manifest(files: dict[str, bytes], field: str, value: str) -> dict[str, bytes]:
    manifest = json.loads(files["pack.json"])
    if field == "definitions":
        manifest["definitions"][0] = value
    else:
        manifest[field] = value
    return {**files, "pack.json": json.dumps(manifest).encode()}


def problems(response) -> str:
    """The page's main part (the head holds a CSRF token that changes with time)."""
    page = html.unescape(response.get_data(as_text=True))
    return page.split("<main", 1)[1].split("</main>", 1)[0]


@pytest.mark.parametrize(
    "field, where",
    [
        ("org", "pack.json/org"),
        ("demo", "pack.json/demo"),
        ("definitions", "pack.json/definitions/0"),
    ],
)
def test_pack_json_cannot_probe_the_servers_files(admin, exported, field, where):
    before = DefinitionVersion.select().count()
    pages = {}
    for name in (
        "/etc/passwd",
        "/etc/no-such-file",
        "../../../../etc/passwd",
        "../../../../etc/no-such-file",
    ):
        response = upload(admin, zipped(with_manifest(exported, field, name)))
        assert response.status_code == 422
        pages[name] = problems(response)
        assert (
            f"{where}: {name!r} is not a file inside the pack" in pages[name]
            or f"{where}: {name!r} 不是配置包内的文件" in pages[name]
        )
        assert "not found" not in pages[name] and "invalid JSON" not in pages[name]
    # Whether the outside file exists makes no difference to the answer.
    assert pages["/etc/passwd"].replace("passwd", "X") == pages["/etc/no-such-file"].replace(
        "no-such-file", "X"
    )
    assert DefinitionVersion.select().count() == before


@pytest.mark.parametrize(
    "member", ["../escape.json", "/abs/escape.json", "items/../../escape.json", "a\\..\\b.json"]
)
def test_a_zip_slip_member_is_refused_with_the_same_kind_of_line(admin, exported, member, tmp_path):
    response = upload(admin, zipped({**exported, member: b"{}"}))
    assert response.status_code == 422
    assert f"{member}: {member!r} " in problems(response)


def test_a_symlink_member_is_refused_with_the_same_kind_of_line(admin, exported):
    link = zipfile.ZipInfo("items/link.json")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    response = upload(admin, zipped(exported, [(link, b"/etc/passwd")]))
    assert response.status_code == 422
    assert "items/link.json: 'items/link.json' " in problems(response)


def test_a_zip_bomb_stops_at_the_cap(admin, exported, monkeypatch):
    monkeypatch.setattr(packio, "MAX_BYTES", 1_000_000)
    bomb = zipfile.ZipInfo("items/bomb.json")
    bomb.compress_type = zipfile.ZIP_DEFLATED
    data = zipped(exported, [(bomb, b"\0" * 2_000_000)])
    assert len(data) < 100_000
    response = upload(admin, data)
    assert response.status_code == 422
    assert "The pack is too large." in problems(response) or "配置包过大" in problems(response)
    # A bomb that declares a small size inflates no further than it says, and is refused.
    lying = data.replace((2_000_000).to_bytes(4, "little"), (10).to_bytes(4, "little"))
    assert zipfile.ZipFile(io.BytesIO(lying)).getinfo("items/bomb.json").file_size == 10
    response = upload(admin, lying)
    assert response.status_code == 422
    assert "items/bomb.json:.zip 中的文件已损坏或已加密" in problems(response)


def test_too_many_members_are_refused(admin, exported, monkeypatch):
    monkeypatch.setattr(packio, "MAX_FILES", len(exported) + 2)
    names = {f"extra/{i}.json": b"{}" for i in range(3)}
    response = upload(admin, zipped({**exported, **names}))
    assert response.status_code == 422
    assert "配置包过大" in problems(response) or "The pack is too large." in problems(response)


def test_a_damaged_member_is_a_problem_not_a_crash(admin, exported):
    data = bytearray(zipped({**exported, "items/z.json": b"{" + b"x" * 5000 + b"}"}))
    offset = data.index(b"items/z.json") + len("items/z.json") + 10
    data[offset : offset + 20] = b"\xff" * 20
    response = upload(admin, bytes(data))
    assert response.status_code == 422
