"""/admin — the tripartite office: packs, definitions and their versions (read-only here)."""

from __future__ import annotations

import json
import operator
from functools import reduce
from typing import Any, NamedTuple

from flask import Blueprint, abort, g, render_template
from peewee import JOIN

from engine.authoring import designer
from engine.definitions.definitions import preload_versions_of
from engine.org.actors import admin_paths, is_district_admin
from engine.store.models import Definition, DefinitionVersion, Item, Pack, RuleFailure
from engine.store.prepared import prepared
from engine.workflow.dispatch import failure_message
from engine.workflow.listed import DEFINITION_FIELDS
from pages.auth import requires
from pages.extensions import edition, kind_label

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _sees(definition: Definition) -> bool:
    """A street's admin sees the district-wide definitions and those they may edit (their
    street's)."""
    # the stored body, read not copied: the home page checks every definition
    body = designer.stored_body(definition)
    return not body.get("scope") or designer.may_edit(g.actor, body)


def _visible_definitions() -> list[Definition]:
    if is_district_admin(g.actor):  # sees every one: no draft or body to read for it
        return list(
            prepared(
                "admin.definitions",
                lambda: Definition.select(*DEFINITION_FIELDS).order_by(
                    Definition.kind, Definition.id
                ),
            )
        )
    every = list(Definition.select().order_by(Definition.kind, Definition.id))
    preload_versions_of(every)  # their bodies in one query, not one each
    return [d for d in every if _sees(d)]


class FailureRow(NamedTuple):
    """A rule failure as the admin page shows it: the definition's name, the version and
    the message in words."""

    at: Any
    definition: str
    edition: str
    where: str
    message: str
    item_id: int | None


def _failures(definitions: list[Definition]) -> list[FailureRow]:
    """The newest rule failures on items in the admin's reach (or on no item)."""
    if is_district_admin(g.actor):  # every failure: the statement built once
        newest = prepared("admin.failures", lambda most: _failures_query().limit(most), most=20)
    else:
        newest = _failures_in_reach(definitions)
    names = {d.key: d.name for d in definitions}
    return [
        FailureRow(
            f.at,
            names.get(f.definition, f.definition),
            edition(f.version),
            f.where,
            failure_message(f),
            f.item_id,
        )
        for f in newest
    ]


def _failures_query() -> Any:
    return (
        RuleFailure.select(RuleFailure).join(Item, JOIN.LEFT_OUTER).order_by(RuleFailure.at.desc())
    )


def _failures_in_reach(definitions: list[Definition]) -> Any:
    """The newest rule failures on items in a street admin's reach, or on none of its
    definitions' items."""
    reach = reduce(operator.or_, [Item.node_path.startswith(p) for p in admin_paths(g.actor)])
    query = _failures_query().where(
        reach
        | (RuleFailure.item.is_null() & RuleFailure.definition.in_([d.key for d in definitions]))
    )
    return query.limit(20)


@bp.route("/")
@requires("admin")
def index() -> Any:
    packs = list(Pack.select().order_by(Pack.key))
    definitions = _visible_definitions()
    return render_template(
        "admin/index.html",
        packs=packs,
        definitions=definitions,
        failures=_failures(definitions),
        # each kind and version number in words once, not once per definition
        kind_labels={d.kind: kind_label(d.kind) for d in definitions},
        editions={d.current: edition(d.current) for d in definitions},
    )


def _definition_or_404(key: str) -> Definition:
    found = Definition.get_or_none(Definition.key == key)
    if found is None:
        abort(404)
    if not _sees(found):
        abort(404)
    return found


@bp.route("/definitions/<key>")
@requires("admin")
def definition(key: str) -> Any:
    found = _definition_or_404(key)
    versions = list(found.versions.order_by(DefinitionVersion.number.desc()))
    return render_template("admin/definition.html", definition=found, versions=versions)


@bp.route("/definitions/<key>/v/<int:number>")
@requires("admin")
def version(key: str, number: int) -> Any:
    _definition_or_404(key)
    found = (
        DefinitionVersion.select()
        .join(Definition)
        .where((Definition.key == key) & (DefinitionVersion.number == number))
        .first()
    )
    if found is None:
        abort(404)
    text = json.dumps(found.body, ensure_ascii=False, indent=2)
    return render_template("admin/version.html", version=found, text=text)


from pages import tokens as _tokens  # noqa: F401  (routes on this blueprint)
from pages import webhooks as _webhooks  # noqa: F401  (routes on this blueprint)
