"""The skeletons of new meeting (议事会) and opinion (征求意见) definitions in the designer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.org.permissions import PARTIES

ANSWERERS = ["resident"]
DEFAULT_DAYS = 7


def skeleton(
    key: str,
    name: str,
    kind: str,
    *,
    roles: list[str],
    node_kinds: list[str],
    schema: Mapping[str, Any],
) -> dict[str, Any]:
    """A new meeting or opinion definition that publishes as it is: one form field, no outcomes.

    :param roles: who convenes the meeting, or opens the collection.
    """
    body: dict[str, Any] = {
        "key": key,
        "kind": kind,
        "name": name,
        "node_kinds": node_kinds or ["compound"],
        "schema": dict(schema),
        "outcomes": [],
    }
    if kind == "meeting":
        body["convene_roles"] = roles or ["commissioner"]
        body["parties"] = list(PARTIES)
    else:
        body["open_roles"] = roles or ["commissioner"]
        body["answer_roles"] = list(ANSWERERS)
        body["days"] = DEFAULT_DAYS
    return body
