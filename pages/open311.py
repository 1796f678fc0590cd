"""/open311/v2 — Open311 GeoReport v2 for civic-reporting clients and property platforms
(智慧物业平台): the public item types as services, requests filed and followed with an
API token as ``api_key`` (or a bearer header), within the key's reach only.

JSON only (``.json``); errors are the spec's list of ``{code, description}``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from flask import Blueprint, g, jsonify, request, url_for
from flask_babel import gettext as _

from engine.accounts.tokens import user_for_token
from engine.core import clock
from engine.core.errors import FieldProblem, Invalid, NotFound, ServiceError
from engine.org.actors import actor_for
from engine.residents import open311
from pages.extensions import csrf

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")
csrf.exempt(bp)

_ATTRIBUTE = re.compile(r"attribute\[([A-Za-z_][A-Za-z0-9_]*)\](\[\])?")


def errors(status: int, description: str, fields: list[FieldProblem] | None = None) -> Any:
    """The spec's error answer: a list of ``{code, description}``, one per problem."""
    listed = [{"code": status, "description": f"{p.path}: {p.message}"} for p in fields or []]
    return jsonify(listed or [{"code": status, "description": description}]), status


@bp.errorhandler(ServiceError)
def service_error(exc: ServiceError) -> Any:
    return errors(exc.status, exc.message, exc.fields)


def _actor() -> Any:
    """The key's user: ``api_key`` (query or form, as the spec sends it) or a bearer header."""
    scheme, _sep, bearer = request.headers.get("Authorization", "").partition(" ")
    raw = request.values.get("api_key") or (bearer.strip() if scheme.lower() == "bearer" else "")
    user = user_for_token(raw, now=clock.now()) if raw else None
    return actor_for(user) if user is not None else None


def _authenticated() -> Any:
    g.actor = _actor()
    if g.actor is None:
        return errors(401, _("A valid api_key is required."))
    return None


def _when(name: str) -> dt.datetime | None:
    """A w3c date-time parameter as naive UTC (naive text: Asia/Shanghai).

    :raises Invalid: not a date-time.
    """
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        parsed = dt.datetime.fromisoformat(raw)
    except ValueError as exc:
        raise Invalid(
            _("%(name)s is not a date and time.", name=name), [FieldProblem(name, raw)]
        ) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=clock.LOCAL)
    return parsed.astimezone(dt.UTC).replace(tzinfo=None)


def _file_url(public_id: str) -> str:
    return url_for("auth.file", public_id=public_id, _external=True)


@bp.route("/services.json")
def services() -> Any:
    return jsonify([s.as_json() for s in open311.services()])


@bp.route("/services/<code>.json")
def service_definition(code: str) -> Any:
    svc = open311.service(code)
    return jsonify({"service_code": svc.code, "attributes": svc.attributes()})


@bp.route("/requests.json", methods=["POST"])
def create_request() -> Any:
    denied = _authenticated()
    if denied is not None:
        return denied
    code = request.form.get("service_code")
    if not code:
        raise Invalid(_("service_code is required."), [FieldProblem("service_code", _("required"))])
    attributes: dict[str, list[str]] = {}
    for name in request.form:
        found = _ATTRIBUTE.fullmatch(name)
        if found:
            attributes[found.group(1)] = [v for v in request.form.getlist(name) if v != ""]
    item = open311.file_request(
        g.actor,
        code,
        description=request.form.get("description"),
        address_id=request.form.get("address_id"),
        attributes=attributes,
        now=clock.now(),
    )
    return jsonify(
        [{"service_request_id": str(item.id), "service_notice": None, "account_id": None}]
    ), 201


@bp.route("/requests.json")
def list_requests() -> Any:
    denied = _authenticated()
    if denied is not None:
        return denied
    ids = None
    if request.args.get("service_request_id"):
        raw = [p.strip() for p in request.args["service_request_id"].split(",")]
        if not all(p.isdigit() and len(p) < 12 for p in raw):
            raise Invalid(
                _("service_request_id lists request ids."),
                [FieldProblem("service_request_id", request.args["service_request_id"][:40])],
            )
        ids = [int(p) for p in raw]
    status = request.args.get("status")
    if status not in (None, "", "open", "closed"):
        raise Invalid(_("status is open or closed."), [FieldProblem("status", status)])
    found = open311.find_requests(
        g.actor,
        ids=ids,
        code=request.args.get("service_code") or None,
        start=_when("start_date"),
        end=_when("end_date"),
        status=status or None,
    )
    return jsonify([open311.request_json(g.actor, item, _file_url) for item in found])


@bp.route("/requests/<request_id>.json")
def get_request(request_id: str) -> Any:
    denied = _authenticated()
    if denied is not None:
        return denied
    found = (
        open311.find_requests(g.actor, ids=[int(request_id)])
        if request_id.isdigit() and len(request_id) < 12
        else []
    )
    if not found:
        raise NotFound(_("No request %(id)s.", id=request_id[:40]))
    return jsonify([open311.request_json(g.actor, found[0], _file_url)])
