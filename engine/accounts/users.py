"""Accounts, role grants, password hashing (argon2) and login with its throttle."""

from __future__ import annotations

import datetime as dt
import os
import secrets
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from engine.accounts import logins
from engine.accounts.logins import Limits
from engine.accounts.tokens import create_token, revoke_all, user_for_token
from engine.core.errors import Invalid
from engine.org.org import node_by_key
from engine.store.db import database
from engine.store.models import Grant, User
from engine.trail import audit

__all__ = [
    "Limits",
    "Throttled",
    "authenticate",
    "create_token",
    "describe",
    "hash_password",
    "hash_passwords",
    "upsert_user",
    "use_fast_hashing",
    "user_for_token",
]

_hasher = PasswordHasher()
DEFAULT_LIMITS = Limits()
_dummy_hash: str | None = None  # verified for unknown usernames, so they take as long


class Throttled(Exception):
    """Too many login attempts for this username from this address, or from this address."""


def use_fast_hashing() -> None:
    """Cheap argon2 parameters, for test suites only (hashes still verify normally)."""
    global _hasher, _dummy_hash
    _hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    _dummy_hash = None


def hash_password(password: str) -> str:
    """An argon2 hash with its own random salt: two users with one password get two hashes."""
    return _hasher.hash(password)


def hash_passwords(passwords: list[str]) -> list[str]:
    """One hash per entry, each with its own salt, computed in parallel (argon2 releases
    the GIL) — for bulk loads, before their write transaction rather than inside it."""
    if len(passwords) < 2:
        return [hash_password(p) for p in passwords]
    with ThreadPoolExecutor(max_workers=min(len(passwords), os.cpu_count() or 1)) as pool:
        return list(pool.map(hash_password, passwords))


def dummy_hash() -> str:
    """A hash of a random password with the current parameters (made once per process)."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash(secrets.token_urlsafe(16))
    return _dummy_hash


def verify_password(stored: str, password: str) -> bool:
    try:
        return bool(_hasher.verify(stored, password))
    except (VerificationError, InvalidHashError):
        return False


def upsert_user(
    username: str,
    name: str,
    password: str | None,
    grants: Iterable[Mapping[str, str]] = (),
    *,
    now: dt.datetime,
    reset_password: bool = True,
    hashed: str | None = None,
) -> User:
    """Create or update a user and add the listed grants ``{"role", "node"}``.

    A new password for an existing user ends its sessions and revokes its API tokens.

    :param reset_password: False keeps an existing user's password (pack reloads).
    :param hashed: ``password``'s hash made for this user alone (:func:`hash_passwords`).
    :raises NotFound: a grant names an org node that does not exist.
    """
    with database.atomic():
        return _upsert(
            username, name, password, grants, now=now, reset_password=reset_password, hashed=hashed
        )


def _upsert(
    username: str,
    name: str,
    password: str | None,
    grants: Iterable[Mapping[str, str]],
    *,
    now: dt.datetime,
    reset_password: bool,
    hashed: str | None,
) -> User:
    user = User.get_or_none(User.username == username)
    before = None
    if user is None:
        if not password:
            raise Invalid(f"user {username!r} needs a password")
        user = User.create(
            username=username,
            name=name,
            password_hash=hashed or hash_password(password),
            created_at=now,
        )
    else:
        before = {"name": user.name}
        user.name = name
        if password and reset_password:
            user.password_hash = hashed or hash_password(password)
            ended = logins.end_all_sessions(user, now=now)
            revoked = revoke_all(user, now=now)
            audit.record(
                "user.password",
                at=now,
                actor=None,
                target=f"user:{username}",
                after={"sessions_ended": ended, "tokens_revoked": revoked},
            )
        user.save()
    added = []
    for grant in grants:
        node = node_by_key(grant["node"])
        _, created = Grant.get_or_create(user=user, role=grant["role"], node=node)
        if created:
            added.append(f"{grant['role']}@{grant['node']}")
    if before is None or added or before["name"] != name:
        audit.record(
            "user.save",
            at=now,
            actor=None,
            target=f"user:{username}",
            before=before,
            after={"name": name, "grants_added": added},
        )
    return user


def authenticate(
    username: str, password: str, *, address: str, now: dt.datetime, limits: Limits = DEFAULT_LIMITS
) -> User | None:
    """The user if the password is right; None otherwise.

    The attempt is counted before the password is checked, atomically (engine/accounts/logins.py),
    so parallel attempts cannot all slip under the limit. An unknown username is checked
    against a dummy hash: it takes as long as a wrong password for a real one.

    :param address: the client's address; limits count per (username, address) and per address.
    :raises Throttled: too many recent attempts.
    """
    if not logins.reserve(username, address, now=now, limits=limits):
        raise Throttled(username)
    user = User.get_or_none(User.username == username)
    ok = verify_password(user.password_hash if user is not None else dummy_hash(), password)
    if not ok or user is None or not user.active:
        return None
    logins.forgive(username, address)
    return user


def describe(user: User) -> dict[str, Any]:
    return {"username": user.username, "name": user.name}
