"""Errors that services raise; pages and the API turn them into 403/404/409/422."""

from __future__ import annotations

from typing import NamedTuple


class FieldProblem(NamedTuple):
    path: str
    message: str


class ServiceError(Exception):
    """Base of every refusal a service gives; never a 500."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, fields: list[FieldProblem] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = list(fields or [])


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"


class Conflict(ServiceError):
    """A stale version or a state that moved on: the caller should reload."""

    status = 409
    code = "conflict"


class Invalid(ServiceError):
    """Answers or a definition that do not validate; ``fields`` name the paths."""

    status = 422
    code = "invalid"


class Malformed(ServiceError):
    """A request body that is not even JSON."""

    status = 400
    code = "malformed_json"
