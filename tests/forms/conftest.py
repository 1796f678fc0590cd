"""Fixtures for the forms tests: a schema with every kind, a Jinja environment like the app's."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import jinja2
import pytest
from werkzeug.datastructures import MultiDict

import forms

TEMPLATES = Path(__file__).resolve().parents[2] / "pages" / "templates"

ALL_KINDS: dict[str, Any] = {
    "type": "object",
    "title": "全部字段",
    "required": ["summary", "category"],
    "properties": {
        "summary": {
            "type": "string",
            "title": "问题概述",
            "minLength": 2,
            "maxLength": 50,
            "x-placeholder": "一句话说明",
        },
        "detail": {"type": "string", "title": "详细描述", "x-widget": "textarea"},
        "category": {"type": "string", "title": "类别", "enum": ["违章搭建", "噪音扰民", "其他"]},
        "urgency": {
            "type": "string",
            "title": "紧急程度",
            "x-widget": "radio",
            "oneOf": [{"const": "low", "title": "一般"}, {"const": "high", "title": "紧急"}],
        },
        "satisfaction": {
            "type": "integer",
            "title": "满意度",
            "x-widget": "radio",
            "oneOf": [{"const": n, "title": f"{n}星"} for n in range(1, 6)],
        },
        "anonymous": {"type": "boolean", "title": "匿名反映"},
        "floor": {"type": "integer", "title": "楼层", "minimum": 1, "maximum": 33},
        "area": {"type": "number", "title": "面积", "exclusiveMinimum": 0, "multipleOf": 0.5},
        "found_on": {"type": "string", "format": "date", "title": "发现日期"},
        "found_at": {"type": "string", "format": "date-time", "title": "发现时间"},
        "meet_at": {"type": "string", "format": "time", "title": "约见时间"},
        "email": {"type": "string", "format": "email", "title": "邮箱"},
        "phone": {"type": "string", "format": "phone", "title": "联系电话"},
        "link": {"type": "string", "format": "uri", "title": "链接"},
        "parties": {
            "type": "array",
            "title": "涉及方",
            "uniqueItems": True,
            "maxItems": 2,
            "items": {"type": "string", "enum": ["党组织", "业委会", "物业"]},
        },
        "depts": {
            "type": "array",
            "title": "部门",
            "x-widget": "multiselect",
            "uniqueItems": True,
            "items": {
                "type": "string",
                "oneOf": [
                    {"const": "zhifa", "title": "执法局"},
                    {"const": "jianshe", "title": "建设局"},
                ],
            },
        },
        "photos": {
            "type": "array",
            "title": "现场照片",
            "x-widget": "photo",
            "maxItems": 9,
            "x-accept": "image/*",
            "items": {"type": "string", "format": "attachment"},
        },
        "files": {
            "type": "array",
            "title": "附件",
            "x-widget": "file",
            "items": {"type": "string", "format": "attachment"},
        },
        "rooms": {
            "type": "array",
            "title": "房间",
            "minItems": 0,
            "maxItems": 3,
            "items": {
                "type": "object",
                "required": ["area"],
                "properties": {
                    "name": {"type": "string", "title": "名称"},
                    "area": {"type": "number", "title": "面积", "minimum": 1},
                },
            },
        },
    },
}

CONDITIONAL: dict[str, Any] = {
    "type": "object",
    "required": ["category", "building_area"],
    "properties": {
        "category": {"type": "string", "title": "类别", "enum": ["违章搭建", "噪音扰民"]},
        "building_area": {
            "type": "number",
            "title": "搭建面积",
            "minimum": 1,
            "x-show-if": {"==": [{"var": "data.category"}, "违章搭建"]},
        },
        "permit": {
            "type": "boolean",
            "title": "有无审批",
            "x-show-if": {
                "and": [{"var": "data.building_area"}, {">": [{"var": "data.building_area"}, 10]}]
            },
        },
        "owner_only": {
            "type": "string",
            "title": "仅业主可见",
            "x-show-if": {"in": ["resident", {"var": ["actor.roles", []]}]},
        },
    },
}


@pytest.fixture
def env() -> jinja2.Environment:
    """A Jinja environment like the app's: same loader root, i18n, autoescape."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        extensions=["jinja2.ext.i18n"],
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    environment.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    environment.globals["attachment_url"] = lambda public_id: f"/files/{public_id}"  # the app's
    return environment


@pytest.fixture
def render(env: jinja2.Environment) -> Any:
    """Render a bound form's field block."""

    def render_bound(bound: forms.BoundForm) -> str:
        return env.get_template("forms/_form_fields.html").render(bound=bound)

    return render_bound


@pytest.fixture
def all_kinds() -> dict[str, Any]:
    """A schema with one field of every kind (a fresh copy)."""
    return copy.deepcopy(ALL_KINDS)


@pytest.fixture
def conditional() -> dict[str, Any]:
    """A schema whose fields depend on each other and on the context."""
    return copy.deepcopy(CONDITIONAL)


@pytest.fixture
def md() -> Any:
    """Build form data as the browser posts it: md(("name", "value"), ...)."""

    def build(*pairs: tuple[str, str]) -> MultiDict[str, str]:
        return MultiDict(list(pairs))

    return build
