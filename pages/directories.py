"""Directories (名录) on /work/directories: what each directory holds in the actor's reach,
the nodes it is kept at with their counts against the target (rolled up by street and
community), a node's entries, and the add, edit and retire forms — engine/residents/directories.py."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

import forms
from engine.core import clock
from engine.core.errors import ServiceError
from engine.definitions.definitions import applies_where
from engine.org.scope import NODE_COLUMNS
from engine.residents import directories as ds
from engine.store.models import DefinitionVersion, OrgNode
from engine.store.prepared import prepared
from engine.store.resident_tables import DirectoryEntry
from pages.auth import requires
from pages.itemviews import bind, submit
from pages.plainwords import people_date
from pages.work import bp


def _readable() -> list[DefinitionVersion]:
    """The directories the actor reads somewhere."""
    return [v for v in ds.definitions() if ds.reach(g.actor, v.body)]


def _version(key: str) -> DefinitionVersion:
    version = next((v for v in _readable() if v.definition.key == key), None)
    if version is None:
        abort(404)
    return version


def _node(version: DefinitionVersion, node_key: str, *, edit: bool = False) -> OrgNode:
    node = next(iter(prepared("directories.node", _node_by_key, wanted=node_key)), None)
    body = version.body
    if node is None or node.kind not in body["node_kinds"] or not ds.may_read(g.actor, body, node):
        abort(404)
    if edit and not ds.may_edit(g.actor, body, node):
        abort(403)
    return node


def _node_by_key(wanted: Any) -> Any:
    return OrgNode.select(*NODE_COLUMNS).where(OrgNode.key == wanted)  # not its file


def columns(body: Mapping[str, Any]) -> list[forms.FieldSpec]:
    """The entry form's fields shown as a table's columns (not files or groups)."""
    return [
        s
        for s in forms.field_specs(body["schema"])
        if not s.children and s.kind not in ("photo", "file")
    ]


def cells(
    specs: list[forms.FieldSpec], body: Mapping[str, Any], data: Mapping[str, Any], whole: bool
) -> list[Any]:
    """An entry's answers in column order, option titles for choices, personal ones masked."""
    shown = ds.shown_data(body, data or {}, whole)
    out = []
    for spec in specs:
        value = shown.get(spec.name)
        if isinstance(value, bool):
            value = _("Yes") if value else _("No")
        elif isinstance(value, list):
            value = "、".join(str(dict(spec.options or []).get(v, v)) for v in value)
        elif spec.kind == "date" and isinstance(value, str) and not spec.personal:
            value = people_date(value)
        elif value is not None:
            value = dict(spec.options or []).get(value, value)
        out.append("" if value is None else value)
    return out


@bp.route("/directories")
@requires("directories")
def directories() -> Any:
    """Every directory the actor reads: entries and nodes in their reach, nodes at target."""
    versions = _readable()
    reaches = {v.id: ds.reach(g.actor, v.body) for v in versions}
    paths = sorted({p for ps in reaches.values() for p in ps})
    kinds = sorted({k for v in versions for k in v.body["node_kinds"]})
    nodes = ds.places(paths, kinds)  # dicts, without the nodes' files
    counted = ds.active_counts([v.definition_id for v in versions]) if paths else {}
    boards = []
    for version in versions:
        body = version.body
        kept_at, within = set(body["node_kinds"]), tuple(reaches[version.id])
        applies = applies_where(body)  # the scope's path looked up once, not per place
        mine = [
            n
            for n in nodes
            if n["kind"] in kept_at
            and applies(n["path"])
            and (n["path"].startswith(within) or any(p.startswith(n["path"]) for p in within))
        ]
        per = [counted.get((version.definition_id, n["id"]), 0) for n in mine]
        least = body.get("min_per_node")
        if not mine:
            continue
        boards.append(
            {
                "key": version.definition.key,
                "body": body,
                "entries": sum(per),
                "nodes": len(mine),
                "at_min": sum(1 for c in per if least and c >= least),
                "single": mine[0] if len(mine) == 1 else None,
                "kinds": kinds_text(body),
            }
        )
    return render_template("work/directories.html", boards=boards)


def kinds_text(body: Mapping[str, Any]) -> str:
    """The node kinds a directory is kept at, in words."""
    words = {
        "district": _("the district"),
        "street": _("streets"),
        "community": _("communities"),
        "compound": _("compounds"),
    }
    return "、".join(words[k] for k in body["node_kinds"])


