"""The workflow page's item-wide settings as forms: the title, the resolved states, state
renames, and the notification texts and ``set`` effects when an item is raised.

Each posts rows and writes the definition's JSON; what the rows cannot show (a title rule
written by hand) is kept as it is unless the admin replaces it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from werkzeug.datastructures import MultiDict

TITLE_ROWS = 4


def title_rows(title: Any) -> tuple[list[dict[str, str]], bool]:
    """The title rule as rows ``{"source": "field"|"text", "value": …}`` (blanks to fill), and
    whether the rows show it (False: a hand-written rule, kept unless replaced)."""
    if title is None:
        parts: list[Any] = []
    elif isinstance(title, Mapping) and list(title) == ["cat"] and isinstance(title["cat"], list):
        parts = list(title["cat"])
    else:
        parts = [title]
    rows = []
    for part in parts:
        if isinstance(part, Mapping) and list(part) == ["var"] and isinstance(part["var"], str):
            if not part["var"].startswith("data.") or "." in part["var"][5:]:
                return _blank([]), False
            rows.append({"source": "field", "value": part["var"][5:]})
        elif isinstance(part, str):
            rows.append({"source": "text", "value": part})
        else:
            return _blank([]), False
    return _blank(rows), True


def _blank(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    return rows + [{"source": "field", "value": ""}] * max(1, TITLE_ROWS - len(rows))


def posted_title(form: MultiDict[str, str], old: Any) -> Any:
    """The title rule the rows describe (None: no rows, the engine's default title)."""
    if not title_rows(old)[1] and not form.get("title-replace"):
        return old
    parts: list[Any] = []
    k = 0
    while f"title-{k}-source" in form:
        source = form.get(f"title-{k}-source")
        value = form.get(f"title-{k}-{'text' if source == 'text' else 'field'}", "")
        k += 1
        if source == "field" and value.strip():
            parts.append({"var": f"data.{value.strip()}"})
        elif source == "text" and value:
            parts.append(value)
    if not parts:
        return None
    if len(parts) == 1 and not isinstance(parts[0], str):
        return parts[0]
    return {"cat": parts}


def default_resolved(states: Mapping[str, Any]) -> list[str]:
    """The states that count as resolved when the definition names none (engine/definitions/runtimes.py)."""
    return [k for k, s in states.items() if k == "resolved" or (s or {}).get("final")]


def apply_resolved(workflow: dict[str, Any], form: MultiDict[str, str]) -> None:
    """``resolved_states`` from the ticked boxes; left unwritten while it says the default."""
    if "resolved-shown" not in form:
        return
    states = workflow.get("states") or {}
    chosen = [k for k in states if k in form.getlist("resolved")]
    if "resolved_states" in workflow or chosen != default_resolved(states):
        workflow["resolved_states"] = chosen


def apply_live_board(body: dict[str, Any], form: MultiDict[str, str]) -> None:
    """``live_board`` from its checkbox (left out while false, the default)."""
    if "resolved-shown" not in form:
        return
    if form.get("live_board"):
        body["live_board"] = True
    else:
        body.pop("live_board", None)


def rename_state(body: dict[str, Any], old: str, new: str) -> None:
    """Give state ``old`` the key ``new`` everywhere the workflow and the escalation steps name
    it (open items in it move on publishing: the publish page proposes ``old`` → ``new``).
    A hand-written rule comparing ``item.state`` is not rewritten."""
    for step in body.get("escalation") or []:
        if old in (step.get("states") or []):
            step["states"] = [new if s == old else s for s in step["states"]]
    workflow = body["workflow"]
    workflow["states"] = {(new if k == old else k): v for k, v in workflow["states"].items()}
    if workflow.get("initial") == old:
        workflow["initial"] = new
    if old in (workflow.get("resolved_states") or []):
        workflow["resolved_states"] = [new if s == old else s for s in workflow["resolved_states"]]
    for t in workflow.get("transitions", []):
        t["from"] = [new if s == old else s for s in t.get("from", [])]
        if t.get("to") == old:
            t["to"] = new
        for branch in t.get("to_if") or []:
            if branch.get("to") == old:
                branch["to"] = new
