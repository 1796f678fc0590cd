"""The compiled runtime of a published definition version: states, transitions, routing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from engine.core.errors import NotFound
from engine.store.models import DefinitionVersion
from rules.routing import Route, Table


@dataclass(frozen=True)
class Runtime:
    """A published item type, ready to run: states, transitions, compiled routing."""

    key: str
    number: int
    body: Mapping[str, Any]
    tables: Mapping[str, Table]

    @property
    def workflow(self) -> Mapping[str, Any]:
        return self.body["workflow"]

    @property
    def states(self) -> Mapping[str, Any]:
        return self.body["workflow"]["states"]

    @cached_property
    def state_labels(self) -> Mapping[str, str]:
        """Each state's label by key (a list shows one per row)."""
        return {key: str(spec.get("label", key)) for key, spec in self.states.items()}

    def state_label(self, state: str) -> str:
        label = self.state_labels.get(state)
        return str(state) if label is None else label

    def transition(self, key: str) -> Mapping[str, Any] | None:
        return next((t for t in self.workflow["transitions"] if t["key"] == key), None)

    def is_final(self, state: str) -> bool:
        return bool(self.states.get(state, {}).get("final"))

    def is_resolved(self, state: str) -> bool:
        listed = self.workflow.get("resolved_states")
        if listed is not None:
            return state in listed
        return state == "resolved" or self.is_final(state)


# Compiled runtimes by version id; versions never change. Bounded.
_RUNTIMES: dict[int, Runtime] = {}
KEPT = 256


def _compiled(version: DefinitionVersion) -> Runtime:
    body = version.body
    tables = {
        name: Table(
            [Route(r["key"], r["when"], r) for r in table["rules"]],
            table.get("hit_policy", "collect"),
        )
        for name, table in (body.get("routing") or {}).items()
    }
    return Runtime(body["key"], version.number, body, tables)


def runtime(version: DefinitionVersion | int) -> Runtime:
    """The compiled runtime of a version; cached, since versions never change. A version
    read with its body is compiled from it (a page listing current versions compiles
    them without reading each again by id).

    :raises NotFound: no such version.
    """
    version_id = version if isinstance(version, int) else version.id
    found = _RUNTIMES.get(version_id)
    if found is not None:
        return found
    if (
        isinstance(version, int)
        or version_id is None
        or version.__data__.get("body") is None
        or version.is_dirty()  # a body changed in memory is not the published one
    ):
        try:
            version = DefinitionVersion.get_by_id(version_id)
        except DefinitionVersion.DoesNotExist:
            raise NotFound(f"definition version {version_id} does not exist") from None
    if len(_RUNTIMES) >= KEPT:
        _RUNTIMES.clear()
    found = _RUNTIMES[version_id] = _compiled(version)
    return found


def clear_runtime_cache() -> None:
    """Forget compiled runtimes and kept version bodies (tests re-create databases with
    the same ids)."""
    from engine.definitions.definitions import clear_body_cache

    _RUNTIMES.clear()
    clear_body_cache()
