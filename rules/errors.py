"""Problems and errors raised for invalid or failing rules."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

Gettext = Callable[[str], str]


def _identity(message: str) -> str:
    return message


class Shown(NamedTuple):
    """A value of the rule's data named in an error message (see ``values.describe``).

    ``kind`` is ``text`` or ``number`` (``text`` holds the excerpt, quoted for text) or a
    word — ``null``, ``true``, ``false``, ``object``, ``list`` — put in the reader's
    language when the message is. A tuple, so a stored message's parameters survive JSON
    as a two-element list (:func:`params_from_json`).
    """

    kind: str
    text: str = ""


WORDS = {
    "null": "null",
    "true": "true",
    "false": "false",
    "object": "an object",
    "list": "a list",
}
"""The English msgids of the words a :class:`Shown` value may be (the catalogue has them)."""


def shown_words(shown: Shown, gettext: Gettext = _identity) -> str:
    """A :class:`Shown` value in the reader's language."""
    return gettext(WORDS[shown.kind]) if shown.kind in WORDS else shown.text


def render(template: str, params: Mapping[str, Any], gettext: Gettext = _identity) -> str:
    """The message ``template`` with ``params`` put in, both through ``gettext``."""
    if not params:
        return gettext(template)
    values = {
        name: shown_words(v, gettext) if isinstance(v, Shown) else v for name, v in params.items()
    }
    return gettext(template) % values


def params_from_json(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Parameters as kept in JSON (a :class:`Shown` became a two-element list) made whole."""
    return {
        name: Shown(*v) if isinstance(v, list) and len(v) == 2 else v
        for name, v in (params or {}).items()
    }


class Problem(NamedTuple):
    """One thing wrong with a rule, located by a JSON Pointer inside it ("" = the root)."""

    path: str
    message: str


class RuleError(ValueError):
    """A rule is invalid (unknown operator, `method`, too big or too deep, wrong arity…)."""

    def __init__(self, path: str, template: str, params: Mapping[str, Any] | None = None) -> None:
        """Build the error.

        :param path: JSON Pointer inside the rule ("" = the root).
        :param template: short English explanation, a msgid with ``%(name)s`` placeholders.
        :param params: the placeholders' values (:class:`Shown` for the data's values).
        """
        self.template = template
        self.params = dict(params or {})
        self.message = render(template, self.params)
        super().__init__(f"{path or '/'}: {self.message}")
        self.path = path

    def text(self, gettext: Gettext = _identity) -> str:
        """The message in the reader's language (``gettext`` translates the msgids)."""
        return render(self.template, self.params, gettext)

    def __eq__(self, other: object) -> bool:
        return (
            type(self) is type(other)
            and isinstance(other, RuleError)
            and (self.path, self.message) == (other.path, other.message)
        )

    def __hash__(self) -> int:
        return hash((type(self), self.path, self.message))

    def __reduce__(self) -> tuple[type[RuleError], tuple[str, str, dict[str, Any]]]:
        return (type(self), (self.path, self.template, self.params))


class RuleEvalError(RuleError):
    """A valid rule failed while evaluating (NaN, division by zero, incomparable values…)."""


class OpError(Exception):
    """Raised by an operator implementation; the evaluator turns it into RuleEvalError.

    `arg` is the index of the offending argument, so the error path can point at it.
    """

    def __init__(
        self, template: str, arg: int | None = None, params: Mapping[str, Any] | None = None
    ) -> None:
        self.template = template
        self.params = dict(params or {})
        self.message = render(template, self.params)
        super().__init__(self.message)
        self.arg = arg

    def moved(self, arg: int | None) -> OpError:
        """The same error about another argument."""
        return OpError(self.template, arg, self.params)


def pointer_token(token: str | int) -> str:
    """Escape one JSON Pointer reference token (RFC 6901)."""
    return str(token).replace("~", "~0").replace("/", "~1")
