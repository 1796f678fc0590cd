"""Login sessions kept in the database, and the login throttle's counters.

Both live in the database, not in a process, so that every app host behind a load
balancer sees the same sessions and counts the same attempts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine.org.actors import Actor, actor_from, actor_query, extra_values
from engine.store.db import database
from engine.store.models import User
from engine.store.prepared import prepared
from engine.store.tables import LoginCounter, LoginSession


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


# --- sessions ---------------------------------------------------------------------


def start_session(user: User, *, address: str, now: dt.datetime, lifetime: dt.timedelta) -> str:
    """A new session for ``user``; returns the key the cookie carries (only its digest is stored)."""
    # The user's dead sessions go now: the table holds live sessions and recent ends only.
    LoginSession.delete().where(
        (LoginSession.user == user)
        & (LoginSession.ended_at.is_null(False) | (LoginSession.expires_at <= now))
    ).execute()
    raw = secrets.token_urlsafe(32)
    LoginSession.create(
        digest=_digest(raw),
        user=user,
        created_at=now,
        expires_at=now + lifetime,
        address=address[:64],
    )
    return raw


def session_user(raw: str, *, now: dt.datetime) -> User | None:
    """The active user of a live session (not ended, not expired), else None (one query)."""
    found = (
        LoginSession.select(LoginSession, User)
        .join(User)
        .where(
            (LoginSession.digest == _digest(raw))
            & LoginSession.ended_at.is_null()
            & (LoginSession.expires_at > now)
            & (User.active == True)
        )
        .first()
    )
    return found.user if found is not None else None


def session_actor(
    raw: str,
    *,
    now: dt.datetime,
    extra: tuple[Any, ...] | Callable[[], tuple[Any, ...]] = (),
    name: str = "",
) -> tuple[Actor | None, tuple[Any, ...]]:
    """The active user of a live session with their grants, in one query (every request),
    and the values of ``extra`` columns read along (queries about ``User.id``, such as
    the header's unread count); ``name`` tells apart callers with different ``extra``.

    ``extra`` may be a function making the columns: the statement is built once per
    process (``prepared``), so the columns need not be built on every request either.
    """

    def build(digest: Any, now: Any) -> Any:
        live = LoginSession.select(LoginSession.user).where(
            (LoginSession.digest == digest)
            & LoginSession.ended_at.is_null()
            & (LoginSession.expires_at > now)
        )
        return actor_query(User.id.in_(live), *(extra() if callable(extra) else extra))

    rows = list(prepared(("session_actor", name), build, digest=_digest(raw), now=now))
    actor = actor_from(rows)
    return actor, extra_values(rows[0]) if actor is not None else ()


def end_session(raw: str, *, now: dt.datetime) -> None:
    """End one session (logout): its cookie no longer logs anyone in, on any host."""
    LoginSession.update(ended_at=now).where(
        (LoginSession.digest == _digest(raw)) & LoginSession.ended_at.is_null()
    ).execute()


def end_all_sessions(user: User, *, now: dt.datetime) -> int:
    """End every live session of ``user`` (a new password); returns how many."""
    return int(
        LoginSession.update(ended_at=now)
        .where((LoginSession.user == user) & LoginSession.ended_at.is_null())
        .execute()
    )


# --- throttle ---------------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    """How many login attempts may fail in a window before more are refused unchecked.

    ``per_account`` counts one username from one client address: a wrong password
    typed elsewhere cannot lock the account's owner out. ``per_address`` counts every
    username from one address, so one client cannot try many accounts or keep the
    server hashing.
    """

    per_account: int = 5
    per_address: int = 50
    window: dt.timedelta = dt.timedelta(minutes=15)


def client_key(address: str) -> str:
    """The address as counted: IPv4 as is, IPv6 by its /64 (one host usually holds a whole /64)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _count(key: str, *, now: dt.datetime, window: dt.timedelta) -> int:
    """Add one attempt under ``key`` and return the window's count, in one atomic statement.

    An upsert with RETURNING (SQLite ≥ 3.35, PostgreSQL): parallel requests each get
    their own count, never the same one — there is no read-then-write to race.
    A window older than ``window`` starts over at 1.
    """
    table = LoginCounter._meta.table_name
    p = database.param
    sql = (
        f'INSERT INTO "{table}" ("key", "attempts", "started_at") VALUES ({p}, 1, {p}) '
        f'ON CONFLICT ("key") DO UPDATE SET '
        f'"attempts" = CASE WHEN "{table}"."started_at" <= {p} THEN 1 ELSE "{table}"."attempts" + 1 END, '
        f'"started_at" = CASE WHEN "{table}"."started_at" <= {p} THEN {p} ELSE "{table}"."started_at" END '
        f'RETURNING "attempts"'
    )
    cutoff = now - window
    with database.atomic():
        row = database.execute_sql(sql, (key, now, cutoff, cutoff, now)).fetchone()
    return int(row[0])


def _keys(username: str, address: str) -> tuple[str, str]:
    where = client_key(address)
    return f"addr:{where}", f"user:{where}:{username}"[:200]


def reserve(username: str, address: str, *, now: dt.datetime, limits: Limits) -> bool:
    """Count a login attempt before its password is checked; False if over a limit.

    Counting first is what makes the limit hold under parallel requests: the sixth of
    sixteen simultaneous attempts is refused without a password check.
    """
    LoginCounter.delete().where(LoginCounter.started_at <= now - limits.window).execute()
    by_address, by_account = _keys(username, address)
    if _count(by_address, now=now, window=limits.window) > limits.per_address:
        return False
    return _count(by_account, now=now, window=limits.window) <= limits.per_account


def forgive(username: str, address: str) -> None:
    """A successful login: its attempt was no failure, and the account's count starts over."""
    by_address, by_account = _keys(username, address)
    LoginCounter.delete().where(LoginCounter.key == by_account).execute()
    LoginCounter.update(attempts=LoginCounter.attempts - 1).where(
        (LoginCounter.key == by_address) & (LoginCounter.attempts > 0)
    ).execute()
