"""Paths inside a pack stay inside the pack: every file pack.json names is read relative to the
pack folder; absolute paths, ``..`` escapes and symlinks leading out are refused with one
problem line that never tells whether the outside file exists."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from engine.authoring.packs import outside_line, read_pack, validate_pack

SEED = Path(__file__).resolve().parents[2] / "seed" / "gongshu"


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    target = tmp_path / "pack"
    shutil.copytree(SEED, target)
    return target


def set_manifest(folder: Path, change) -> None:
    path = folder / "pack.json"
    body = json.loads(path.read_text("utf-8"))
    change(body)
    path.write_text(json.dumps(body, ensure_ascii=False), "utf-8")


def problems_for(folder: Path, field: str, value: str) -> list[str]:
    def change(body):
        if field == "definitions":
            body["definitions"][0] = value
        else:
            body[field] = value

    set_manifest(folder, change)
    return validate_pack(read_pack(folder))


WHERE = {"org": "pack.json/org", "demo": "pack.json/demo", "definitions": "pack.json/definitions/0"}


@pytest.mark.parametrize("field", ["org", "demo", "definitions"])
def test_an_absolute_path_is_refused_whether_or_not_the_file_exists(pack, field, tmp_path):
    secret = tmp_path / "secret.json"
    secret.write_text('{"nodes": []}', "utf-8")
    found = problems_for(pack, field, str(secret))
    missing = problems_for(pack, field, str(tmp_path / "no-such-file.json"))
    assert found == [outside_line(WHERE[field], str(secret))]
    assert missing == [outside_line(WHERE[field], str(tmp_path / "no-such-file.json"))]
    assert problems_for(pack, field, "/etc/passwd") == [outside_line(WHERE[field], "/etc/passwd")]
    # One wording for all: the line says only that the path is not inside the pack.
    assert outside_line("pack.json/org", "/x") in (
        "pack.json/org: '/x' is not a file inside the pack",
        "pack.json/org: '/x' 不是配置包内的文件",
    )


@pytest.mark.parametrize("field", ["org", "demo", "definitions"])
@pytest.mark.parametrize(
    "name", ["../secret.json", "items/../../secret.json", "..", ".", "a\\..\\..\\secret.json"]
)
def test_an_escape_with_dots_is_refused(pack, field, name, tmp_path):
    (tmp_path / "secret.json").write_text('{"nodes": []}', "utf-8")
    assert problems_for(pack, field, name) == [outside_line(WHERE[field], name)]


@pytest.mark.parametrize("field", ["org", "demo", "definitions"])
def test_a_symlink_leading_out_is_refused_like_an_absolute_path(pack, field, tmp_path):
    (tmp_path / "secret.json").write_text('{"nodes": []}', "utf-8")
    (pack / "out.json").symlink_to(tmp_path / "secret.json")
    (pack / "gone.json").symlink_to(tmp_path / "missing.json")
    (pack / "outdir").symlink_to(tmp_path)
    for name in ("out.json", "gone.json", "outdir/secret.json"):
        assert problems_for(pack, field, name) == [outside_line(WHERE[field], name)]


def test_a_symlink_inside_the_pack_is_followed(pack):
    (pack / "alias.json").symlink_to(pack / "org.json")
    assert problems_for(pack, "org", "alias.json") == []


def test_pack_json_itself_may_not_lead_out(tmp_path):
    folder = tmp_path / "pack"
    folder.mkdir()
    shutil.copy(SEED / "pack.json", tmp_path / "real.json")
    (folder / "pack.json").symlink_to(tmp_path / "real.json")
    assert validate_pack(read_pack(folder)) == [outside_line("pack.json", "pack.json")]


def test_a_folder_named_as_a_file_is_a_problem_not_a_crash(pack):
    (pack / "sub").mkdir()
    found = problems_for(pack, "org", "sub")
    assert found in (["sub: cannot be read as a JSON file"], ["sub: 无法作为 JSON 文件读取"])
