"""What a designer's condition may read besides the answers, as condition-builder rows.

The rule document (docs/pack-format.md, "What a rule sees") holds the summonses by state
(``assignments.*``), the item's age and priority (``item.*``), the acting user's roles
(``actor.roles``: the raiser's, when the item is being raised), the node, its kind and its
file (``node.path``, ``node.kind``, ``node.profile.*``). Each is offered in words, typed like a field (a count is a
whole number, a role one of the pack's roles), so no admin writes ``{"var": ...}``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from engine.core.errors import NotFound
from engine.core.i18n import gettext as _
from engine.store.models import OrgNode
from forms.builder import FieldRow, rows_from_schema


def N_(text: str) -> str:
    """Marks a msgid for extraction; translated where it is used (engine.i18n)."""
    return text


SUMMONS_COUNTS = (
    ("open", N_("Summoned units: not finished")),
    ("summoned", N_("Summoned units: not yet reported in")),
    ("reported", N_("Summoned units: reported in, handling")),
    ("done", N_("Summoned units: finished")),
    ("declined", N_("Summoned units: declined")),
    ("overdue", N_("Summoned units: overdue")),
    ("total", N_("Summoned units: all")),
)
ITEM_FACTS = (
    ("age_hours", "number", N_("Hours since it was raised")),
    ("hours_in_state", "number", N_("Hours in its present state")),
    ("priority", "integer", N_("Priority")),
)
NODE_KIND_WORDS = {
    "street": N_("street"),
    "community": N_("community"),
    "compound": N_("compound"),
    "building": N_("building"),
}
# Where a condition is asked: at raising (a field's visibility, a routing rule) nothing is
# summoned yet; on a transition (a guard, a branch) everything is known.
WHERE = ("raise", "move")


def context_rows(
    roles: Mapping[str, str],
    node_kinds: Iterable[str],
    *,
    where: str = "move",
    profile_schema: Mapping[str, Any] | None = None,
    places: list[tuple[str, str]] | None = None,
) -> list[FieldRow]:
    """The context a condition may read, as typed rows named by their rule-document path.

    :param roles: role key → label (the pack's).
    :param node_kinds: the kinds of node the item is raised at (whose names and file apply).
    :param where: ``raise`` (no summonses yet) or ``move``.
    :param profile_schema: the file's form, when the pack defines one for those nodes.
    :param places: (key, name) of the places to offer; None: every district, street,
        community and node of those kinds (one query).
    """
    rows: list[FieldRow] = []
    if where == "move":
        rows += [
            FieldRow(f"assignments.{key}", "integer", _(label)) for key, label in SUMMONS_COUNTS
        ]
        rows += [FieldRow(f"item.{key}", kind, _(label)) for key, kind, label in ITEM_FACTS]
    role_row = FieldRow(
        "actor.roles",
        "checkboxes",
        _("Roles of the person raising it")
        if where == "raise"
        else _("Roles of the person acting"),
    )
    role_row.options = list(roles.items())
    rows.append(role_row)
    kinds = list(node_kinds) or ["compound"]
    where_row = FieldRow("node.path", "checkboxes", _("Where (street, community or compound)"))
    where_row.options = (
        places
        if places is not None
        else list(
            OrgNode.select(OrgNode.key, OrgNode.name)
            .where(
                OrgNode.kind.in_(["district", "street", "community", *kinds])
                & (OrgNode.kind != "department")
            )
            .order_by(OrgNode.path)
            .limit(500)
            .tuples()
        )
    )
    rows.append(where_row)
    kind_row = FieldRow("node.kind", "select", _("Kind of place"))
    kind_row.options = [(k, _(NODE_KIND_WORDS[k]) if k in NODE_KIND_WORDS else k) for k in kinds]
    rows.append(kind_row)
    for row in rows_from_schema(profile_schema or {}).rows:
        if row.kind in ("group", "photo", "file"):
            continue
        rows.append(
            FieldRow(
                f"node.profile.{row.name}",
                row.kind,
                _("File: %(label)s") % {"label": row.label or row.name},
                options=row.options,
                value_type=row.value_type,
            )
        )
    return rows


def profile_schema_for(node_kinds: Iterable[str]) -> dict[str, Any] | None:
    """The file's form of the first node kind that has one (None: the pack defines none)."""
    return profile_form_for(node_kinds)[1]


def profile_form_for(
    node_kinds: Iterable[str],
) -> tuple[tuple[int, str] | None, dict[str, Any] | None]:
    """:func:`profile_schema_for` with what tells that form from any other: its version's id
    and digest (a newly published form is another version; None when the pack defines none).
    """
    from engine.records.profiles import profile_version

    for kind in node_kinds:
        try:
            version = profile_version(kind)
        except NotFound:
            continue
        return (version.id, version.digest), dict(version.body.get("schema") or {})
    return None, None
