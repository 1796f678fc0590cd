"""Packs: validation points at the exact path of every mistake; loading is idempotent."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.authoring.packs import read_pack, validate_pack
from engine.store.models import Definition, DefinitionVersion, OrgNode, User
from pages.cli import pack as pack_group

SEED = Path(__file__).resolve().parents[2] / "seed" / "gongshu"


@pytest.fixture
def pack_copy(tmp_path: Path) -> Path:
    target = tmp_path / "pack"
    shutil.copytree(SEED, target)
    return target


def edit(folder: Path, name: str, change) -> None:
    path = folder / name
    body = json.loads(path.read_text("utf-8"))
    change(body)
    path.write_text(json.dumps(body, ensure_ascii=False), "utf-8")


def validate(folder: Path) -> tuple[int, str]:
    result = CliRunner().invoke(pack_group, ["validate", str(folder)])
    return result.exit_code, result.output


def test_seed_pack_is_valid():
    code, output = validate(SEED)
    assert code == 0, output
    assert validate_pack(read_pack(SEED)) == []


def transitions(body):
    return body["workflow"]["transitions"]


@pytest.mark.parametrize(
    "name, change, expected",
    [
        (
            "items/bell.json",
            lambda b: transitions(b)[0].__setitem__("guard", {"method": ["x", "upper"]}),
            "items/bell.json/workflow/transitions/0/guard",
        ),
        (
            "items/bell.json",
            lambda b: transitions(b)[0].__setitem__("guard", {"frobnicate": [1]}),
            "items/bell.json/workflow/transitions/0/guard",
        ),
        (
            "items/bell.json",
            lambda b: transitions(b)[0].__setitem__("to", "nowhere"),
            (
                "items/bell.json/workflow/transitions/0/to: "
                "The transition '受理并召集三方' goes to 'nowhere', which is no state"
            ),
        ),
        (
            "items/bell.json",
            lambda b: transitions(b)[0].__setitem__("roles", ["wizard"]),
            (
                "items/bell.json/workflow/transitions/0/roles/0: "
                "There is no role with the key 'wizard' in the pack"
            ),
        ),
        (
            "items/bell.json",
            lambda b: b["workflow"]["states"].__setitem__(
                "limbo", {"label": "悬空", "final": True}
            ),
            "items/bell.json/workflow/states/limbo: The state '悬空' cannot be reached",
        ),
        (
            "items/bell.json",
            lambda b: b["schema"]["properties"]["summary"].__setitem__("type", "strin"),
            "items/bell.json/schema/properties/summary",
        ),
        (
            "items/bell.json",
            lambda b: b["routing"]["whistle"]["rules"][0]["summon"][0].__setitem__(
                "unit", "dept-nope"
            ),
            (
                "items/bell.json/routing/whistle/rules/0/summon/0/unit: "
                "There is no unit or place with the key 'dept-nope'"
            ),
        ),
        (
            "items/bell.json",
            lambda b: b["routing"]["whistle"]["rules"][0].__setitem__(
                "when", {"and": [{"==": [1, 1]}] * 3000}
            ),
            "items/bell.json/routing/whistle/rules/0/when",
        ),
        (
            "items/bell.json",
            lambda b: transitions(b)[1].__setitem__("effects", [{"summon": "nope"}]),
            (
                "items/bell.json/workflow/transitions/1/effects/0/summon: "
                "There is no routing table with the key 'nope'"
            ),
        ),
        (
            "items/bell.json",
            lambda b: b.__setitem__("colour", "red"),
            "items/bell.json/: Unknown setting: 'colour'",
        ),
        (
            "org.json",
            lambda b: b["users"][0]["grants"][0].__setitem__("role", "king"),
            "org.json/users/0/grants/0/role: There is no role with the key 'king' in the pack",
        ),
    ],
)
def test_each_mistake_is_reported_with_its_path(pack_copy, name, change, expected):
    edit(pack_copy, name, change)
    code, output = validate(pack_copy)
    assert code != 0
    assert expected in output, output


def test_deep_rule_is_refused(pack_copy):
    deep: object = True
    for _ in range(100):
        deep = {"!": [deep]}
    edit(pack_copy, "items/bell.json", lambda b: transitions(b)[0].__setitem__("guard", deep))
    code, output = validate(pack_copy)
    assert code != 0 and "items/bell.json/workflow/transitions/0/guard" in output


def test_malformed_json_file(pack_copy):
    (pack_copy / "items" / "bell.json").write_text("{ not json", "utf-8")
    code, output = validate(pack_copy)
    assert code != 0 and "items/bell.json: The file is not valid JSON at line 1" in output


def test_missing_definition_file(pack_copy):
    (pack_copy / "items" / "repair.json").unlink()
    code, output = validate(pack_copy)
    assert code != 0 and "items/repair.json: The file is not in the pack" in output


def test_loading_twice_changes_nothing(app, runner):
    nodes, users, versions = (
        OrgNode.select().count(),
        User.select().count(),
        DefinitionVersion.select().count(),
    )
    result = runner.invoke(args=["pack", "load", str(SEED)])
    assert result.exit_code == 0, result.output
    assert (
        OrgNode.select().count(),
        User.select().count(),
        DefinitionVersion.select().count(),
    ) == (nodes, users, versions)


def test_invalid_pack_loads_nothing(app, runner, pack_copy):
    edit(pack_copy, "items/bell.json", lambda b: b.__setitem__("name", "改过的名字"))
    edit(pack_copy, "items/repair.json", lambda b: transitions(b)[0].__setitem__("to", "nowhere"))
    result = runner.invoke(args=["pack", "load", str(pack_copy)])
    assert result.exit_code != 0 and "items/repair.json/workflow/transitions/0/to" in result.output
    assert Definition.get(Definition.key == "bell").current == 1


def test_new_item_type_without_restart(app, client, runner, pack_copy, token_for):
    """A pack that adds an item type is loaded while the app runs; the API serves it at once."""
    high_throw = {
        "key": "gaokong",
        "kind": "item_type",
        "name": "高空抛物",
        "raise_roles": ["resident", "commissioner"],
        "schema": {
            "type": "object",
            "required": ["floor"],
            "properties": {
                "floor": {"type": "integer", "title": "疑似楼层", "minimum": 1, "maximum": 60}
            },
        },
        "workflow": {
            "initial": "open",
            "on_create": [{"summon": "police"}],
            "states": {
                "open": {"label": "待处置", "hours": 24},
                "closed": {"label": "已办结", "final": True},
            },
            "transitions": [
                {
                    "key": "close",
                    "label": "办结",
                    "from": ["open"],
                    "to": "closed",
                    "roles": ["commissioner"],
                }
            ],
        },
        "routing": {
            "police": {
                "rules": [
                    {
                        "key": "police",
                        "when": True,
                        "summon": [{"unit": "dept-gaj"}, {"role": "property"}],
                        "report_hours": 24,
                    }
                ]
            }
        },
    }
    (pack_copy / "items" / "gaokong.json").write_text(
        json.dumps(high_throw, ensure_ascii=False), "utf-8"
    )
    edit(pack_copy, "pack.json", lambda b: b["definitions"].append("items/gaokong.json"))
    assert runner.invoke(args=["pack", "load", str(pack_copy)]).exit_code == 0
    response = client.post(
        "/api/v1/items",
        json={"type": "gaokong", "node": "lvzhouhuayuan", "data": {"floor": 12}},
        headers=token_for("lvzhou-yezhu1"),
    )
    assert response.status_code == 201, response.get_json()
    assert {a["unit"] for a in response.get_json()["assignments"]} == {"dept-gaj", "lvzhouhuayuan"}


def test_export_round_trips(app, runner, tmp_path):
    out = tmp_path / "exported"
    assert runner.invoke(args=["pack", "export", "gongshu", str(out)]).exit_code == 0
    assert validate(out)[0] == 0
