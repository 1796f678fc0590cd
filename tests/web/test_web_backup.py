"""`sanfang backup` and `sanfang restore`: the database and its files together, into an
empty instance (issue 9, finding 20). Runs on PostgreSQL too when DATABASE_URL is set."""

from __future__ import annotations

import datetime as dt
import io
import os
import zipfile
from pathlib import Path
from typing import Any

import pytest

from engine.store.db import database
from engine.store.models import Attachment, Event, Item, OrgNode, User
from engine.store.polls import Ballot
from engine.store.tables import ChecklistRow
from engine.supervision import durations, medians, tallies
from tests.conftest import ON_POSTGRES, close_all

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256))
PDF = b"%PDF-1.7\n" + bytes(range(256))
COMPARED = (OrgNode, User, Item, Attachment, Event, ChecklistRow)


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    return {m.__name__: list(m.select().order_by(m._meta.primary_key).tuples()) for m in COMPARED}


def _seed(runner: Any, client: Any, auth: Any) -> None:
    """Demo items with transitions and audit events, demo votes, and two items with photos."""
    result = runner.invoke(args=["demo", "--compounds", "2", "--items", "20", "--seed", "3"])
    assert result.exit_code == 0, result.output
    auth.login("lvzhou-yezhu1")
    for data, name in ((JPEG, "门口.jpg"), (PNG_HEADER + b"2", "b.png")):
        answer = client.post(
            "/r/new/bell",
            data={
                "category": "环境卫生",
                "summary": "垃圾桶满了没人清理",
                "photos": (io.BytesIO(data), name, "image/jpeg"),
            },
            content_type="multipart/form-data",
        )
        assert answer.status_code == 303, answer.get_data(as_text=True)[:500]
    auth.logout()


PNG_HEADER = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def empty_instance(tmp_path: Path, postgres: Any) -> Any:
    """A factory of apps on a database with no table yet (SQLite file or PostgreSQL database)."""
    from pages import create_app

    made: list[str] = []

    def make() -> Any:
        if database.obj is not None:
            close_all()  # the instance backed up
        folder = tmp_path / f"restored-{len(made)}"
        folder.mkdir()
        if postgres is None:
            url = f"sqlite:///{folder / 'sanfang.db'}"
        else:
            name = f"sanfang_restore_{os.getpid()}_{len(made)}"
            postgres.drop(name)
            postgres.execute(f'CREATE DATABASE "{name}"')
            url = postgres.url(name)
        made.append(url.rsplit("/", 1)[-1])
        return create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "test",
                "DATABASE_URL": url,
                "UPLOAD_DIR": str(folder / "uploads"),
                "WTF_CSRF_ENABLED": False,
                "CREATE_TABLES": False,
            }
        )

    yield make
    if database.obj is not None:
        close_all()
    if postgres is not None:
        for name in made:
            postgres.drop(name)


def test_a_backup_restores_every_item_file_and_event_into_an_empty_instance(
    app,
    client,
    auth,
    runner,
    tmp_path,
    empty_instance,
):
    _seed(runner, client, auth)
    before = snapshot()
    paper_ballots = Ballot.select().where(Ballot.evidence.is_null(False))
    assert (
        len(before["Item"]) >= 22
        # the two photos, the demo's paper-ballot picture and one photo per paper ballot
        and len(before["Attachment"]) == 3 + len(paper_ballots)
        and len(paper_ballots) > 10
        and len(before["Event"]) > 20
    )
    store = app.extensions["sanfang.attachments"]
    files = {a.sha256: store.get(a.sha256) for a in Attachment.select()}
    path = tmp_path / "backup.zip"

    result = runner.invoke(args=["backup", str(path)])
    assert result.exit_code == 0, result.output
    assert f"{len(files)} files" in result.output
    with zipfile.ZipFile(path) as archive:
        assert {n.rsplit("/", 1)[-1] for n in archive.namelist() if n.startswith("files/")} == set(
            files
        )

    restored = empty_instance()
    result = restored.test_cli_runner().invoke(args=["restore", str(path)])
    assert result.exit_code == 0, result.output
    with database.connection_context():
        assert snapshot() == before
        assert tallies.stored() == tallies.recount() != {}  # made again by the items' inserts
        assert tallies.area_stored() == tallies.area_recount() != {}
        assert tallies.area_hour_stored() == tallies.area_hour_recount() != {}
        assert tallies.area_slot_stored() == tallies.area_slot_recount() != {}
        assert tallies.area_month_stored() == tallies.area_month_recount() != {}
        assert tallies.summons_stored() == tallies.summons_recount() != {}  # and the summons'
        assert tallies.day_stored() == tallies.day_recount() != {}
        assert tallies.unit_day_stored() == tallies.unit_day_recount() != {}
        assert tallies.item_stored() == tallies.item_recount() != {}
        assert tallies.due_stored() == tallies.due_recount() != {}  # the late summonses'
        assert medians.stored() == medians.recount()  # the resolution-time histograms too
        assert durations.stored() == durations.recount() != {}  # and the summonses' times
        other = restored.extensions["sanfang.attachments"]
        assert {sha: other.get(sha) for sha in files} == files

    # The restored instance goes on: new ids follow the restored ones (sequences reset
    # on PostgreSQL), and its residents see their photos.
    web = restored.test_client()
    assert (
        web.post("/login", data={"username": "lvzhou-yezhu1", "password": "demo1234"}).status_code
        == 303
    )
    answer = web.post("/r/new/bell", data={"category": "环境卫生", "summary": "恢复之后再反映一次"})
    assert answer.status_code == 303, answer.get_data(as_text=True)[:500]
    with database.connection_context():
        newest = Item.select().order_by(Item.id.desc()).first()
        assert newest.id == max(row[0] for row in before["Item"]) + 1
        photo = (  # one of the resident's own photos (the demo's ballot photo is the committee's)
            Attachment.select()
            .where(Attachment.sha256.in_(list(files)) & Attachment.item.is_null(False))
            .first()
        )
    with web.get(f"/files/{photo.public_id}") as shown:
        assert shown.status_code == 200 and shown.data == files[photo.sha256]


