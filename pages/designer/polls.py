"""The designer's editor of a vote definition (表决事项): matters, options, who opens one,
the voting window, what is shown, and the threshold rules."""

from __future__ import annotations

import json
from typing import Any

from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from engine.core.errors import FieldProblem, Invalid
from pages.auth import requires
from pages.designer import bp
from pages.designer.kind_tab import kind_tab

BLANK_ROWS = 2


def _rows(form: MultiDict[str, str], prefix: str, flag: str) -> list[dict[str, Any]]:
    """The rows of a table of the form: key, label and a flag, blank rows skipped."""
    out: list[dict[str, Any]] = []
    count = form.get(f"{prefix}-count", "")
    for i in range(min(int(count), 60) if count.isascii() and count.isdigit() else 0):
        label = form.get(f"{prefix}-label-{i}", "").strip()
        key = form.get(f"{prefix}-key-{i}", "").strip() or (f"{prefix}{i + 1}" if label else "")
        if not label and not form.get(f"{prefix}-key-{i}", "").strip():
            continue
        row: dict[str, Any] = {"key": key, "label": label}
        if form.get(f"{prefix}-{flag}-{i}"):
            row[flag] = True
        elif prefix == "cat":
            row[flag] = False
        out.append(row)
    return out


def _whole(form: MultiDict[str, str], name: str, default: int) -> int:
    text = form.get(name, "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 4:
        raise Invalid(name, [FieldProblem(f"/{name}", _("Enter a whole number."))])
    return int(text) if text else default


def _rule(form: MultiDict[str, str], name: str) -> Any:
    try:
        return json.loads(form.get(name, ""))
    except (json.JSONDecodeError, RecursionError):
        raise Invalid(
            name, [FieldProblem(f"/thresholds/{name}", _("The rule is not valid JSON."))]
        ) from None


def apply_form(body: dict[str, Any], form: MultiDict[str, str]) -> None:
    """Change a poll body as the editor's form says (keys it does not show stay)."""
    body["name"] = form.get("name", "").strip() or body["name"]
    description = form.get("description", "").strip()
    if description:
        body["description"] = description
    else:
        body.pop("description", None)
    body["categories"] = _rows(form, "cat", "special")
    options = _rows(form, "opt", "agrees")
    agrees = form.get("agrees", "")
    for i, option in enumerate(options):
        option.pop("agrees", None)
        if agrees and option["key"] == agrees:
            option["agrees"] = True
    body["options"] = options
    body["max_choices"] = _whole(form, "max_choices", 1)
    body["window_days"] = _whole(form, "window_days", 14)
    chosen, before = form.getlist("open_roles"), body.get("open_roles", [])
    body["open_roles"] = [r for r in before if r in chosen] + [r for r in chosen if r not in before]
    body["show_choices"] = form.get("show_choices", "committee")
    body["thresholds"] = {"quorum": _rule(form, "quorum"), "passing": _rule(form, "passing")}


@bp.route("/<key>/poll", methods=["GET", "POST"])
@requires("design")
def poll_editor(key: str) -> Any:
    def extra(body: dict[str, Any]) -> dict[str, Any]:
        thresholds = body.get("thresholds", {})
        return {
            "rules_text": {
                name: json.dumps(thresholds.get(name), ensure_ascii=False, indent=1)
                for name in ("quorum", "passing")
            },
            "blank": BLANK_ROWS,
        }

    return kind_tab(key, "poll", apply_form, "designer.poll_editor", "designer/poll.html", extra)
