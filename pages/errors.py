"""Every refusal becomes a clear 4xx: JSON under /api, a page (or fragment) elsewhere."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from peewee import OperationalError
from werkzeug.exceptions import HTTPException

from engine.core.errors import Conflict, ServiceError
from engine.store.db import is_lock_error
from pages.extensions import htmx


def wants_json() -> bool:
    return request.path.startswith("/api/")


def error_json(status: int, code: str, message: str, fields: list[Any] | None = None) -> Any:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields is not None:
        body["fields"] = [{"path": f.path, "message": f.message} for f in fields]
    return jsonify({"error": body}), status


def init_app(app: Flask) -> None:
    @app.errorhandler(ServiceError)
    def service_error(exc: ServiceError) -> Any:
        if wants_json():
            return error_json(exc.status, exc.code, exc.message, exc.fields)
        # An HTMX request swaps 409 and 422 in (sanfang.js): give it the message alone,
        # not a whole page to nest inside the form.
        return render_template(
            "_error.html" if htmx else "error.html",
            status=exc.status,
            message=exc.message,
            fields=exc.fields,
        ), exc.status

    @app.errorhandler(OperationalError)
    def lock_error(exc: OperationalError) -> Any:
        # A write that lost a race for a lock outside engine.store.db.write_transaction is a
        # conflict the user can retry, never a 500; anything else is a real failure.
        if not is_lock_error(exc):
            raise exc
        return service_error(
            Conflict(_("The database is busy with the same change; reload the page and try again."))
        )

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> Any:
        message = _(
            "The form expired or was not sent from this site. Reload the page and try again."
        )
        if wants_json():
            return error_json(400, "csrf", message)
        return render_template("error.html", status=400, message=message, fields=[]), 400

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        status = exc.code or 500
        messages = {
            403: _("You do not have permission to do this."),
            404: _("Not found."),
            405: _("Method not allowed."),
            413: _("The upload is too large."),
        }
        message = messages.get(status, exc.description or exc.name)
        # What the exception says besides its body: a 405's Allow, a 401's WWW-Authenticate.
        headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
        if wants_json():
            body, _status = error_json(status, exc.name.lower().replace(" ", "_"), message)
            return body, status, headers
        return (
            render_template("error.html", status=status, message=message, fields=[]),
            status,
            headers,
        )