# Places a directory's list shows on one page; with more (a district of 1,000 compounds:
# 1,243 places, 15.5 ms and a page no one reads to the end) it shows its streets first,
# each with its counts, and a street's places one click down (``?street=<key>``).
STREETS_FIRST_ABOVE = 200


@bp.route("/directories/<key>")
@requires("directories")
def directory(key: str) -> Any:
    """The nodes the directory is kept at in the actor's reach, each with its count against the
    target, grouped by street (and by community for compounds) with subtotals; past
    ``STREETS_FIRST_ABOVE`` places, the streets with their subtotals, and one street's places
    when ``street`` names it."""
    version = _version(key)
    body = version.body
    nodes, areas = ds.kept_places(g.actor, body)  # dicts, without the nodes' files
    counted = ds.counts_at(version, [n["id"] for n in nodes])
    least = body.get("min_per_node")
    groups = _groups(nodes, areas, counted, least)
    chosen = request.args.get("street")
    streets, summary = [], []
    if chosen:  # one street's places, with its own totals (not the reach's facts)
        groups = [grp for grp in groups if grp["street_key"] == chosen]
        if not groups:
            abort(404)  # no street of that key among the places the actor reads
        nodes = [member["node"] for grp in groups for member in grp["nodes"]]
    else:
        paths = ds.reach(g.actor, body)
        summary = _summary(body, key, paths[0]) if len(paths) == 1 else []
        if len(nodes) > STREETS_FIRST_ABOVE:
            streets = _by_street(groups)
            groups = [grp for grp in groups if not grp["street_key"]]  # the district's own
    return render_template(
        "work/directory.html",
        key=key,
        body=body,
        groups=groups,
        streets=streets,
        street=groups[0]["street"] if chosen else None,
        total=sum(counted.get(n["id"], 0) for n in nodes),
        at_min=sum(1 for n in nodes if counted.get(n["id"], 0) >= least) if least else None,
        kept=len(nodes),
        kinds=kinds_text(body),
        summary=summary,
    )


def _groups(
    nodes: list[dict[str, Any]],
    areas: dict[int, dict[str, Any]],
    counted: dict[int, int],
    least: int | None,
) -> list[dict[str, Any]]:
    """The places grouped by street (and community, for compounds), by the streets' and
    communities' names (two streets of one name stay apart, by key), each group with its
    street's name and key, its entries and how many places reach the target."""
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for node in nodes:
        ancestors = [
            areas[int(p)] for p in node["path"].strip("/").split("/")[:-1] if int(p) in areas
        ]
        street = next((a for a in ancestors if a["kind"] == "street"), None)
        community = next((a["name"] for a in ancestors if a["kind"] == "community"), "")
        count = counted.get(node["id"], 0)
        name, street_key = (street["name"], street["key"]) if street else ("", "")
        groups[name, street_key, community if node["kind"] == "compound" else ""].append(
            {"node": node, "count": count, "short": bool(least) and count < least}
        )
    return [
        {
            "street": street,
            "street_key": street_key,
            "community": community,
            "nodes": members,
            "entries": sum(m["count"] for m in members),
            "at_min": sum(1 for m in members if not m["short"]) if least else None,
        }
        for (street, street_key, community), members in sorted(groups.items())
    ]


