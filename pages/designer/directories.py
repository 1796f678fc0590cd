"""The designer's editor of a directory definition (名录): where it is kept, who keeps and
who reads it, who needs its personal answers whole, the target per place and the field that
names an entry. Its entry form is edited in the form builder."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

import forms
from engine.authoring import designer
from engine.core.errors import FieldProblem, Invalid
from pages.auth import requires
from pages.designer import bp
from pages.designer.kind_tab import kind_tab


def _chosen(form: MultiDict[str, str], name: str, before: list[str]) -> list[str]:
    """The roles ticked, those kept in their old order first."""
    chosen = form.getlist(name)
    return [r for r in before if r in chosen] + [r for r in chosen if r not in before]


def apply_form(body: dict[str, Any], form: MultiDict[str, str]) -> None:
    """Change a directory body as the editor's form says (keys it does not show stay).

    :raises Invalid: the target is not a whole number (paths as the pack checks name them).
    """
    body["name"] = form.get("name", "").strip() or body["name"]
    for name in ("description", "entry_label"):
        text = form.get(name, "").strip()
        if text:
            body[name] = text
        else:
            body.pop(name, None)
    kinds = [k for k in designer.DIRECTORY_NODE_KINDS if k in form.getlist("node_kinds")]
    body["node_kinds"] = kinds or body.get("node_kinds", ["compound"])
    for name in ("edit_roles", "read_roles", "personal_roles"):
        body[name] = _chosen(form, name, list(body.get(name) or []))
    if not body["personal_roles"]:
        body.pop("personal_roles")
    least = form.get("min_per_node", "").strip()
    if not least:
        body.pop("min_per_node", None)
    elif least.isascii() and least.isdigit() and len(least) <= 6 and int(least) >= 1:
        body["min_per_node"] = int(least)
    else:
        message = _("Enter a whole number of at least 1, or leave it empty.")
        raise Invalid(message, [FieldProblem("/min_per_node", message)])
    title = form.get("title_field", "")
    if title:
        body["title_field"] = title


def title_choices(body: dict[str, Any]) -> list[tuple[str, str]]:
    """The entry form's plain answers that may name an entry (not personal ones)."""
    try:
        specs = forms.field_specs(body.get("schema") or {})
    except ValueError:
        return []
    return [(s.name, s.label) for s in specs if not s.personal and not s.children]


@bp.route("/<key>/directory", methods=["GET", "POST"])
@requires("design")
def directory_editor(key: str) -> Any:
    def extra(body: dict[str, Any]) -> dict[str, Any]:
        return {
            "node_kinds": {
                "district": _("the district"),
                "street": _("streets"),
                "community": _("communities"),
                "compound": _("compounds"),
            },
            "titles": title_choices(body),
        }

    return kind_tab(
        key, "directory", apply_form, "designer.directory_editor", "designer/directory.html", extra
    )
