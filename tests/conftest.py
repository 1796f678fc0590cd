"""Fixtures: a seeded database per test (copied from one built per session), app, clients."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import queue
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine.accounts.users import use_fast_hashing
from engine.definitions.definitions import clear_runtime_cache
from engine.store.db import database

use_fast_hashing()  # argon2 at full cost would dominate the suite's time

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seed" / "gongshu"
NOW = dt.datetime(2026, 11, 27, 1, 0, 0)  # naive UTC = 09:00 in Shanghai


# The suite runs on SQLite by default and on PostgreSQL when DATABASE_URL names one:
# each test gets a fresh copy of a database seeded once per session (a file copy on
# SQLite, CREATE DATABASE ... TEMPLATE on PostgreSQL).
BACKEND_URL = os.environ.get("DATABASE_URL", "")
ON_POSTGRES = BACKEND_URL.startswith(("postgres://", "postgresql://"))


def close_all() -> None:
    """Close this thread's connection and, for the app's pool, every idle one."""
    if not database.is_closed():
        database.close()
    if hasattr(database.obj, "close_all"):
        database.obj.close_all()


def _make_app(url: str, instance: Path) -> Flask:
    from pages import create_app

    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "DATABASE_URL": url,
            "UPLOAD_DIR": str(instance / "uploads"),
            "WTF_CSRF_ENABLED": False,
            "BACKGROUND_SWEEP": False,
            "STATISTICS_MAX_AGE": 0,  # tests change data and read the figures again at once
        }
    )


class Postgres:
    """Create and drop databases on the server DATABASE_URL points at."""

    def __init__(self, url: str) -> None:
        parsed = urlsplit(url)
        self.base = parsed
        self.admin_db = parsed.path.lstrip("/") or "postgres"

    def url(self, name: str) -> str:
        return urlunsplit(self.base._replace(path=f"/{name}"))

    def execute(self, sql: str) -> None:
        import psycopg2

        conn = psycopg2.connect(self.url(self.admin_db))
        conn.autocommit = True
        try:
            with conn.cursor() as cursor:
                cursor.execute(sql)
        finally:
            conn.close()

    def drop(self, name: str) -> None:
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


_counter = itertools.count()


class Copies:
    """Copies of the template database made ahead, and used ones dropped, by a thread of
    their own: a copy takes about half a second (CREATE DATABASE ... TEMPLATE, then the
    drop), which each test of the suite waited for; the thread makes the next one while
    a test runs (psycopg2 lets go of the interpreter while the server works)."""

    AHEAD = 2

    def __init__(self, postgres: Postgres, template: str) -> None:
        self.postgres, self.template = postgres, template
        self.ready: queue.Queue[str | BaseException] = queue.Queue()
        self.work: queue.Queue[tuple[str, str] | None] = queue.Queue()
        self.failed: list[BaseException] = []  # drops that failed, raised at the end
        self.thread = threading.Thread(target=self._run, name="database-copies", daemon=True)
        self.thread.start()
        for _ in range(self.AHEAD):
            self.work.put(("make", ""))

    def _run(self) -> None:
        import psycopg2

        while (task := self.work.get()) is not None:
            what, name = task
            try:
                if what == "make":
                    name = f"sanfang_t_{os.getpid()}_{next(_counter)}"
                    self.postgres.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
                    self.ready.put(name)
                else:
                    self.postgres.drop(name)
            except psycopg2.Error as error:
                if what == "make":
                    self.ready.put(error)  # the test taking the copy fails with it
                else:
                    self.failed.append(error)

    def take(self) -> str:
        """A fresh copy's name; the next one is made meanwhile."""
        self.work.put(("make", ""))
        name = self.ready.get(timeout=120)
        if isinstance(name, BaseException):
            raise name
        return name

    def give_back(self, name: str) -> None:
        """Drop a used copy (later, in the thread)."""
        self.work.put(("drop", name))

    def close(self) -> None:
        """Drop what is left, made or used, and the template; stop the thread."""
        self.work.put(None)
        self.thread.join(timeout=120)
        while not self.ready.empty():
            left = self.ready.get()
            if isinstance(left, str):
                self.postgres.drop(left)
        self.postgres.drop(self.template)
        if self.failed:
            raise self.failed[0]


def _fill(url: str, folder: Path, fill: Any) -> None:
    """Run ``fill()`` on the database at ``url``, then leave no connection on it (a
    template; SQLite checkpoints its WAL on the last close)."""
    _make_app(url, folder)
    with database.connection_context():
        fill()
    close_all()


@pytest.fixture(scope="session")
def postgres() -> Postgres | None:
    return Postgres(BACKEND_URL) if ON_POSTGRES else None


