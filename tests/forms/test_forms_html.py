"""The precompiled field block (forms/html.py) writes exactly what the templates write."""

from __future__ import annotations

import copy
import hashlib
from typing import Any

import jinja2
import pytest

import forms
from forms import templates, wtf
from tests.forms.conftest import ALL_KINDS, CONDITIONAL, TEMPLATES

# _form_fields.html as it was before forms/html.py: render_field for every field.
REFERENCE = """\
{%- from "forms/_macros.html" import render_field -%}
<div id="sf-fields">
{%- set form_errors = bound.errors|selectattr("path", "equalto", "")|list %}
{%- if form_errors %}
<div class="form-errors" role="alert">
{%- for error in form_errors %}
<p class="field-error">{{ error.message }}</p>
{%- endfor %}
</div>
{%- endif %}
{%- for spec in bound.specs %}
{{ render_field(bound.form[spec.name], spec, visible=bound.visible.get(spec.path, true)) }}
{%- endfor %}
</div>"""


def make_env(**overrides: str) -> jinja2.Environment:
    """An environment like the app's; ``overrides`` are site templates found first."""
    loader = jinja2.ChoiceLoader(
        [
            jinja2.DictLoader({"reference.html": REFERENCE, **overrides}),
            jinja2.FileSystemLoader(str(TEMPLATES)),
        ]
    )
    env = jinja2.Environment(
        loader=loader,
        extensions=["jinja2.ext.i18n"],
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    env.globals["attachment_url"] = lambda public_id: f"/files/{public_id}"  # the app's
    return env


def both(env: jinja2.Environment, bound: forms.BoundForm) -> tuple[str, str]:
    compiled = env.get_template("forms/_form_fields.html").render(bound=bound)
    reference = env.get_template("reference.html").render(bound=bound)
    return compiled, reference


def read_only(schema: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(schema)
    for prop in out["properties"].values():
        prop["readOnly"] = True
    return out


def with_help(schema: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(schema)
    for name, prop in out["properties"].items():
        prop["x-help"] = f"<{name}> & “帮助”"
        prop.setdefault("x-placeholder", f'"{name}"')
    out["required"] = list(out["properties"])
    return out


ANSWERS: dict[str, Any] = {
    "summary": "楼道<堆物>",
    "detail": "第一行\n第二行 & 'x'",
    "category": "噪音扰民",
    "urgency": "high",
    "satisfaction": 4,
    "anonymous": True,
    "floor": 3,
    "area": 12.5,
    "found_on": "2026-11-20",
    "found_at": "2026-11-20T08:30:00+08:00",
    "meet_at": "09:15",
    "email": "a@b.cn",
    "phone": "13812345678",
    "link": "https://x.cn/?a=1&b=2",
    "parties": ["物业", "业委会"],
    "depts": ["jianshe"],
    "photos": ["att_abc", "att_<x>"],
    "files": ["att_f1"],
    "rooms": [{"name": "客厅", "area": 12.5}, {"area": 3}, {"name": "卧室"}],
}
BAD_POST = [
    ("summary", "x"),
    ("floor", "99"),
    ("area", "abc"),
    ("found_on", "not a date"),
    ("email", "nope"),
    ("satisfaction", "9"),
    ("parties", "物业"),
    ("parties", "党组织"),
    ("parties", "业委会"),
    ("rooms-0-area", "0"),
    ("rooms-1-name", "<b>"),
    ("rooms-1-area", "x"),
]


def cases() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(name, schema, bind keywords); "validate" in the keywords validates first."""
    out: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    for label, schema in (
        ("plain", ALL_KINDS),
        ("read-only", read_only(ALL_KINDS)),
        ("help", with_help(ALL_KINDS)),
    ):
        out += [
            (f"{label} empty", schema, {}),
            (f"{label} stored", schema, {"data": ANSWERS}),
            (f"{label} posted", schema, {"formdata": BAD_POST, "validate": True}),
            (f"{label} empty post", schema, {"formdata": [], "validate": True}),
            (f"{label} add row", schema, {"formdata": [("_add", "rooms")], "data": ANSWERS}),
        ]
    out += [
        ("hidden", CONDITIONAL, {"data": {"category": "噪音扰民"}}),
        (
            "shown",
            CONDITIONAL,
            {
                "data": {"category": "违章搭建", "building_area": 12},
                "context": {"actor": {"roles": ["resident"]}},
            },
        ),
        (
            "rule fails",
            {
                "type": "object",
                "properties": {
                    "size": {"type": "integer", "title": "大小"},
                    "big": {
                        "type": "boolean",
                        "title": "大件",
                        "x-show-if": {">": [{"var": "data.size"}, 10]},
                    },
                },
            },
            {"formdata": [], "validate": True},
        ),
    ]
    return out


@pytest.mark.parametrize(
    ("schema", "kwargs"), [c[1:] for c in cases()], ids=[c[0] for c in cases()]
)
def test_compiled_block_equals_the_templates(
    schema: dict[str, Any], kwargs: dict[str, Any], md: Any
) -> None:
    kwargs = dict(kwargs)
    check = kwargs.pop("validate", False)
    if "formdata" in kwargs:
        kwargs["formdata"] = md(*kwargs["formdata"])
    bound = forms.bind(copy.deepcopy(schema), **kwargs)
    if check:
        bound.validate()
    compiled, reference = both(make_env(), bound)
    assert compiled == reference


def test_translated_words_are_the_same() -> None:
    env = make_env()
    words = {
        "Add a row": "添加一行",
        "Remove": "删除",
        "Row %(num)s": "第%(num)s行",
        "Choose…": "请选择",
        "required": "必填",
        "Keep this attachment": "保留",
    }
    env.install_gettext_callables(  # type: ignore[attr-defined]
        lambda s: words.get(s, s), lambda s, p, n: s if n == 1 else p, newstyle=True
    )
    bound = forms.bind(copy.deepcopy(ALL_KINDS), data=ANSWERS)
    compiled, reference = both(env, bound)
    assert compiled == reference
    assert "第3行" in compiled and 'title="必填"' in compiled and 'title="保留"' in compiled


@pytest.mark.parametrize(
    ("overrides", "kinds"),
    [
        ({"forms/_widget-text.html": '<p class="site-text">{{ spec.label }}</p>'}, {"text"}),
        ({"forms/_widget-select.html": '<p class="site-select">{{ spec.label }}</p>'}, {"select"}),
        ({"forms/_widget-file.html": "<p>file {{ spec.kind }}</p>"}, {"file", "photo"}),
        (
            {"forms/_field.html": "<p>field {{ spec.kind }}</p>"},
            set(templates.KINDS)
            - {k for k in templates.KINDS if templates.widget_name(k) in templates.SHIPPED},
        ),
        ({"forms/_label.html": "LABEL {{ spec.label }}"}, set(templates.KINDS)),
    ],
)
def test_site_overrides_are_honoured(overrides: dict[str, str], kinds: set[str]) -> None:
    env = make_env(**overrides)
    assert templates.overridden(env) == kinds
    bound = forms.bind(copy.deepcopy(ALL_KINDS), data=ANSWERS)
    compiled, reference = both(env, bound)
    assert compiled == reference
    marker = next(iter(overrides.values())).split("{{")[0]
    assert marker in compiled


def test_every_kind_is_checked_for_overrides() -> None:
    assert set(templates.KINDS) == set(wtf.FACTORIES)


def test_shipped_environment_overrides_nothing() -> None:
    assert templates.overridden(make_env()) == frozenset()


def test_shipped_hashes_match_the_templates() -> None:
    for name, digest in templates.SHIPPED.items():
        source = (TEMPLATES / name).read_text(encoding="utf-8")
        assert hashlib.sha256(source.encode("utf-8")).hexdigest() == digest, (
            f"{name} changed: change forms/html.py alike, then its hash in forms/templates.py"
        )


def test_every_shipped_widget_template_is_listed() -> None:
    shipped = {f"forms/{path.name}" for path in (TEMPLATES / "forms").glob("_*.html")}
    assert shipped - set(templates.SHIPPED) == {"forms/_form_fields.html"}
