"""Attachments every app host reaches: the database or S3, and `sanfang attachments
migrate` (issue 9, finding 19)."""

from __future__ import annotations

import datetime as dt
import io
import os
from pathlib import Path
from typing import Any

import pytest

from engine.records import attachments
from engine.store.db import database
from engine.store.models import Attachment
from engine.store.storage import Blob, DatabaseStore, DiskStore, S3Store, default_kind
from tests.conftest import ON_POSTGRES, close_all

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + os.urandom(64)
NOW = dt.datetime(2026, 11, 27, 1, 0, 0)


def _host(database_url: str, folder: Path, **config: Any) -> Any:
    """One more app host on the same database, with its own upload folder."""
    from pages import create_app

    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "DATABASE_URL": database_url,
            "UPLOAD_DIR": str(folder / "uploads"),
            "WTF_CSRF_ENABLED": False,
            **config,
        }
    )


def _login(client: Any, username: str) -> None:
    assert (
        client.post("/login", data={"username": username, "password": "demo1234"}).status_code
        == 303
    )


def test_the_default_store_is_the_database_on_postgresql_and_disk_on_sqlite(app):
    assert default_kind({}) == ("db" if ON_POSTGRES else "disk")
    assert default_kind({"SANFANG_S3_BUCKET": "b"}) == "s3"
    assert default_kind({"SANFANG_ATTACHMENTS": "db"}) == "db"
    with pytest.raises(ValueError, match="SANFANG_ATTACHMENTS"):
        default_kind({"SANFANG_ATTACHMENTS": "ftp"})


def test_two_hosts_behind_a_load_balancer_see_each_others_files(database_url, tmp_path):
    one = _host(database_url, tmp_path / "one", ATTACHMENT_STORE="db")
    two = _host(database_url, tmp_path / "two", ATTACHMENT_STORE="db")
    first, second = one.test_client(), two.test_client()
    _login(first, "lvzhou-yezhu1")
    _login(second, "lvzhou-yezhu1")
    answer = first.post(
        "/r/new/bell",
        data={
            "category": "环境卫生",
            "summary": "垃圾桶满了没人清理",
            "photos": (io.BytesIO(JPEG), "a.jpg", "image/jpeg"),
        },
        content_type="multipart/form-data",
    )
    assert answer.status_code == 303, answer.get_data(as_text=True)[:500]
    with database.connection_context():
        public_id = Attachment.select().order_by(Attachment.id.desc()).first().public_id
    with second.get(f"/files/{public_id}") as shown:
        assert shown.status_code == 200 and shown.data == JPEG
    assert not (tmp_path / "one" / "uploads").exists()  # nothing on either host's disk
    close_all()


def _legacy_uploads(app: Any, actor_of: Any, count: int = 3) -> list[str]:
    """Attachments as an instance before this change kept them: on the host's disk."""
    disk = DiskStore(app.config["UPLOAD_DIR"])
    actor = actor_of("lvzhou-yezhu1")
    made = [
        attachments.store(
            actor, f"{n}.jpg", "image/jpeg", io.BytesIO(JPEG + bytes([n])), store=disk, now=NOW
        )
        for n in range(count)
    ]
    return [a.sha256 for a in made]


