"""A synthetic compound's contacts for the demo: the pack's demo.json ``compound_contacts``,
a template of file fields filled in per compound, so every demo compound's contact card
(叫得应) has people, phone numbers and service points.

A template value is text with placeholders — ``{compound}`` the compound's name,
``{commissioner}`` its commissioner's, and a fresh ``{person}``, ``{mobile}`` or
``{landline}`` at each occurrence — a list of texts (one is chosen), or a list of
objects (rows, each filled in).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Mapping
from typing import Any

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _digits(rng: random.Random, count: int) -> str:
    return "".join(str(rng.randint(0, 9)) for _ in range(count))


def contacts(
    template: Mapping[str, Any],
    rng: random.Random,
    *,
    compound: str,
    commissioner: str,
    person: Callable[[random.Random], str],
) -> dict[str, Any]:
    """The file fields ``template`` describes, filled in for one compound.

    :param person: draws a real-looking name (the demo's own pools).
    """
    fixed = {"compound": compound, "commissioner": commissioner}
    fresh: dict[str, Callable[[], str]] = {
        "person": lambda: person(rng),
        "mobile": lambda: rng.choice(("138", "139", "135", "158", "187", "189")) + _digits(rng, 8),
        "landline": lambda: "0571-8" + _digits(rng, 7),
    }

    def text(value: str) -> str:
        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in fixed:
                return fixed[name]
            return fresh[name]() if name in fresh else match.group(0)

        return _PLACEHOLDER.sub(one, value)

    def fill(value: Any) -> Any:
        if isinstance(value, str):
            return text(value)
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            return text(rng.choice(value))
        if isinstance(value, list):
            return [fill(v) for v in value]
        if isinstance(value, Mapping):
            return {k: fill(v) for k, v in value.items()}
        return value

    return {name: fill(value) for name, value in template.items()}
