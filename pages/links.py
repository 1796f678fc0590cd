"""Links that a page builds many times with only some values changing (a table's cells).

``url_for`` with a few query values costs werkzeug several microseconds a link; a table of
thirty departments with nine linked numbers each built 270 of them. ``url_pattern`` builds
the link once with stand-ins for the values that change and afterwards only puts each
value in, quoted as werkzeug quotes it: a path segment as its default converter
(``BaseConverter.to_url``), a query value as its query encoder (``werkzeug.urls``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
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
    pieces, slots, last = url_pieces(endpoint, **values)
    if len(slots) == 1:
        return _one_value(endpoint, values, pieces[0], slots[0], last)

    def build(**given: Any) -> str:
        out = []
        for piece, (name, in_query) in zip(pieces, slots, strict=True):  # every VARY name
            value = given[name]
            if value is None:
                return url_for(
                    endpoint, **{n: given[n] if v is VARY else v for n, v in values.items()}
                )
            out.append(piece)
            out.append(quoted(str(value), in_query))
        out.append(last)
        return "".join(out)

    return build


def url_pieces(endpoint: str, **values: Any) -> tuple[list[str], list[tuple[str, bool]], str]:
    """``url_pattern``'s parts: the link's text before each value marked ``VARY``, each
    such value's name and whether it goes in the query (else a path part), in the order
    they appear, and the text after the last. A link is the pieces with each value
    ``quoted`` in between (for a caller that quotes a value once for many links)."""
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
    return pieces, slots, sample[start:]


@lru_cache(maxsize=4096)
def quoted(text: str, in_query: bool) -> str:
    """``text`` quoted as a query value (``in_query``) or a path segment, as werkzeug
    quotes them; kept, since a table's links put the same few keys in again and again."""
    return quote_plus(text, QUERY_SAFE) if in_query else quote(text, SEGMENT_SAFE)


def _one_value(
    endpoint: str, values: dict[str, Any], head: str, slot: tuple[str, bool], last: str
) -> Callable[..., str]:
    """``url_pattern``'s builder for a link with one value that changes (a table's row
    links): the text around it joined once, an integer put in as it is (its digits need
    no quoting), about half the time of the general builder."""
    name, in_query = slot

    def build(**given: Any) -> str:
        value = given[name]
        if type(value) is int:
            return head + str(value) + last
        if value is None:
            return url_for(endpoint, **{n: given[n] if v is VARY else v for n, v in values.items()})
        return head + quoted(str(value), in_query) + last

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
