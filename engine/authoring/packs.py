"""Scenario packs: read a folder, validate it whole, load it, export it."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from engine.accounts.users import hash_passwords, upsert_user
from engine.authoring.publishing import publish
from engine.core.errors import FieldProblem, Invalid, NotFound
from engine.core.i18n import gettext as _
from engine.core.limits import depth_problem, nested_too_deep
from engine.definitions.checks import (
    calendar_problems,
    definition_problems,
    structure_problems,
    webhook_problems,
)
from engine.definitions.checks_common import no_node, unknown_role
from engine.definitions.checks_directories import directory_reads_problems
from engine.definitions.checks_residents import open311_code_problems
from engine.definitions.checks_scores import fact_reads_problems
from engine.definitions.definitions import current_version, known_units
from engine.delivery.webhooks import sync_pack_endpoints
from engine.org.org import upsert_tree
from engine.store.db import database
from engine.store.models import Definition, OrgNode, Pack, User, WebhookEndpoint
from engine.trail import audit


@dataclass
class PackFiles:
    """A pack read from disk: the manifest, the org file and the definitions by file name."""

    root: Path
    manifest: dict[str, Any] = field(default_factory=dict)
    org: dict[str, Any] = field(default_factory=lambda: {"nodes": []})
    definitions: dict[str, Any] = field(default_factory=dict)
    demo: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def outside_line(where: str, name: object) -> str:
    """The one problem line for a path that does not name a file inside the pack.

    An absolute path, a ``..`` escape, a symlink leading out and a zip member that would land
    outside all get it, worded the same, so it never tells whether an outside file exists.
    """
    return f"{where}: " + _("%(name)s is not a file inside the pack") % {"name": repr(name)}


def pack_member(root: Path, name: object, where: str, problems: list[str]) -> Path | None:
    """The file ``name`` (as a pack names it, relative to the pack root) inside the pack, or
    None after adding the problem line ``where: ...``.

    Only relative POSIX paths without ``..`` are taken, and only if they still lie inside the
    pack once symlinks are followed; nothing outside the pack is looked at.
    """
    if not isinstance(name, str) or not name or "\\" in name or "\0" in name:
        problems.append(outside_line(where, name))
        return None
    relative = PurePosixPath(name)
    if (
        not relative.parts
        or relative.is_absolute()
        or ".." in relative.parts
        or ":" in relative.parts[0]
    ):
        problems.append(outside_line(where, name))
        return None
    base = root.resolve()
    target = (base / relative).resolve()
    if target == base or not target.is_relative_to(base):
        problems.append(outside_line(where, name))
        return None
    return target


def _read_json(root: Path, name: object, where: str, problems: list[str]) -> Any:
    path = pack_member(root, name, where, problems)
    if path is None:
        return None
    try:
        parsed = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        problems.append(f"{name}: " + _("The file is not in the pack"))
    except UnicodeDecodeError:
        problems.append(f"{name}: " + _("The file is not UTF-8 text"))
    except json.JSONDecodeError as exc:
        problems.append(
            f"{name}: "
            + _("The file is not valid JSON at line %(line)s, column %(column)s")
            % {"line": exc.lineno, "column": exc.colno}
        )
    except RecursionError:
        problems.append(f"{name}: {nested_too_deep()}")
    except OSError:
        problems.append(f"{name}: " + _("cannot be read as a JSON file"))
    else:
        # Too deep for the checks and the designer to walk: refused here, whole.
        deep = depth_problem(parsed)
        if deep is None:
            return parsed
        problems.append(f"{name}{deep.path}: {deep.message}")
    return None


def read_pack(root: str | Path) -> PackFiles:
    """Read a pack folder (or its pack.json); parse errors become problems.

    Every file the manifest names is read relative to the pack folder and must stay inside
    it (:func:`pack_member`).
    """
    root = Path(root)
    if root.is_file():
        root = root.parent
    files = PackFiles(root)
    manifest = _read_json(root, "pack.json", "pack.json", files.problems)
    if manifest is None:
        return files
    files.manifest = manifest
    files.problems += [
        f"pack.json{p.path or '/'}: {p.message}" for p in structure_problems(manifest, "pack")
    ]
    if not files.problems and "calendar" in manifest:
        files.problems += [
            f"pack.json{p.path}: {p.message}" for p in calendar_problems(manifest["calendar"])
        ]
    if not files.problems:
        files.problems += [f"pack.json{p.path}: {p.message}" for p in webhook_problems(manifest)]
    if files.problems:
        return files
    if manifest.get("org"):
        org = _read_json(root, manifest["org"], "pack.json/org", files.problems)
        if org is not None:
            files.org = org
    if manifest.get("demo"):
        files.demo = _read_json(root, manifest["demo"], "pack.json/demo", files.problems) or {}
    for index, name in enumerate(manifest["definitions"]):
        body = _read_json(root, name, f"pack.json/definitions/{index}", files.problems)
        if body is not None:
            files.definitions[name] = body
    return files


def _walk_nodes(nodes: list[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    for node in nodes:
        yield node
        yield from _walk_nodes(node.get("children") or [])


def validate_pack(files: PackFiles, *, existing_units: set[str] | None = None) -> list[str]:
    """Every mistake in the pack as ``file/json/pointer: message`` lines."""
    problems = list(files.problems)
    if not files.manifest or problems:
        return problems
    org_name = files.manifest.get("org", "org.json")
    org_problems = structure_problems(files.org, "org")
    problems += [f"{org_name}{p.path or '/'}: {p.message}" for p in org_problems]
    roles = set(files.manifest["roles"])
    role_names = {
        k: str((v if isinstance(v, Mapping) else {}).get("label") or k)
        for k, v in files.manifest["roles"].items()
    }
    units = set(existing_units or set())
    if not org_problems:
        seen: set[str] = set()
        for node in _walk_nodes(files.org["nodes"]):
            if node["key"] in seen:
                problems.append(
                    f"{org_name}/nodes: "
                    + _("Two units or places have the key '%(key)s'") % {"key": node["key"]}
                )
            seen.add(node["key"])
        units |= seen
        for i, user in enumerate(files.org.get("users", [])):
            for j, grant in enumerate(user.get("grants", [])):
                if grant["role"] not in roles:
                    problems.append(
                        f"{org_name}/users/{i}/grants/{j}/role: " + unknown_role(grant["role"])
                    )
                if grant["node"] not in units:
                    problems.append(
                        f"{org_name}/users/{i}/grants/{j}/node: " + no_node(grant["node"])
                    )
    keys: dict[str, str] = {}
    for name, body in files.definitions.items():
        if isinstance(body, dict) and body.get("key") in keys:
            problems.append(
                f"{name}/key: "
                + _("The key '%(key)s' is also used by %(file)s")
                % {"key": body["key"], "file": keys[body["key"]]}
            )
        elif isinstance(body, dict) and isinstance(body.get("key"), str):
            keys[body["key"]] = name
        problems += [
            f"{name}{p.path or '/'}: {p.message}"
            for p in definition_problems(body, roles=role_names, units=units)
        ]
    problems += open311_code_problems(files.definitions)
    if not problems:  # every file is sound: check what reads the facts
        profile = next(
            (
                b
                for b in files.definitions.values()
                if b["kind"] == "profile" and b["node_kind"] == "compound"
            ),
            None,
        )
        for name, body in files.definitions.items():
            if profile is not None and body["kind"] in ("index", "checklist"):
                problems += [
                    f"{name}{p.path}: {p.message}" for p in fact_reads_problems(body, profile)
                ]
        directories = {b["key"]: b for b in files.definitions.values() if b["kind"] == "directory"}
        for name, body in files.definitions.items():
            if body["kind"] in ("index", "checklist"):
                problems += [
                    f"{name}{p.path}: {p.message}"
                    for p in directory_reads_problems(body, directories)
                ]
    return problems


def load_pack(root: str | Path, *, now: dt.datetime, by: User | None = None) -> Pack:
    """Validate and load a pack in one transaction: org tree, accounts, definitions.

    Definitions whose body changed get a new published version; unchanged ones keep
    theirs, so loading the same pack twice changes nothing. Running items keep the
    version they were created under.

    :raises Invalid: the pack has mistakes (``fields`` holds every one).
    """
    files = read_pack(root)
    problems = validate_pack(files, existing_units=known_units())
    if problems:
        raise Invalid(
            _("The pack has mistakes"),
            [_problem_line(line) for line in problems],
        )
    manifest = files.manifest
    hashed = _new_users_hashes(files.org.get("users", []))
    with database.atomic():
        pack = Pack.get_or_none(Pack.key == manifest["key"])
        if pack is None:
            pack = Pack.create(
                key=manifest["key"],
                name=manifest["name"],
                version=manifest["version"],
                roles=manifest["roles"],
                calendar=manifest.get("calendar"),
                loaded_at=now,
            )
        else:
            pack.name, pack.version, pack.roles, pack.calendar, pack.loaded_at = (
                manifest["name"],
                manifest["version"],
                manifest["roles"],
                manifest.get("calendar"),
                now,
            )
            pack.save()
        upsert_tree(files.org["nodes"])
        for user in files.org.get("users", []):
            upsert_user(
                user["username"],
                user["name"],
                user.get("password"),
                user.get("grants", []),
                now=now,
                reset_password=False,
                hashed=hashed.get(user["username"]),
            )
        sync_pack_endpoints(pack.key, manifest.get("webhooks", []), now=now)
        roles, units = set(manifest["roles"]), known_units()
        for body in files.definitions.values():
            publish(pack, body, now=now, by=by, roles=roles, units=units)
        audit.record(
            "pack.load",
            at=now,
            actor=by,
            target=f"pack:{pack.key}",
            after={"version": pack.version, "definitions": sorted(files.definitions)},
        )
    return pack


def _new_users_hashes(users: list[dict[str, Any]]) -> dict[str, str]:
    """The passwords of the users not yet in the database, each hashed with its own salt,
    in parallel and before the write transaction (argon2 takes a while per user)."""
    wanted = [u for u in users if u.get("password")]
    known = (
        {
            name
            for (name,) in User.select(User.username)
            .where(User.username.in_([u["username"] for u in wanted]))
            .tuples()
        }
        if wanted
        else set()
    )
    new = [u for u in wanted if u["username"] not in known]
    return dict(
        zip([u["username"] for u in new], hash_passwords([u["password"] for u in new]), strict=True)
    )


def _problem_line(line: str) -> FieldProblem:
    path, _, message = line.partition(": ")
    return FieldProblem(path, message)


def export_pack(key: str) -> dict[str, Any]:
    """The pack as files ``{name: json}``: manifest, org tree and current definitions.

    :raises NotFound: no pack has this key.
    """
    pack = Pack.get_or_none(Pack.key == key)
    if pack is None:
        raise NotFound(f"pack {key!r} does not exist")
    definitions = {}
    for definition in Definition.select().where(Definition.pack == pack).order_by(Definition.id):
        if not definition.current:
            continue  # a draft never published is not part of the pack yet
        folder = {"item_type": "items", "index": "indices", "directory": "directories"}.get(
            definition.kind, f"{definition.kind}s"
        )
        definitions[f"{folder}/{definition.key}.json"] = current_version(definition).body
    manifest = {
        "key": pack.key,
        "name": pack.name,
        "version": pack.version,
        "roles": pack.roles,
        "org": "org.json",
        "definitions": list(definitions),
    }
    if pack.calendar:
        manifest["calendar"] = pack.calendar
    hooks = [
        _export_webhook(e)
        for e in WebhookEndpoint.select()
        .where(WebhookEndpoint.pack == pack.key)
        .order_by(WebhookEndpoint.key)
    ]
    if hooks:
        manifest["webhooks"] = hooks
    return {"pack.json": manifest, "org.json": {"nodes": _export_nodes(None)}, **definitions}


def _export_webhook(endpoint: WebhookEndpoint) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "key": endpoint.key,
        "url": endpoint.url,
        "secret_env": endpoint.secret_env,
        "events": endpoint.events,
    }
    if endpoint.description:
        spec["description"] = endpoint.description
    if not endpoint.active:
        spec["active"] = False
    return spec


def _export_nodes(parent: OrgNode | None) -> list[dict[str, Any]]:
    query = (
        OrgNode.select()
        .where(OrgNode.parent.is_null() if parent is None else OrgNode.parent == parent)
        .order_by(OrgNode.id)
    )
    out = []
    for node in query:
        spec: dict[str, Any] = {"key": node.key, "name": node.name, "kind": node.kind}
        if node.profile:
            spec["profile"] = node.profile
        children = _export_nodes(node)
        if children:
            spec["children"] = children
        out.append(spec)
    return out
