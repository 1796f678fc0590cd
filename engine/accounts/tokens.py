"""API bearer tokens: created for a user, expiring, listed and revoked; only digests are stored."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from engine.core.errors import Invalid, NotFound
from engine.org.actors import Actor
from engine.store.models import Grant, OrgNode, Token, User
from engine.trail import audit

DEFAULT_LIFETIME = dt.timedelta(days=90)
MAX_LIFETIME = dt.timedelta(days=3650)
# How stale a token's "last used" may get before a request writes it again: a busy
# integration would otherwise write on every call.
LAST_USED_GRAIN = dt.timedelta(hours=1)


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create_token(
    username: str, label: str = "", *, now: dt.datetime, lifetime: dt.timedelta = DEFAULT_LIFETIME
) -> str:
    """A new bearer token for ``username``, valid for ``lifetime``; only its digest is stored.

    :raises NotFound: no such user.
    :raises Invalid: the lifetime is not between a day and ten years.
    """
    user = User.get_or_none(User.username == username)
    if user is None:
        raise NotFound(f"user {username!r} does not exist")
    if not dt.timedelta(days=1) <= lifetime <= MAX_LIFETIME:
        raise Invalid("a token lives between 1 and 3650 days")
    raw = "sf_" + secrets.token_urlsafe(32)
    token = Token.create(
        user=user, digest=_digest(raw), label=label, created_at=now, expires_at=now + lifetime
    )
    audit.record(
        "token.create",
        at=now,
        actor=user,
        target=f"user:{username}",
        after={"token": token.id, "label": label, "expires_at": token.expires_at.isoformat()},
    )
    return raw


def user_for_token(raw: str, *, now: dt.datetime) -> User | None:
    """The active user a bearer token belongs to, if it is neither revoked nor expired."""
    token = (
        Token.select(Token, User)
        .join(User)
        .where(
            (Token.digest == _digest(raw))
            & (Token.revoked == False)
            & (Token.expires_at.is_null() | (Token.expires_at > now))
        )
        .first()
    )
    if token is None or not token.user.active:
        return None
    if token.last_used_at is None or token.last_used_at < now - LAST_USED_GRAIN:
        Token.update(last_used_at=now).where(Token.id == token.id).execute()
    return token.user


def revoke_all(user: User, *, now: dt.datetime) -> int:
    """Revoke every live token of ``user`` (a new password); returns how many."""
    return int(
        Token.update(revoked=True, revoked_at=now)
        .where((Token.user == user) & (Token.revoked == False))
        .execute()
    )


@dataclass(frozen=True)
class TokenRow:
    """What may be shown of a token: never its secret (nor its digest)."""

    id: int
    username: str
    name: str
    label: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None
    state: str  # live, expired or revoked


def _row(token: Token, now: dt.datetime) -> TokenRow:
    if token.revoked:
        state = "revoked"
    elif token.expires_at is not None and token.expires_at <= now:
        state = "expired"
    else:
        state = "live"
    return TokenRow(
        token.id,
        token.user.username,
        token.user.name,
        token.label,
        token.created_at,
        token.expires_at,
        token.last_used_at,
        token.revoked_at,
        state,
    )


def list_tokens(*, now: dt.datetime, username: str | None = None) -> list[TokenRow]:
    """Every token (or ``username``'s), newest first — for the command line."""
    query = Token.select(Token, User).join(User).order_by(Token.created_at.desc(), Token.id.desc())
    if username is not None:
        query = query.where(User.username == username)
    return [_row(t, now) for t in query]


def _grant_paths(user_ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {uid: [] for uid in user_ids}
    rows = (
        Grant.select(Grant.user, OrgNode.path)
        .join(OrgNode)
        .where(Grant.user.in_(user_ids))
        .tuples()
    )
    for user_id, path in rows:
        found[user_id].append(path)
    return found


def _root_paths() -> set[str]:
    return {p for (p,) in OrgNode.select(OrgNode.path).where(OrgNode.parent.is_null()).tuples()}


def manages(actor: Actor, paths: list[str], roots: set[str]) -> bool:
    """Whether ``actor`` administers a user whose grants are at ``paths``: an admin at a root
    manages everyone; any other admin those users whose every grant lies in its subtree."""
    admin_paths = [g.node_path for g in actor.grants_for("admin")]
    if any(p in roots for p in admin_paths):
        return True
    return bool(paths) and all(any(p.startswith(a) for a in admin_paths) for p in paths)


def tokens_for_admin(actor: Actor, *, now: dt.datetime) -> list[TokenRow]:
    """The tokens of the users ``actor`` administers, newest first."""
    tokens = list(
        Token.select(Token, User).join(User).order_by(Token.created_at.desc(), Token.id.desc())
    )
    paths, roots = _grant_paths(sorted({t.user_id for t in tokens})), _root_paths()
    return [_row(t, now) for t in tokens if manages(actor, paths[t.user_id], roots)]


def revoke_token(token_id: int, *, now: dt.datetime, by: Actor | None = None) -> TokenRow:
    """Revoke one token (idempotent); ``by`` an admin must administer its user, None is the CLI.

    :raises NotFound: no such token, or one ``by`` may not see.
    """
    token = Token.select(Token, User).join(User).where(Token.id == token_id).first()
    if token is None:
        raise NotFound(f"token {token_id} does not exist")
    if by is not None and not manages(
        by, _grant_paths([token.user_id])[token.user_id], _root_paths()
    ):
        raise NotFound(f"token {token_id} does not exist")
    if not token.revoked:
        Token.update(revoked=True, revoked_at=now).where(Token.id == token.id).execute()
        audit.record(
            "token.revoke",
            at=now,
            actor=by.user if by else None,
            target=f"user:{token.user.username}",
            after={"token": token.id, "label": token.label},
        )
        token = Token.select(Token, User).join(User).where(Token.id == token_id).first()
    return _row(token, now)
