"""Stable ASCII keys derived from the Chinese names admins type (键名自动生成).

Admins name things in Chinese; rules, tables, states and fields still need ASCII keys
(they are JSON Logic paths and URL parts). A key is derived once, from the name's pinyin
(pypinyin: 消防大队 → ``xiaofangdadui``), made unique among its siblings with a counter,
and never changes afterwards (renaming the label keeps it). An admin may still type a key
in the "advanced" corner; a bad one is refused with a message naming the field.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from pypinyin import lazy_pinyin

# The key grammars of the pack schema: definitions, tables, rules, states (``DEFINITION``)
# and form fields (``FIELD``, a JSON Logic path part: no "-").
DEFINITION = re.compile(r"^[a-z][a-z0-9_-]{0,79}$")
FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,59}$")
MAX_STEM = 40


def _ascii(name: str) -> str:
    words = lazy_pinyin(name, errors=lambda chars: [c if c.isascii() else "" for c in chars])
    text = "".join(w for w in words if w)
    text = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    return text[:MAX_STEM].rstrip("_")


def derive(name: str, taken: Collection[str] = (), *, stem: str = "k") -> str:
    """An ASCII key for ``name``, valid as a definition and as a field key, not in ``taken``.

    :param stem: what a name without any letter to spell (``!!!``, digits first) starts with.
    """
    base = _ascii(name)
    if not base or not base[0].isalpha():
        base = f"{stem}_{base}" if base else stem
    key, n = base, 1
    while key in taken:
        n += 1
        key = f"{base}_{n}"
    return key


def chosen(typed: str, name: str, taken: Collection[str]) -> str:
    """The key an admin typed (trimmed), else one derived from ``name``."""
    typed = typed.strip()
    if typed:
        return typed
    return derive(name, taken)


def problem(key: str, taken: Collection[str], *, field: bool = False) -> str | None:
    """Why ``key`` cannot be used (a Chinese sentence the page puts after the field's name)."""
    from engine.core.i18n import gettext as _

    grammar = FIELD if field else DEFINITION
    if not grammar.match(key):
        if field:
            return _("the key must start with a letter and hold only letters, digits and _")
        return _("the key must start with a lower-case letter and hold only a-z, 0-9, - and _")
    if key in taken:
        return _("the key %(key)s is already used") % {"key": key}
    return None
