"""The templates' environment: a plain dict's key read without an exception first.

Jinja reads ``a.b`` as ``getattr(a, "b")`` and, when that raises, ``a["b"]``. Templates
read most values from dicts (an event's ``before``/``after``/``detail``, a definition's
body, a routing explanation), and each such read raised and caught an AttributeError:
about 1.4 µs against 0.15 µs for the key, over a thousand reads on an item page.
"""

from __future__ import annotations

from typing import Any

from flask.templating import Environment

# A dict's own attributes (``items``, ``get`` …) still win over its keys, as in Jinja.
_DICT_ATTRIBUTES = frozenset(dir(dict))


class DictFirstEnvironment(Environment):
    """Jinja's ``getattr`` with the same result, reading a plain dict's key directly."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)
