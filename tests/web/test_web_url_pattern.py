"""``url_pattern`` builds the same links as ``url_for``, quoting included."""

from __future__ import annotations

import pytest
from flask import Flask, url_for

from pages.links import VARY, id_url, url_pattern

ODD = ["dept-zhifa", "a b", "中文/x", "50%&?=#+", "", "~!$'()*,;:@"]


@pytest.mark.parametrize("root", ["", "/sanfang"])
@pytest.mark.parametrize("value", ODD)
def test_url_pattern_is_url_for(app: Flask, root: str, value: str) -> None:
    with app.test_request_context("/", environ_overrides={"SCRIPT_NAME": root}):
        args = {"from": "2026-10-01", "to": value or "x", "def": None}
        drill = url_pattern("review.evaluation_items", key=VARY, which=VARY, **args)
        assert drill(key=value or "k", which="rated") == url_for(
            "review.evaluation_items", key=value or "k", which="rated", **args
        )
        sort = url_pattern("review.evaluation_page", sort=VARY, dir="asc", **args)
        assert sort(sort=value) == url_for("review.evaluation_page", sort=value, dir="asc", **args)
        inside = url_pattern("review.overdue", level="community", within=VARY)
        assert inside(within=None) == url_for("review.overdue", level="community")
        item = url_pattern("work.item", item_id=VARY)
        assert item(item_id=7) == url_for("work.item", item_id=7)
        # one value in a path segment, as text (the one-value builder's quoting)
        node = url_pattern("review.dashboard", key=VARY)
        assert node(key=value or "k") == url_for("review.dashboard", key=value or "k")


@pytest.mark.parametrize("root", ["", "/sanfang"])
def test_id_url_is_url_for(app: Flask, root: str) -> None:
    with app.test_request_context("/", environ_overrides={"SCRIPT_NAME": root}):
        item = id_url("work.item", "item_id")
        for item_id in (1, 7, 123456789):
            assert item(item_id) == url_for("work.item", item_id=item_id)
        page = id_url("work.inbox", "page", view="items")
        assert page(3) == url_for("work.inbox", view="items", page=3)
        with pytest.raises(ValueError):
            item("7")  # type: ignore[arg-type]
