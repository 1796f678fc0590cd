"""Babel extractor for modules whose msgids are module-level string constants.

``forms/messages.py`` lists every message of the forms layer as an upper-case
constant (``REQUIRED = "This field is required."``) rather than as a ``_()``
call, so Babel's Python extractor cannot see them. babel.cfg maps that file to
this extractor::

    [extractors]
    constants = pages.translations.extract_constants:extract

    [constants: forms/messages.py]

Every top-level ``NAME = "text"`` (or an implicitly concatenated, parenthesised
text) whose name is upper case becomes a msgid, with the constant's name as an
extracted comment for translators. ``_()``/``gettext()`` calls in the same file,
if any, are extracted too.
"""

from __future__ import annotations

import ast
import io
from collections.abc import Collection, Iterator
from typing import IO, Any

from babel.messages.extract import extract_python


def extract(
    fileobj: IO[bytes],
    keywords: Any,
    comment_tags: Collection[str],
    options: Any,
) -> Iterator[tuple[Any, ...]]:
    """Yield Babel's (lineno, funcname, message, comments) for the constants."""
    source = fileobj.read()
    tree = ast.parse(source)
    module = str(options.get("module", "")).strip()
    for node in tree.body:
        if isinstance(node, ast.AnnAssign):
            targets: list[ast.expr] = [node.target]
        elif isinstance(node, ast.Assign):
            targets = list(node.targets)
        else:
            continue
        value = node.value
        if not (isinstance(value, ast.Constant) and isinstance(value.value, str)):
            continue
        for target in targets:
            if isinstance(target, ast.Name) and target.id.isupper():
                name = f"{module}.{target.id}" if module else target.id
                yield value.lineno, None, value.value, [name]
    # Ordinary gettext calls, should the module ever contain any.
    yield from extract_python(io.BytesIO(source), keywords, comment_tags, options)
