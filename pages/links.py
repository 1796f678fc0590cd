"""Links that a page builds many times with only some values changing (a table's cells).

``url_for`` with a few query values costs werkzeug several microseconds a link; a table of
thirty departments with nine linked numbers each built 270 of them. ``url_pattern`` builds
the link once with stand-ins for the values that change and afterwards only puts each
value in, quoted as werkzeug quotes it: a path segment as its default converter
(``BaseConverter.to_url``), a query value as its query encoder (``werkzeug.urls``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote, quote_plus

from flask import url_for

SEGMENT_SAFE = "!$&'()*+,/:;=@"  # werkzeug.routing.converters.BaseConverter.to_url
QUERY_SAFE = "!$'()*,/:;?@"  # werkzeug.urls._urlencode
_STAND_IN = 739184620517300  # digits: an int converter and a string one write it as it is


class _Vary:
    """The value a link takes from each call (``vary`` in templates)."""

    def __repr__(self) -> str:
        return "vary"


VARY = _Vary()


def url_pattern(endpoint: str, **values: Any) -> Callable[..., str]:
    """A function building ``url_for(endpoint, **values)`` for the values marked ``VARY``.

    Call it with those values by name: ``url_pattern("e", key=VARY, sort="x")(key="k")``
    is ``url_for("e", key="k", sort="x")``, query values in the same order. The marked
    values go in a path part with the default or int converter, or in the query; a
    ``None`` among them (``url_for`` leaves such a query value out) is built by
    ``url_for`` itself.
    """
    varying = [name for name, value in values.items() if value is VARY]
    stand_ins = {name: str(_STAND_IN + i) for i, name in enumerate(varying)}
    sample = url_for(
        endpoint, **{n: int(stand_ins[n]) if v is VARY else v for n, v in values.items()}
    )
    query_at = sample.find("?")
    found = []
    for name, mark in stand_ins.items():
        at = sample.find(mark)
        if at < 0 or sample.count(mark) != 1:
            raise ValueError(f"{endpoint}: cannot place {name} in {sample}")
        found.append((at, name, mark, 0 <= query_at < at))
    found.sort()
    pieces: list[str] = []
    slots: list[tuple[str, bool]] = []
    start = 0
    for at, name, mark, in_query in found:
        pieces.append(sample[start:at])
        slots.append((name, in_query))
        start = at + len(mark)
    last = sample[start:]

    def build(**given: Any) -> str:
        if any(given[name] is None for name in varying):
            return url_for(endpoint, **{n: given[n] if v is VARY else v for n, v in values.items()})
        out = []
        for piece, (name, in_query) in zip(pieces, slots, strict=True):
            out.append(piece)
            value = given[name]
            if type(value) is int:  # digits (and a sign): nothing to quote (a table's ids)
                out.append(str(value))
                continue
            text = str(value)
            out.append(quote_plus(text, QUERY_SAFE) if in_query else quote(text, SEGMENT_SAFE))
        out.append(last)
        return "".join(out)

    return build


def id_url(endpoint: str, name: str, **values: Any) -> Callable[[int], str]:
    """A function building ``url_for(endpoint, **values, name=id)`` for an integer ``id``:
    the link's text around the id, joined to it (a list's fifty item links; ``url_pattern``
    takes its values by name and may quote them)."""
    mark = str(_STAND_IN)
    sample = url_for(endpoint, **values, **{name: _STAND_IN})
    if sample.count(mark) != 1:
        raise ValueError(f"{endpoint}: cannot place {name} in {sample}")
    head, tail = sample.split(mark)

    def build(value: int) -> str:
        return f"{head}{value:d}{tail}"

    return build
