"""Where in the designer a JSON Pointer of a definition is edited (publish messages link there)."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import gettext as _


def _unescape(part: str) -> str:
    return part.replace("~1", "/").replace("~0", "~")


def locate(key: str, path: str, body: Any) -> tuple[str, str]:
    """(link, what) for a problem's path: the field, state, transition or routing rule."""
    parts = [_unescape(p) for p in path.split("/")[1:]]
    if (
        len(parts) >= 5
        and parts[:2] == ["workflow", "transitions"]
        and parts[2].isdigit()
        and parts[3] == "form"
    ):
        link = url_for("designer.transition_form", key=key, index=int(parts[2]))
        if parts[4:5] == ["properties"] and len(parts) >= 6:
            link = url_for("designer.field", key=key, target=f"t{parts[2]}", name=parts[5])
        return link, _("Form of transition %(name)s", name=parts[2])
    if parts[:1] == ["row_schema"]:
        parts = ["schema", *parts[1:]]
    if len(parts) >= 3 and parts[:2] == ["schema", "properties"]:
        name = parts[2]
        prop = (
            (body.get("schema") or body.get("row_schema") or {}).get("properties", {}).get(name, {})
        )
        label = prop.get("title", name) if isinstance(prop, dict) else name
        return url_for("designer.field", key=key, name=name), _("Field %(name)s", name=label)
    if parts[:1] == ["schema"]:
        return url_for("designer.form_builder", key=key), _("Form")
    if len(parts) >= 3 and parts[:2] == ["workflow", "states"]:
        states = (body.get("workflow") or {}).get("states") or {}
        if parts[2] in states:  # its panel beside the diagram
            label = (states[parts[2]] or {}).get("label") or parts[2]
            url = url_for("designer.workflow_state", key=key, state=parts[2])
            return url + f"#state-{parts[2]}", _("State %(name)s", name=label)
        return url_for("designer.workflow", key=key) + f"#state-{parts[2]}", _(
            "State %(name)s", name=parts[2]
        )
    if len(parts) >= 3 and parts[:2] == ["workflow", "transitions"] and parts[2].isdigit():
        transitions = (body.get("workflow") or {}).get("transitions") or []
        i = int(parts[2])
        label = transitions[i].get("label", i) if i < len(transitions) else i
        url = (
            url_for("designer.workflow_transition", key=key, index=i)
            if i < len(transitions)
            else url_for("designer.workflow", key=key)
        )
        return url + f"#tr-{i}", _("Transition %(name)s", name=label)
    if parts[:1] == ["workflow"]:
        return url_for("designer.workflow", key=key), _("Workflow")
    if len(parts) >= 4 and parts[0] == "routing" and parts[2] == "rules":
        return (
            url_for("designer.routing", key=key) + f"#rule-{parts[1]}-{parts[3]}",
            _(
                "Routing rule %(n)s of table %(table)s",
                n=int(parts[3]) + 1 if parts[3].isdigit() else parts[3],
                table=parts[1],
            ),
        )
    if parts[:1] == ["routing"]:
        return url_for("designer.routing", key=key), _("Routing")
    return url_for("designer.json_view", key=key), _("JSON view")


def located(key: str, problems: list[Any], body: Any) -> list[dict[str, str]]:
    out = []
    for p in problems:
        link, what = locate(key, p.path, body)
        out.append({"path": p.path, "message": p.message, "link": link, "what": what})
    return out