def test_restore_refuses_an_instance_with_data_unless_forced(
    app, client, auth, runner, tmp_path, empty_instance
):
    _seed(runner, client, auth)
    before = snapshot()
    path = tmp_path / "backup.zip"
    assert runner.invoke(args=["backup", str(path)]).exit_code == 0

    target = empty_instance()
    cli = target.test_cli_runner()
    assert cli.invoke(args=["init"]).exit_code == 0  # a pack loaded: not empty any more
    refused = cli.invoke(args=["restore", str(path)])
    assert refused.exit_code == 1 and "--force" in refused.output
    forced = cli.invoke(args=["restore", "--force", str(path)])
    assert forced.exit_code == 0, forced.output
    with database.connection_context():
        assert snapshot() == before
        assert tallies.stored() == tallies.recount() != {}


@pytest.mark.parametrize("content", [b"not a zip", b""])
def test_restore_refuses_what_is_not_a_backup(empty_instance, tmp_path, content):
    path = tmp_path / "x.zip"
    path.write_bytes(content)
    result = empty_instance().test_cli_runner().invoke(args=["restore", str(path)])
    assert (
        result.exit_code == 1 and "备份" in result.output
    )  # "… is not a Sanfang backup", no traceback


def test_every_table_is_in_the_backup(app):
    """A table the models forget would be left out of every backup."""
    from engine.store.backup import _models
    from engine.store.models import (
        AreaHourTally,
        AreaMonthTally,
        AreaSlotTally,
        AreaTally,
        NodeTally,
        ResolutionTally,
        SummonsDayTally,
        SummonsDueTally,
        SummonsDurationTally,
        SummonsItemTally,
        SummonsPairDue,
        SummonsTally,
        SummonsUnitDayTally,
        UnitOpenItem,
    )
    from engine.store.storage import Blob

    # Files travel as files; the stored counts and histograms are made again by the
    # restored rows' inserts.
    derived = (
        Blob,
        NodeTally,
        AreaTally,
        AreaHourTally,
        AreaMonthTally,
        AreaSlotTally,
        SummonsTally,
        SummonsDayTally,
        SummonsUnitDayTally,
        SummonsItemTally,
        ResolutionTally,
        SummonsDurationTally,
        UnitOpenItem,
        SummonsPairDue,
        SummonsDueTally,
    )
    left_out = {m._meta.table_name for m in derived}
    assert {m._meta.table_name for m in _models()} | left_out == set(database.get_tables())


def test_the_backup_reads_one_snapshot(app, tmp_path, monkeypatch):
    """What another connection commits while the backup runs is in none of its tables."""
    import threading

    from engine.store import backup as module

    real = module._rows
    events = Event.select().count()
    wrote = []

    def write_elsewhere() -> None:
        with database.connection_context():  # this thread's own connection
            Event.create(at=dt.datetime(2026, 1, 1), action="test.during-backup")
        wrote.append(True)

    def rows(model: Any) -> Any:
        found = list(real(model))  # the snapshot has begun
        if not wrote:
            thread = threading.Thread(target=write_elsewhere)
            thread.start()
            thread.join()
        return iter(found)

    monkeypatch.setattr(module, "_rows", rows)
    manifest = module.backup(
        tmp_path / "b.zip", app.extensions["sanfang.attachments"], now=dt.datetime(2026, 1, 1)
    )
    assert wrote and Event.select().count() == events + 1
    assert manifest["tables"]["event"] == events
    if ON_POSTGRES:
        assert module.backend().name == "postgresql"
