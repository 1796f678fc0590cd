"""Fixtures: a seeded database per test (copied from one built per session), app, clients."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine.db import database
from engine.definitions import clear_runtime_cache
from engine.users import use_fast_hashing

use_fast_hashing()  # argon2 at full cost would dominate the suite's time

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seed" / "gongshu"
NOW = dt.datetime(2026, 11, 27, 1, 0, 0)  # naive UTC = 09:00 in Shanghai


def _make_app(db_path: Path, instance: Path) -> Flask:
    from pages import create_app

    return create_app({
        "TESTING": True,
        "SECRET_KEY": "test",
        "DATABASE_URL": f"sqlite:///{db_path}",
        "UPLOAD_DIR": str(instance / "uploads"),
        "WTF_CSRF_ENABLED": False,
    })


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with the seed pack loaded, built once per session."""
    from engine.packs import load_pack

    folder = tmp_path_factory.mktemp("template")
    path = folder / "seeded.db"
    _make_app(path, folder)
    with database.connection_context():
        load_pack(SEED, now=NOW)
    database.close()
    return path


@pytest.fixture
def app(seeded_template: Path, tmp_path: Path) -> Iterator[Flask]:
    db_path = tmp_path / "sanfang.db"
    shutil.copy(seeded_template, db_path)
    clear_runtime_cache()
    application = _make_app(db_path, tmp_path)
    database.connect(reuse_if_open=True)
    yield application
    if not database.is_closed():
        database.close()
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
    from engine.actors import actor_for
    from engine.models import User

    def load(username: str) -> Any:
        return actor_for(User.get(User.username == username))

    return load


@pytest.fixture
def token_for() -> Any:
    from engine.users import create_token

    def make(username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {create_token(username)}"}

    return make
