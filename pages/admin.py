"""/admin — the tripartite office: packs, definitions and their versions (read-only here)."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, abort, render_template

from engine.models import Definition, DefinitionVersion, Pack, RuleFailure
from pages.auth import roles_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/")
@roles_required("admin")
def index() -> Any:
    packs = list(Pack.select().order_by(Pack.key))
    definitions = list(Definition.select().order_by(Definition.kind, Definition.id))
    failures = list(RuleFailure.select().order_by(RuleFailure.at.desc()).limit(20))
    return render_template("admin/index.html", packs=packs, definitions=definitions, failures=failures)


@bp.route("/definitions/<key>")
@roles_required("admin")
def definition(key: str) -> Any:
    found = Definition.get_or_none(Definition.key == key)
    if found is None:
        abort(404)
    versions = list(found.versions.order_by(DefinitionVersion.number.desc()))
    return render_template("admin/definition.html", definition=found, versions=versions)


@bp.route("/definitions/<key>/v/<int:number>")
@roles_required("admin")
def version(key: str, number: int) -> Any:
    found = (
        DefinitionVersion.select().join(Definition)
        .where((Definition.key == key) & (DefinitionVersion.number == number)).first()
    )
    if found is None:
        abort(404)
    text = json.dumps(found.body, ensure_ascii=False, indent=2)
    return render_template("admin/version.html", version=found, text=text)


from pages import tokens as _tokens  # noqa: F401  (routes on this blueprint)
from pages import webhooks as _webhooks  # noqa: F401  (routes on this blueprint)
