"""The translation hook engine messages go through; the web app installs its own."""

from __future__ import annotations

from collections.abc import Callable


def _identity(message: str) -> str:
    return message


_translate: Callable[[str], str] = _identity


def install(translate: Callable[[str], str]) -> None:
    """Route engine and form messages through ``translate`` (e.g. flask_babel.gettext)."""
    global _translate
    _translate = translate


def gettext(message: str) -> str:
    return _translate(message)
