"""What every definition check needs: rule problems at a path, unique keys, known roles."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import forms
import rules
from engine.core.errors import FieldProblem
from engine.core.i18n import gettext as _

# Checks a form (a JSON Schema) of a definition at a path: checks.form_problems.
FormCheck = Callable[[Any, str], list[FieldProblem]]


def quoted_list(values: Iterable[Any]) -> str:
    """Keys an admin may write, each quoted, as a list in the reader's language."""
    return _(", ").join(_("'%(key)s'") % {"key": v} for v in values)


def label_of(specs: Any, key: Any) -> str:
    """The ``label`` of ``specs[key]`` (a state, a field's ``title``), else the key itself."""
    spec = specs.get(key) if isinstance(specs, Mapping) else None
    if isinstance(spec, Mapping):
        return str(spec.get("label") or spec.get("title") or key)
    return str(key)


def role_problems(roles: Any, at: str, known: set[str]) -> list[FieldProblem]:
    """A problem at ``<at>/<i>`` of every role of ``roles`` the pack does not declare."""
    return [
        FieldProblem(f"{at}/{i}", unknown_role(role))
        for i, role in enumerate(roles or [])
        if role not in known
    ]


def no_state(key: Any) -> str:
    """The workflow has no state ``key`` (only its key exists)."""
    return _("There is no state with the key '%(key)s'") % {"key": key}


def no_table(key: Any) -> str:
    """The item type has no routing table ``key``."""
    return _("There is no routing table with the key '%(key)s'") % {"key": key}


def no_node(key: Any) -> str:
    """No org node has the key ``key``."""
    return _("There is no unit or place with the key '%(key)s'") % {"key": key}


def no_field(key: Any) -> str:
    """The form has no field ``key`` (only its key exists)."""
    return _("The form has no field with the key '%(key)s'") % {"key": key}


def unknown_role(role: Any) -> str:
    """The pack declares no role ``role`` (only its key exists)."""
    return _("There is no role with the key '%(role)s' in the pack") % {"role": role}


def pointer(parts: Iterable[Any]) -> str:
    """The JSON Pointer of ``parts`` (each escaped)."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def form_problems(schema: Any, path: str) -> list[FieldProblem]:
    """Every problem of a form (a JSON Schema) of a definition, at its path under ``path``."""
    return [FieldProblem(path + p.path, p.message) for p in forms.check_schema(schema, gettext=_)]


def rule_problems(rule: Any, path: str) -> list[FieldProblem]:
    """Every problem of a JSON Logic rule, at its JSON Pointer under ``path``."""
    return [FieldProblem(path + p.path, p.message) for p in rules.validate(rule, gettext=_)]


def duplicate_keys(entries: Iterable[tuple[str, str]], duplicate: str) -> list[FieldProblem]:
    """A problem at ``<path>/key`` of every entry whose key an earlier entry already has.

    :param entries: (path of the entry, its key), in the definition's order.
    :param duplicate: the translated message, with a ``%(key)s`` placeholder.
    """
    seen: set[str] = set()
    problems = []
    for path, key in entries:
        if key in seen:
            problems.append(FieldProblem(f"{path}/key", duplicate % {"key": key}))
        seen.add(key)
    return problems