def _by_street(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The groups of each street summed into one row (key, name, places, entries, places
    at the target), by name; the district's own places (no street) are left out."""
    rows: dict[str, dict[str, Any]] = {}
    for grp in groups:
        if not grp["street_key"]:
            continue
        row = rows.setdefault(
            grp["street_key"],
            {"key": grp["street_key"], "name": grp["street"], "places": 0, "entries": 0},
        )
        row["places"] += len(grp["nodes"])
        row["entries"] += grp["entries"]
        if grp["at_min"] is not None:
            row["at_min"] = row.get("at_min", 0) + grp["at_min"]
    return list(rows.values())


def _summary(body: Mapping[str, Any], key: str, path: str) -> list[tuple[str, str]]:
    """The area's facts of the directory (the refreshed cache): each choice's options with
    their counts and shares, and the sums — what the index and the list read."""
    from engine.metrics.facts import cached_many

    node_id = int(path.strip("/").split("/")[-1])
    got = (cached_many([node_id]).get(node_id) or {}).get("directories", {}).get(key)
    if not got:
        return []
    out = []
    for spec in columns(body):
        if spec.name in got.get("by", {}):
            parts = [
                f"{label} {got['by'][spec.name].get(str(value), 0)}"
                + (
                    f"({got['share'][spec.name][str(value)]}%)"
                    if got["share"][spec.name].get(str(value)) is not None
                    else ""
                )
                for value, label in spec.options
            ]
            out.append((spec.label, " · ".join(parts)))
        elif spec.name in got.get("sum", {}):
            out.append((spec.label, str(got["sum"][spec.name])))
    return out


@bp.route("/directories/<key>/<node_key>")
@requires("directories")
def directory_node(key: str, node_key: str) -> Any:
    """The entries kept at one node; the retired ones below, with why."""
    version = _version(key)
    node = _node(version, node_key)
    body = version.body
    whole = ds.sees_personal(g.actor, body, node)
    specs = columns(body)
    active = ds.entries_at(version, node)
    retired = ds.entries_at(version, node, retired=True)
    sums = [
        sum(
            e["data"].get(s.name) or 0
            for e in active
            if isinstance(e["data"].get(s.name), int | float)
        )
        if s.value_type in ("integer", "number") and not s.options and not s.personal
        else None
        for s in specs
    ]
    return render_template(
        "work/directory_node.html",
        key=key,
        body=body,
        node=node,
        specs=specs,
        active=[(e, cells(specs, body, e["data"], whole)) for e in active],
        retired=[(e, cells(specs, body, e["data"], whole)) for e in retired],
        may_edit=ds.may_edit(g.actor, body, node),
        least=body.get("min_per_node"),
        sums=sums if any(x is not None for x in sums) else None,
    )


def _form_page(
    version: DefinitionVersion, node: OrgNode, data: Mapping[str, Any] | None, act: Any
) -> Any:
    body = version.body
    bound = bind(
        body["schema"], {"node": {"key": node.key, "kind": node.kind, "name": node.name}}, data
    )
    result, loose = submit(bound, act)
    if result is not None:
        return result
    status = 422 if request.method == "POST" and not request.form.get("_refresh") else 200
    return render_template(
        "work/directory_entry.html",
        bound=bound,
        body=body,
        node=node,
        loose=loose,
        key=version.definition.key,
        editing=data is not None,
    ), status


@bp.route("/directories/<key>/<node_key>/new", methods=["GET", "POST"])
@requires("directories")
def directory_add(key: str, node_key: str) -> Any:
    version = _version(key)
    node = _node(version, node_key, edit=True)

    def done(data: dict[str, Any]) -> Any:
        ds.add(g.actor, key, node, data, now=clock.now())
        flash(_("Added."))
        return redirect(url_for("work.directory_node", key=key, node_key=node.key), 303)

    return _form_page(version, node, None, done)


def _entry(entry_id: int) -> tuple[DirectoryEntry, OrgNode, DefinitionVersion]:
    entry, node = ds.get_entry(g.actor, entry_id)
    return entry, node, _version(entry.definition.key)


@bp.route("/directories/entries/<int:entry_id>/edit", methods=["GET", "POST"])
@requires("directories")
def directory_edit(entry_id: int) -> Any:
    entry, node, version = _entry(entry_id)
    if not ds.may_edit(g.actor, version.body, node) or entry.retired_at is not None:
        abort(403)
    key = version.definition.key

    def done(data: dict[str, Any]) -> Any:
        ds.edit(g.actor, entry, node, data, now=clock.now())
        flash(_("Saved."))
        return redirect(url_for("work.directory_node", key=key, node_key=node.key), 303)

    return _form_page(version, node, dict(entry.data or {}), done)


@bp.route("/directories/entries/<int:entry_id>/retire", methods=["POST"])
@requires("directories")
def directory_retire(entry_id: int) -> Any:
    entry, node, version = _entry(entry_id)
    try:
        ds.retire(g.actor, entry, node, request.form.get("reason"), now=clock.now())
    except ServiceError as exc:
        flash(exc.message, "error")
    else:
        flash(_("Retired. It stays on record and no longer counts."))
    return redirect(
        url_for("work.directory_node", key=version.definition.key, node_key=node.key), 303
    )
