"""The templates' environment: a plain dict's key read without an exception first, and a
plain function called without Jinja's three attribute probes.

Jinja reads ``a.b`` as ``getattr(a, "b")`` and, when that raises, ``a["b"]``. Templates
read most values from dicts (an event's ``before``/``after``/``detail``, a definition's
body, a routing explanation), and each such read raised and caught an AttributeError:
about 1.4 µs against 0.15 µs for the key, over a thousand reads on an item page.

Jinja calls every function a template calls (``_()``, ``url_for()``, a macro, a method
such as ``rt.state_label`` or ``dict.get`` …) through ``Context.call``, which asks the
callable, then its ``__call__``, whether it wants the context passed (``hasattr`` each
time, two of them failing with an exception inside): about 1 µs of a call's 1.5. The
layout makes some forty such calls, an item page hundreds (240 on the demo's busiest:
96 functions, 106 built-in methods, 21 methods, 15 macros).

Each template (the page's, the layout, every include and import) starts its context with a
copy of its globals, a ChainMap over the environment's (some thirty): the ChainMap looked each one
up by trying the template's own (empty) map first, a KeyError raised and caught for each.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Iterator, MutableMapping
from types import BuiltinMethodType, FunctionType, MethodType
from typing import Any

from flask.templating import Environment
from jinja2.runtime import Context, Macro
from jinja2.utils import _PassArg, internalcode

# A dict's own attributes (``items``, ``get`` …) still win over its keys, as in Jinja.
_DICT_ATTRIBUTES = frozenset(dir(dict))


class FastCallContext(Context):
    """Jinja's ``Context.call`` with the same result, what a callable wants read directly.

    A Python function's ``jinja_pass_arg`` (``pass_context`` and its kin set it) is in its
    ``__dict__``, and its ``__call__`` (a method wrapper) never has one: what Jinja's
    probes find. A bound method's is its function's; a built-in (``dict.get``,
    ``str.join``) never has one; a macro always wants the eval context (its ``__call__``
    is ``pass_eval_context``). Anything else (callable objects) goes Jinja's way.
    """

    @internalcode
    def call(self, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        kind = type(obj)
        if kind is FunctionType:
            pass_arg = obj.__dict__.get("jinja_pass_arg")
        elif kind is MethodType:
            pass_arg = obj.__func__.__dict__.get("jinja_pass_arg")
        elif kind is Macro:
            pass_arg = _PassArg.eval_context
        elif kind is not BuiltinMethodType:  # also built-in functions: the same type
            return super().call(obj, *args, **kwargs)
        else:
            pass_arg = None
        if pass_arg is _PassArg.eval_context:
            args = (self.eval_ctx, *args)
        elif pass_arg is not None:  # the context or the environment: as Jinja does it
            return super().call(obj, *args, **kwargs)
        if kwargs:
            kwargs.pop("_block_vars", None)
            kwargs.pop("_loop_vars", None)
        try:
            return obj(*args, **kwargs)
        except StopIteration:
            return self.environment.undefined(
                "value was undefined because a callable raised a StopIteration exception"
            )


class TemplateGlobals(ChainMap[str, Any]):
    """A template's globals over the environment's, as Jinja's ChainMap, copied without an
    exception per name: a name is looked for in each map, not tried; with no globals of
    its own the template iterates the environment's (the order ChainMap gives)."""

    def __getitem__(self, key: str) -> Any:
        for mapping in self.maps:
            if key in mapping:
                return mapping[key]
        return self.__missing__(key)

    def __iter__(self) -> Iterator[str]:
        maps = self.maps
        if len(maps) == 2 and not maps[0]:
            return iter(maps[1])
        return super().__iter__()


class DictFirstEnvironment(Environment):
    """Jinja's ``getattr`` with the same result, reading a plain dict's key directly;
    calls through ``FastCallContext``; template globals as ``TemplateGlobals``."""

    context_class = FastCallContext

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        return TemplateGlobals({} if d is None else d, self.globals)

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)