@pytest.fixture(scope="session")
def seeded_template(
    tmp_path_factory: pytest.TempPathFactory, postgres: Postgres | None
) -> Iterator[Any]:
    """A database with the seed pack loaded, built once per session.

    On SQLite the file's path; on PostgreSQL the template database's ``Copies``.
    """
    from engine.authoring.packs import load_pack

    folder = tmp_path_factory.mktemp("template")
    if postgres is None:
        path = folder / "seeded.db"
        url = f"sqlite:///{path}"
        target: Any = path
    else:
        target = f"sanfang_tpl_{os.getpid()}"
        postgres.drop(target)
        postgres.execute(f'CREATE DATABASE "{target}"')
        url = postgres.url(target)
    _fill(url, folder, lambda: load_pack(SEED, now=NOW))
    if postgres is None:
        yield target
        return
    copies = Copies(postgres, target)
    yield copies
    copies.close()


@pytest.fixture(scope="session")
def demo_templates(
    seeded_template: Any, tmp_path_factory: pytest.TempPathFactory, postgres: Postgres | None
) -> Iterator[Any]:
    """Demo districts generated on the seeded database once per session, one per set of
    ``generate`` arguments, as templates like ``seeded_template``: tests copy them
    (generating the demo took each test that wanted it 4 to 7 seconds)."""
    from engine.demo.demo import generate

    folder = tmp_path_factory.mktemp("demos")
    built: dict[tuple[Any, ...], Any] = {}

    def template(**arguments: Any) -> Any:
        key = tuple(sorted(arguments.items()))
        if key not in built:
            if postgres is None:
                target: Any = folder / f"demo-{len(built)}.db"
                shutil.copy(seeded_template, target)
                url = f"sqlite:///{target}"
            else:
                target = seeded_template.take()
                url = postgres.url(target)
            _fill(url, folder, lambda: generate(SEED, now=NOW, **arguments))
            built[key] = target if postgres is None else Copies(postgres, target)
        return built[key]

    yield template
    for made in built.values():
        if isinstance(made, Copies):
            made.close()


@pytest.fixture
def database_copy(seeded_template: Any, tmp_path: Path, postgres: Postgres | None) -> Iterator[Any]:
    """A factory of fresh copies of the seeded database (or of ``template``, one of
    ``demo_templates``); each call returns a new URL."""
    made: list[tuple[Any, str]] = []

    def make(template: Any = None) -> str:
        template = template or seeded_template
        if postgres is None:
            db_path = tmp_path / f"sanfang-{len(made)}.db"
            shutil.copy(template, db_path)
            made.append((template, str(db_path)))
            return f"sqlite:///{db_path}"
        name = template.take()
        made.append((template, name))
        return postgres.url(name)

    yield make
    if postgres is not None:
        close_all()
        for template, name in made:
            template.give_back(name)


@pytest.fixture
def database_url(request: pytest.FixtureRequest, database_copy: Any) -> str:
    """A fresh copy of the seeded database for one test; of the demo district when the
    test asks for ``demo`` and its module names the demo's ``generate`` arguments
    (``DEMO``), the demo generated once per session (``demo_templates``)."""
    arguments = getattr(request.module, "DEMO", None)
    if arguments is not None and "demo" in request.fixturenames:
        return str(database_copy(request.getfixturevalue("demo_templates")(**arguments)))
    return str(database_copy())


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    clear_runtime_cache()
    application = _make_app(database_url, tmp_path)
    database.connect(reuse_if_open=True)
    yield application
    close_all()
    clear_runtime_cache()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


class AuthActions:
    def __init__(self, client: FlaskClient) -> None:
        self._client = client

    def login(self, username: str, password: str = "demo1234") -> Any:
        response = self._client.post("/login", data={"username": username, "password": password})
        assert response.status_code == 303, f"login as {username} failed: {response.status_code}"
        return response

    def logout(self) -> Any:
        return self._client.post("/logout")


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def actor_of() -> Any:
    """Load an Actor by username (engine-level tests)."""
    from engine.org.actors import actor_for
    from engine.store.models import User

    def load(username: str) -> Any:
        return actor_for(User.get(User.username == username))

    return load


@pytest.fixture
def token_for() -> Any:
    from engine.accounts.users import create_token
    from engine.core import clock

    def make(username: str) -> dict[str, str]:  # the API checks expiry against the real clock
        return {"Authorization": f"Bearer {create_token(username, now=clock.now())}"}

    return make


@pytest.fixture
def count_queries() -> Any:
    """``with count_queries() as q: ...`` then ``q.count`` / ``q.statements``: the SQL
    statements the block ran (peewee's own logging hook, see engine.store.db.counting_queries)."""
    from engine.store.db import counting_queries

    return counting_queries


@pytest.fixture
def assert_max_queries() -> Any:
    """``with assert_max_queries(8): client.get(...)`` fails, listing the statements, when
    the block runs more than that many: an N+1 (a query per row) shows at once."""
    from contextlib import contextmanager

    from engine.store.db import counting_queries

    @contextmanager
    def check(budget: int, what: str = "block") -> Iterator[Any]:
        with counting_queries() as counter:
            yield counter
        assert counter.count <= budget, (
            f"{what} ran {counter.count} queries (budget {budget}):\n"
            + "\n".join(counter.statements)
        )

    return check
