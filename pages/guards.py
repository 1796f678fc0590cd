"""Bad input stops at the door: bounded ``<int:...>`` routes, integer query parameters,
JSON bodies no deeper than the engine's limits (engine/core/limits.py), no NUL characters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, request
from flask.json.provider import DefaultJSONProvider
from flask_babel import gettext as _
from werkzeug.routing import IntegerConverter, Map

from engine.core import limits
from engine.core.errors import FieldProblem, Invalid, Malformed
from engine.workflow.queues import MAX_PAGE


class BoundedIntConverter(IntegerConverter):
    """``<int:...>`` matching only what a 64-bit signed column holds: a larger id is a 404
    like any id that names nothing, never an OverflowError in the database driver."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        super().__init__(map, *args, **kwargs)
        self.max = limits.INT_MAX if self.max is None else min(self.max, limits.INT_MAX)
        if self.signed and self.min is None:
            self.min = limits.INT_MIN


class BoundedJSONProvider(DefaultJSONProvider):
    """``request.get_json()`` (WTForms reads JSON bodies through it) refuses bodies nested
    deeper than the limit: a ValueError, which Flask answers with a 400."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return limits.loads(s)
        except Malformed as exc:
            raise ValueError(exc.message) from None


def int_arg(
    name: str,
    default: int | None = None,
    *,
    minimum: int = limits.INT_MIN,
    maximum: int = limits.INT_MAX,
    source: Any = None,
    empty_ok: bool = True,
) -> int | None:
    """The integer query (or form) parameter ``name``; absent (or empty, if ``empty_ok``:
    a page's blank form field) gives ``default``.

    :raises Invalid: not a whole number, or outside [minimum, maximum] (a 422
        naming the parameter).
    """
    values = request.args if source is None else source
    raw = values.get(name)
    if raw is None or (raw == "" and empty_ok):
        return default
    text = raw.strip()
    digits = text[1:] if text[:1] in "+-" else text
    # isdecimal() would let through non-ASCII digits; a length cap keeps int() cheap.
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 19:
        raise _bad(name, minimum, maximum)
    value = int(text)
    if not minimum <= value <= maximum:
        raise _bad(name, minimum, maximum)
    return value


def ids_in(values: list[str]) -> list[int]:
    """The values that are ids (whole numbers a 64-bit column holds); the rest are dropped."""
    return [
        int(v)
        for v in values
        if v.isascii() and v.isdigit() and len(v) <= 19 and int(v) <= limits.INT_MAX
    ]


def _bad(name: str, minimum: int, maximum: int) -> Invalid:
    if maximum == limits.INT_MAX and minimum == limits.INT_MIN:
        message = _("%(name)s must be a whole number.", name=name)
    elif maximum == limits.INT_MAX:
        message = _("%(name)s must be a whole number of at least %(min)s.", name=name, min=minimum)
    else:
        message = _(
            "%(name)s must be a whole number from %(min)s to %(max)s.",
            name=name,
            min=minimum,
            max=maximum,
        )
    return Invalid(message, [FieldProblem(name, message)])


def refuse_nul() -> None:
    """A NUL character in the path, the query string or a form field is a 422 before any
    view runs: PostgreSQL text cannot hold one, and a query with it fails in the driver."""
    fields = (
        [("path", request.path)]
        + [(k, k) for k in request.args]
        + list(request.args.items(multi=True))
    )
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        fields += [(k, k) for k in request.form] + list(request.form.items(multi=True))
    bad = next((name for name, text in fields if "\x00" in text), None)
    if bad is not None:
        name = bad.replace("\x00", "\\0")[:40]
        raise Invalid(f"{name}: {limits.no_nul()}", [FieldProblem(name, limits.no_nul())])


def init_app(app: Flask) -> None:
    """Install the converter (before any blueprint adds its rules), the JSON provider and
    the NUL check."""
    app.url_map.converters["int"] = BoundedIntConverter
    app.json = BoundedJSONProvider(app)
    app.before_request(refuse_nul)


@dataclass(frozen=True)
class Page:
    """A page of a list that reads one row more than it shows, to know whether another
    page follows (the ``page`` query parameter: :func:`page_arg`)."""

    number: int
    size: int

    @property
    def limit(self) -> int:
        return self.size + 1

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    def split(self, rows: list[Any]) -> tuple[list[Any], bool]:
        """The rows this page shows, and whether more follow."""
        return rows[: self.size], len(rows) > self.size


def page_arg(size: int) -> Page:
    """The page the ``page`` query parameter asks for (1 when absent; not a whole number,
    or below 1, is a 422 naming it), of ``size`` rows."""
    return Page(int_arg("page", 1, minimum=1, maximum=MAX_PAGE) or 1, size)