def test_files_on_disk_stay_readable_after_switching_and_migrate_moves_them(
    app, runner, actor_of, tmp_path
):
    shas = _legacy_uploads(app, actor_of)
    moved = runner.invoke(args=["attachments", "migrate", "--to", "db"])
    assert moved.exit_code == 0, moved.output
    assert "3 copied to db, 0 already there, 0 missing" in moved.output
    again = runner.invoke(args=["attachments", "migrate", "--to", "db"])
    assert "0 copied to db, 3 already there, 0 missing" in again.output  # idempotent
    assert Blob.select().count() == 3

    for sha in shas:  # the disk is no longer needed
        (Path(app.config["UPLOAD_DIR"]) / sha[:2] / sha).unlink()
    host = _host(app.config["DATABASE_URL"], tmp_path / "new-host", ATTACHMENT_STORE="db")
    web = host.test_client()
    _login(web, "lvzhou-yezhu1")
    public_id = Attachment.get(Attachment.sha256 == shas[0]).public_id
    with web.get(f"/files/{public_id}") as shown:
        assert shown.status_code == 200 and shown.data == JPEG + bytes([0])

    back = runner.invoke(args=["attachments", "migrate", "--to", "disk"])
    assert "3 copied to disk" in back.output
    assert DiskStore(app.config["UPLOAD_DIR"]).get(shas[1]) == JPEG + bytes([1])
    close_all()


def test_before_migrating_a_new_store_reads_old_files_from_the_disk(app, actor_of, tmp_path):
    shas = _legacy_uploads(app, actor_of, 1)
    host = _host(
        app.config["DATABASE_URL"], Path(app.config["UPLOAD_DIR"]).parent, ATTACHMENT_STORE="db"
    )
    assert host.extensions["sanfang.attachments"].get(shas[0]) == JPEG + bytes([0])
    assert DatabaseStore().get(shas[0]) is None
    close_all()


def test_migrate_names_files_found_nowhere(app, runner, actor_of):
    shas = _legacy_uploads(app, actor_of, 2)
    (Path(app.config["UPLOAD_DIR"]) / shas[0][:2] / shas[0]).unlink()
    result = runner.invoke(args=["attachments", "migrate", "--to", "db"])
    assert result.exit_code == 1
    assert (
        "1 copied to db, 0 already there, 1 missing" in result.output and shas[0] in result.output
    )


@pytest.fixture
def s3() -> Any:
    """A bucket in moto's in-process S3."""
    moto = pytest.importorskip("moto")
    boto3 = pytest.importorskip("boto3")
    with moto.mock_aws():
        client = boto3.client(
            "s3", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s"
        )
        client.create_bucket(Bucket="sanfang-files")
        yield client


def test_attachments_migrate_into_s3_and_are_served_from_it(app, runner, actor_of, tmp_path, s3):
    shas = _legacy_uploads(app, actor_of)
    app.config["S3"] = {"bucket": "sanfang-files", "prefix": "att/"}
    app.config["S3_CLIENT"] = s3
    result = runner.invoke(args=["attachments", "migrate", "--to", "s3"])
    assert "3 copied to s3, 0 already there, 0 missing" in result.output, result.output
    assert (
        "0 copied to s3, 3 already there"
        in runner.invoke(args=["attachments", "migrate", "--to", "s3"]).output
    )
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="sanfang-files")["Contents"]}
    assert keys == {f"att/{sha[:2]}/{sha}" for sha in shas}

    host = _host(
        app.config["DATABASE_URL"],
        tmp_path / "s3-host",
        ATTACHMENT_STORE="s3",
        S3={"bucket": "sanfang-files", "prefix": "att/"},
        S3_CLIENT=s3,
    )
    web = host.test_client()
    _login(web, "lvzhou-yezhu1")
    with web.get(f"/files/{Attachment.get(Attachment.sha256 == shas[2]).public_id}") as shown:
        assert shown.status_code == 200 and shown.data == JPEG + bytes([2])
    answer = web.post(
        "/r/new/bell",
        data={
            "category": "环境卫生",
            "summary": "新的照片",
            "photos": (io.BytesIO(JPEG + b"new"), "n.jpg", "image/jpeg"),
        },
        content_type="multipart/form-data",
    )
    assert answer.status_code == 303
    store = S3Store("sanfang-files", prefix="att/", client=s3)
    with database.connection_context():
        newest = Attachment.select().order_by(Attachment.id.desc()).first()
    assert store.get(newest.sha256) == JPEG + b"new" and store.get("0" * 64) is None
    close_all()
