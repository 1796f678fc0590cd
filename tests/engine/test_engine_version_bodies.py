"""Published versions' bodies are kept in the process (engine/definitions/definitions.py):
a list of definitions reads and decodes a body once, a new version's body is read, and
a database re-created with the same ids never shows a kept body of another one."""

from __future__ import annotations

import copy
import datetime as dt

from engine.authoring.publishing import publish
from engine.definitions import definitions
from engine.definitions.definitions import clear_runtime_cache, current_version, current_versions
from engine.store.db import counting_queries
from engine.store.models import DefinitionVersion, Pack

NOW = dt.datetime(2026, 11, 27, 1, 0)


def _stored(version: DefinitionVersion) -> object:
    return DefinitionVersion.get_by_id(version.id).body


def test_a_kept_body_is_not_read_again(app):
    first = current_versions("item_type")
    with counting_queries() as counter:
        again = current_versions("item_type")
    assert counter.count == 1
    assert '"BODY"' not in counter.statements[0].upper()  # kept versions: no body selected
    assert [v.body for v in again] == [_stored(v) for v in first]
    assert not any(v.is_dirty() for v in again)


def test_a_new_version_shows_its_own_body(app):
    current_versions("item_type")
    body = copy.deepcopy(current_version("bell").body)
    body["name"] = "协商铃（新）"
    new = publish(Pack.get(), body, now=NOW, by=None)
    with counting_queries() as counter:
        bell = next(v for v in current_versions("item_type") if v.body["key"] == "bell")
    # the versions' plain columns, then (a version not kept) the versions with the new body
    assert counter.count == 2
    assert sum('"body"' in statement for statement in counter.statements) == 1
    assert (bell.id, bell.body["name"]) == (new.id, "协商铃（新）")
    assert current_version("bell").body == _stored(new)


def test_an_id_kept_with_another_digest_is_read_again(app):
    clear_runtime_cache()
    bell = current_version("bell")
    definitions._BODIES.clear()
    definitions._BODIES[(bell.id, "0" * 64)] = {"key": "another database's"}
    assert current_version("bell").body == _stored(bell)
    clear_runtime_cache()
    assert not definitions._BODIES


def test_the_statement_is_built_once_per_shape_and_kept_bodies(app):
    from engine.core import memo

    first = [v.id for v in current_versions("item_type")]  # reads and keeps the bodies
    memo.clear()
    current_versions("item_type")  # the kept bodies changed: a statement without them
    built = dict(definitions._STATEMENTS)
    memo.clear()
    assert [v.id for v in current_versions("item_type")] == first
    assert definitions._STATEMENTS == built
    clear_runtime_cache()
    assert not definitions._STATEMENTS


def test_current_bodies_are_the_current_versions_bodies(app):
    """``current_bodies`` (ids in a prepared statement, bodies from the runtimes) gives
    what ``current_versions`` gives, in id order, for every kind."""
    from engine.definitions.definitions import current_bodies, current_versions

    for kind in ("item_type", "directory"):
        expected = [(v.definition.id, v.definition.key, v.body) for v in current_versions(kind)]
        assert expected and current_bodies(kind) == expected


def test_a_version_read_with_its_body_is_compiled_without_reading_it_again(app):
    from engine.definitions.runtimes import runtime

    clear_runtime_cache()
    versions = current_versions("item_type")
    with counting_queries() as counter:
        compiled = [runtime(v) for v in versions]
    assert counter.count == 0
    assert [rt.key for rt in compiled] == [v.body["key"] for v in versions]
    clear_runtime_cache()
    changed = DefinitionVersion.get_by_id(versions[0].id)
    changed.body = {**changed.body, "key": "changed in memory"}
    assert runtime(changed).key == versions[0].body["key"]  # the published body, read
