"""The login throttle holds under parallel attempts, unknown users cost a real hash check,
and every user's password has its own salt."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter

from argon2 import PasswordHasher

from engine.accounts import logins, users
from engine.accounts.logins import Limits
from engine.store.models import User
from engine.store.tables import LoginCounter
from tests.conftest import SEED

NOW = dt.datetime(2026, 11, 27, 1, 0)
PARALLEL = 16


def _spy_verify(monkeypatch, delay: float = 0.0) -> list[str]:
    """Record each hash a password is checked against (optionally slowing each check)."""
    checked: list[str] = []
    real = users.verify_password

    def verify(stored: str, password: str) -> bool:
        checked.append(stored)
        time.sleep(delay)
        return real(stored, password)

    monkeypatch.setattr(users, "verify_password", verify)
    return checked


def test_sixteen_parallel_wrong_passwords_check_only_five(app, monkeypatch):
    checked = _spy_verify(monkeypatch, delay=0.05)  # a slow hash widens any race window
    start = threading.Barrier(PARALLEL)
    statuses: list[int] = []

    def attempt() -> None:
        http = app.test_client()  # each thread: its own client and database connection
        start.wait()
        response = http.post(
            "/login",
            data={"username": "xifang", "password": "wrong"},
            environ_base={"REMOTE_ADDR": "203.0.113.9"},
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=attempt) for _ in range(PARALLEL)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Counter(statuses) == {401: 5, 429: PARALLEL - 5}
    assert len(checked) == 5


def test_the_counter_is_one_atomic_statement_per_attempt(app):
    limits = Limits(per_account=3, per_address=100)
    results = [logins.reserve("xifang", "203.0.113.9", now=NOW, limits=limits) for _ in range(5)]
    assert results == [True, True, True, False, False]
    rows = {c.key: c.attempts for c in LoginCounter.select()}
    assert rows == {"addr:203.0.113.9": 5, "user:203.0.113.9:xifang": 5}
    # A new window starts over, and old rows are swept away.
    assert logins.reserve("xifang", "203.0.113.9", now=NOW + limits.window, limits=limits)
    assert {c.key: c.attempts for c in LoginCounter.select()} == {
        "addr:203.0.113.9": 1,
        "user:203.0.113.9:xifang": 1,
    }


def test_an_unknown_user_costs_a_real_hash_check(app, monkeypatch):
    checked = _spy_verify(monkeypatch)
    assert users.authenticate("nobody-at-all", "wrong", address="203.0.113.9", now=NOW) is None
    assert users.authenticate("xifang", "wrong", address="203.0.113.9", now=NOW) is None
    unknown, known = checked
    assert unknown == users.dummy_hash()
    assert known == User.get(User.username == "xifang").password_hash
    # The dummy is an argon2 hash with the same parameters as the real ones: it costs the same.
    hasher: PasswordHasher = users._hasher
    assert unknown.startswith("$argon2id$") and not hasher.check_needs_rehash(unknown)
    assert unknown.split("$")[3] == known.split("$")[3]  # m=, t=, p= alike


def test_an_inactive_user_is_checked_like_any_other_and_refused(app, monkeypatch):
    checked = _spy_verify(monkeypatch)
    User.update(active=False).where(User.username == "xifang").execute()
    assert users.authenticate("xifang", "demo1234", address="203.0.113.9", now=NOW) is None
    assert len(checked) == 1


def test_users_with_one_password_have_their_own_hashes(app):
    loaded = [u.password_hash for u in User.select()]
    assert len(loaded) > 40 and len(set(loaded)) == len(
        loaded
    )  # the pack's accounts share demo1234
    one = users.upsert_user("same-1", "甲", "same-password", now=NOW)
    two = users.upsert_user("same-2", "乙", "same-password", now=NOW)
    assert one.password_hash != two.password_hash
    assert users.verify_password(one.password_hash, "same-password")
    assert users.verify_password(two.password_hash, "same-password")


def test_demo_commissioners_have_their_own_hashes(app):
    from engine.demo.demo import generate
    from engine.store.models import OrgNode

    compounds = OrgNode.select().where(OrgNode.kind == "compound").count()
    generate(SEED, compounds=compounds + 5, items=0, seed=3, now=NOW)
    demo = [u.password_hash for u in User.select().where(User.username.startswith("demo-c"))]
    assert len(demo) >= 5 and len(set(demo)) == len(demo)
    assert all(users.verify_password(h, "demo1234") for h in demo)
