"""A definition's mistakes read in Chinese: every broken-definition case of the check tests,
checked again in zh_CN, says its message without an English word, key or rule name outside
the quotes “…” that hold what the admin typed (a key, a label, a value); in English the
same checks still speak English; the designer's publish page shows them in Chinese.

The rule, precisely: remove every “…” span from the message; what is left has no ASCII
letter. Digits, dates and punctuation may stay.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.authoring.packs import read_pack, validate_pack
from engine.definitions.checks import (
    definition_problems,
    graph_findings,
    structure_problems,
    timeout_problems,
    webhook_problems,
)
from engine.store.models import Definition
from tests.engine import (
    test_engine_directories,
    test_engine_escalation,
    test_engine_pack_webhooks,
    test_engine_packs,
    test_engine_profile_facts,
)

SEED = Path(__file__).resolve().parents[2] / "seed" / "gongshu"
QUOTED = re.compile(r"“[^”]*”")
LETTERS = re.compile(r"[A-Za-z]+")


def foreign_words(message: str) -> list[str]:
    """The runs of ASCII letters of ``message`` outside its “…” quotes."""
    return LETTERS.findall(QUOTED.sub("", message))


def _cases(test: Callable[..., Any]) -> list[tuple[Any, ...]]:
    """The argument tuples of ``test``'s parametrize mark (the broken fixtures it checks)."""
    [mark] = [m for m in test.pytestmark if m.name == "parametrize"]
    return [tuple(getattr(case, "values", case)) for case in mark.args[1]]


def _seed(name: str) -> dict[str, Any]:
    return json.loads((SEED / name).read_text("utf-8"))


def _changed(body: dict[str, Any], change: Callable[[Any], Any]) -> dict[str, Any]:
    body = copy.deepcopy(body)
    change(body)
    return body


def broken_definitions() -> Iterator[tuple[str, Callable[[], list[str]]]]:
    """(case, its messages) for every broken definition, manifest and org file the tests hold."""
    whistle = _seed("items/whistle.json")
    for i, (change, path, _m) in enumerate(
        _cases(test_engine_escalation.test_escalation_mistakes_have_json_pointer_paths)
    ):
        yield (
            f"escalation-{i}-{path}",
            lambda c=change: [
                p.message
                for p in definition_problems(
                    _changed(whistle, c),
                    roles=test_engine_escalation.ROLES,
                    units={"sanfangban", "dept-zhifa"},
                )
            ],
        )
    profile = _seed("profiles/compound.json")
    for i, (change, expected) in enumerate(
        _cases(test_engine_profile_facts.test_profile_fact_mistakes_point_at_their_path)
    ):
        yield (
            f"profile-{i}-{expected.split(':')[0]}",
            lambda c=change: [
                p.message for p in definition_problems(_changed(profile, c), roles=(), units=())
            ],
        )
    directory = _seed("directories/social-orgs.json")
    for i, (change, path, _w) in enumerate(
        _cases(test_engine_directories.test_pack_checks_name_the_mistake)
    ):
        yield (
            f"directory-{i}-{path}",
            lambda c=change: [
                p.message
                for p in definition_problems(
                    _changed(directory, c), roles=test_engine_directories.ROLES, units=()
                )
            ],
        )
    pack = read_pack(SEED)
    for i, (name, change, _e) in enumerate(
        _cases(test_engine_packs.test_each_mistake_is_reported_with_its_path)
    ):

        def lines(name: str = name, change: Callable[[Any], Any] = change) -> list[str]:
            files = copy.deepcopy(pack)
            if name == files.manifest.get("org", "org.json"):
                change(files.org)
            else:
                change(files.definitions[name])
            return [line.partition(": ")[2] for line in validate_pack(files)]

        yield f"pack-{i}-{name}", lines
    for i, (hooks, _e) in enumerate(
        _cases(test_engine_pack_webhooks.test_webhook_mistakes_are_reported_with_their_path)
    ):
        manifest = {**pack.manifest, "webhooks": hooks}
        yield (
            f"webhooks-{i}",
            lambda m=manifest: [
                p.message for p in structure_problems(m, "pack") or webhook_problems(m)
            ],
        )
    bell = _seed("items/bell.json")["workflow"]
    for i, change in enumerate(
        [
            lambda w: w["states"]["resolved"].update(on_timeout="nope"),
            lambda w: w["states"]["resolved"].update(on_timeout="accept"),
            lambda w: w["states"]["resolved"].update(on_timeout="rate"),
            lambda w: w["states"]["resolved"].pop("hours"),
            lambda w: w["states"]["resolved"].pop("on_timeout"),
        ]
    ):
        yield (
            f"timeout-{i}",
            lambda c=change: [p.message for p in timeout_problems(_changed(bell, c))],
        )
    yield (
        "graph",
        lambda: [
            f.message
            for f in graph_findings(
                {**bell, "states": {**bell["states"], "limbo": {"label": "悬空"}}}, set()
            )
        ],
    )


CASES = list(broken_definitions())


@pytest.mark.parametrize("case, messages", CASES, ids=[c for c, _m in CASES])
def test_every_check_message_is_chinese(app, case, messages):
    with app.test_request_context("/?lang=zh_CN"):
        said = messages()
    assert said, f"{case}: the broken fixture no longer breaks anything"
    english = {m: foreign_words(m) for m in said if foreign_words(m)}
    assert not english, english


def test_english_stays_english(app):
    whistle = _seed("items/whistle.json")
    whistle["workflow"]["transitions"][0]["roles"] = ["wizard"]
    with app.test_request_context("/?lang=en"):
        said = [p.message for p in definition_problems(whistle, roles=set(), units=set())]
    assert "There is no role with the key 'wizard' in the pack" in said


def test_the_rule_allows_only_quoted_values():
    assert foreign_words("环节“Open”不是结束环节") == []
    assert foreign_words("没有键名为“x”的环节；可用的有：“a”、“b”") == []
    assert foreign_words("state “x” is not defined") == ["state", "is", "not", "defined"]
    assert foreign_words("必填字段 x 不在 properties 中") == ["x", "properties"]


def test_the_designer_names_the_mistake_in_chinese_on_publishing(app, client, auth):
    """A transition nobody may take: the publish page says so in Chinese, by its label."""
    from engine.authoring import designer

    auth.login("admin")
    body = designer.draft_of(Definition.get(Definition.key == "bell"))
    body["workflow"]["transitions"][0]["roles"] = []  # the deliberate mistake
    label = body["workflow"]["transitions"][0]["label"]
    saved = client.post("/admin/designer/bell/json", data={"body": json.dumps(body)})
    assert saved.status_code == 303

    page = client.get("/admin/designer/bell/publish").get_data(as_text=True)
    assert f"没有人能执行流转“{label}”：请指定角色，或设为某个环节超时后自动执行" in page
    assert 'data-path="/workflow/transitions/0/roles"' in page
    assert ">/workflow/transitions/0/roles<" not in page  # the pointer is no word to show

    refused = client.post("/admin/designer/bell/publish")
    assert refused.status_code == 422
    assert f"没有人能执行流转“{label}”" in refused.get_data(as_text=True)

    english = client.get("/admin/designer/bell/publish?lang=en").get_data(as_text=True)
    assert f"Nobody may take the transition &#39;{label}&#39;" in english
