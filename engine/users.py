"""Accounts, role grants, password hashing (argon2), login throttling, API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from engine import audit
from engine.errors import Invalid, NotFound
from engine.models import AuthAttempt, Grant, Token, User
from engine.org import node_by_key

_hasher = PasswordHasher()
MAX_FAILURES = 5
FAILURE_WINDOW = dt.timedelta(minutes=15)


class Throttled(Exception):
    """Too many failed logins for this username in the window."""


def use_fast_hashing() -> None:
    """Cheap argon2 parameters, for test suites only (hashes still verify normally)."""
    global _hasher
    _hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def upsert_user(
    username: str, name: str, password: str | None, grants: Iterable[Mapping[str, str]] = (),
    *, now: dt.datetime, reset_password: bool = True, hashes: dict[str, str] | None = None,
) -> User:
    """Create or update a user and add the listed grants ``{"role", "node"}``.

    :param reset_password: False keeps an existing user's password (pack reloads).
    :param hashes: a cache password → hash shared by one bulk load (demo accounts).
    :raises NotFound: a grant names an org node that does not exist.
    """

    def hashed(raw: str) -> str:
        if hashes is None:
            return hash_password(raw)
        if raw not in hashes:
            hashes[raw] = hash_password(raw)
        return hashes[raw]

    user = User.get_or_none(User.username == username)
    before = None
    if user is None:
        if not password:
            raise Invalid(f"user {username!r} needs a password")
        user = User.create(username=username, name=name, password_hash=hashed(password), created_at=now)
    else:
        before = {"name": user.name}
        user.name = name
        if password and reset_password:
            user.password_hash = hashed(password)
        user.save()
    added = []
    for grant in grants:
        node = node_by_key(grant["node"])
        _, created = Grant.get_or_create(user=user, role=grant["role"], node=node)
        if created:
            added.append(f"{grant['role']}@{grant['node']}")
    if before is None or added or before["name"] != name:
        audit.record("user.save", at=now, actor=None, target=f"user:{username}", before=before,
                     after={"name": name, "grants_added": added})
    return user


def authenticate(username: str, password: str, *, now: dt.datetime) -> User | None:
    """The user if the password is right; None otherwise.

    :raises Throttled: too many recent failures for ``username``.
    """
    recent = AuthAttempt.select().where(
        (AuthAttempt.username == username) & (AuthAttempt.at > now - FAILURE_WINDOW)
    )
    if recent.count() >= MAX_FAILURES:
        raise Throttled(username)
    user = User.get_or_none((User.username == username) & (User.active == True))
    ok = False
    if user is not None:
        try:
            ok = _hasher.verify(user.password_hash, password)
        except (VerificationError, InvalidHashError):
            ok = False
    if not ok:
        AuthAttempt.create(username=username, at=now)
        return None
    AuthAttempt.delete().where(AuthAttempt.username == username).execute()
    return user


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create_token(username: str, label: str = "", *, now: dt.datetime) -> str:
    """A new bearer token for ``username``; only its digest is stored.

    :raises NotFound: no such user.
    """
    user = User.get_or_none(User.username == username)
    if user is None:
        raise NotFound(f"user {username!r} does not exist")
    raw = "sf_" + secrets.token_urlsafe(32)
    Token.create(user=user, digest=_digest(raw), label=label, created_at=now)
    audit.record("token.create", at=now, actor=user, target=f"user:{username}", after={"label": label})
    return raw


def user_for_token(raw: str) -> User | None:
    """The active user a bearer token belongs to, if it is valid."""
    token = (
        Token.select(Token, User).join(User)
        .where((Token.digest == _digest(raw)) & (Token.revoked == False))
        .first()
    )
    if token is None or not token.user.active:
        return None
    return token.user


def describe(user: User) -> dict[str, Any]:
    return {"username": user.username, "name": user.name}
