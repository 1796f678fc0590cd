"""Webhook endpoints declared in pack.json: validated with paths, loaded, disabled when dropped."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from engine.authoring.packs import export_pack, read_pack, validate_pack
from engine.store.models import WebhookEndpoint

SEED = Path(__file__).resolve().parents[2] / "seed" / "gongshu"
HOOK = {
    "key": "district-im",
    "url": "https://im.example.gov.cn/sanfang",
    "secret_env": "SANFANG_WEBHOOK_SECRET_DISTRICT_IM",
    "events": ["notification", "item.*"],
}


@pytest.fixture
def pack_copy(tmp_path: Path) -> Path:
    target = tmp_path / "pack"
    shutil.copytree(SEED, target)
    return target


def set_hooks(folder: Path, hooks: list) -> None:
    path = folder / "pack.json"
    manifest = json.loads(path.read_text("utf-8"))
    manifest["webhooks"] = hooks
    path.write_text(json.dumps(manifest, ensure_ascii=False), "utf-8")


@pytest.mark.parametrize(
    "hooks, expected",
    [
        (
            [{**HOOK, "events": ["notification", "item.raise"]}],
            "pack.json/webhooks/0/events/1: The event pattern 'item.raise' matches no event",
        ),
        (
            [HOOK, {**HOOK, "url": "https://other.example/"}],
            "pack.json/webhooks/1/key: Two webhooks have the key",
        ),
        ([{**HOOK, "secret_env": "not an env name"}], "pack.json/webhooks/0/secret_env"),
        ([{**HOOK, "url": "ftp://files.example/"}], "pack.json/webhooks/0/url"),
        (
            [{**HOOK, "secret": "in the pack"}],
            "pack.json/webhooks/0: Unknown setting: 'secret'",
        ),
        (
            [{k: v for k, v in HOOK.items() if k != "secret_env"}],
            "'secret_env' is required here",
        ),
    ],
)
def test_webhook_mistakes_are_reported_with_their_path(pack_copy, hooks, expected):
    set_hooks(pack_copy, hooks)
    problems = validate_pack(read_pack(pack_copy))
    assert any(expected in line for line in problems), problems


def test_pack_webhooks_load_update_and_are_disabled_when_dropped(app, runner, pack_copy):
    set_hooks(pack_copy, [HOOK])
    assert validate_pack(read_pack(pack_copy)) == []
    assert runner.invoke(args=["pack", "load", str(pack_copy)]).exit_code == 0
    hook = WebhookEndpoint.get(WebhookEndpoint.key == "district-im")
    assert (hook.pack, hook.active, hook.secret, hook.secret_env) == (
        "gongshu",
        True,
        None,
        HOOK["secret_env"],
    )
    assert export_pack("gongshu")["pack.json"]["webhooks"] == [HOOK]

    set_hooks(pack_copy, [{**HOOK, "url": "https://im2.example.gov.cn/hook"}])
    assert runner.invoke(args=["pack", "load", str(pack_copy)]).exit_code == 0
    assert (
        WebhookEndpoint.get(WebhookEndpoint.key == "district-im").url
        == "https://im2.example.gov.cn/hook"
    )

    set_hooks(pack_copy, [])
    assert runner.invoke(args=["pack", "load", str(pack_copy)]).exit_code == 0
    assert WebhookEndpoint.get(WebhookEndpoint.key == "district-im").active is False


def test_sanfang_deliver_runs_once(app, runner):
    result = runner.invoke(args=["deliver"])
    assert result.exit_code == 0 and "delivered 0" in result.output
