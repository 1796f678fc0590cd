"""Uploads: checked by their bytes against the field, stored only for permitted requests,
with clean file names (issue 9, finding 15)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import zipfile

import pytest

from engine.records.attachments import accepts, clean_filename, sniff
from engine.store.models import Attachment, Item

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x01" * 40
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"
HTML = b"<html><script>alert(document.cookie)</script></html>"
NOW = dt.datetime(2026, 11, 27, 1, 0, 0)
BELL = {"category": "环境卫生", "summary": "垃圾桶满了没人清理"}


def _office(folder: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(f"{folder}/document.xml", "<x/>")
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (JPEG, "image/jpeg"),
        (PNG, "image/png"),
        (b"GIF89a" + b"\x00" * 20, "image/gif"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 20, "image/webp"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "image/heic"),
        (PDF, "application/pdf"),
        (_office("xl"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (
            _office("word"),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        ("门口的灯坏了\n".encode(), "text/plain"),
        ("门口的灯坏了\n".encode("gb18030"), "text/plain"),
        (b"MZ\x90\x00\x03\x00\x00\x00", None),  # a Windows executable
        (b"PK\x03\x04not really a zip", None),
        (b"\x00\x01\x02binary", None),
    ],
)
def test_the_type_is_read_from_the_bytes(data, expected):
    assert sniff(data) == expected


@pytest.mark.parametrize(
    ("accept", "content_type", "ok"),
    [
        ("image/*", "image/png", True),
        ("image/*", "application/pdf", False),
        ("image/png, .pdf", "application/pdf", True),
        (".jpg", "image/jpeg", True),
        (".jpg", "image/png", False),
        (None, "text/plain", True),
    ],
)
def test_x_accept_admits_types_and_extensions(accept, content_type, ok):
    assert accepts(accept, content_type) is ok


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("photo\u202egpj.exe", "photogpj.exe"),  # right-to-left override
        ("\u2067report\u2069.pdf", "report.pdf"),  # isolates
        ("a\u200bb\u200e\u200f\u061c.png", "ab.png"),  # zero-width space, marks
        ("line\nbreak\x00.txt", "linebreak.txt"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\现场.jpg", "现场.jpg"),
        ("cafe\u0301.jpg", "caf\u00e9.jpg"),  # NFC
        ("\u202e", "upload"),
        ("", "upload"),
        ("x" * 300 + ".jpeg", "x" * 250 + ".jpeg"),  # 255 characters
    ],
)
def test_file_names_lose_controls_and_bidi_characters(raw, clean):
    assert clean_filename(raw) == clean


def _stored(app, data: bytes) -> bool:
    return app.extensions["sanfang.attachments"].has(hashlib.sha256(data).hexdigest())


def test_a_refused_raise_stores_no_file(app, client, auth):
    auth.login("lvzhou-yezhu1")  # a resident: whistles are for commissioners and supervisors
    before = Attachment.select().count()
    response = client.post(
        "/r/new/whistle",
        data={
            "summary": "x",
            "photos": (io.BytesIO(PNG), "a.png", "image/png"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 403
    assert Attachment.select().count() == before and not _stored(app, PNG)


def test_a_refused_kpi_report_stores_no_evidence(app, client, auth):
    auth.login("dept-zzb-user")  # a department: reports for itself, not for the street chaohui
    before = Attachment.select().count()
    response = client.post(
        "/lists/kpi/tasks-2026/street-office-staff/report",
        data={
            "unit": "chaohui",
            "note": "x",
            "evidence": (io.BytesIO(PDF), "proof.pdf", "application/pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 403
    assert Attachment.select().count() == before and not _stored(app, PDF)


def test_files_sent_to_no_file_field_are_not_stored(app, client, auth):
    auth.login("lvzhou-yezhu1")
    response = client.post(
        "/r/new/bell",
        data={
            **BELL,
            "summary": (io.BytesIO(PDF), "x.pdf", "application/pdf"),
            "nonsense": (io.BytesIO(PDF), "y.pdf", "application/pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert not _stored(app, PDF) and Attachment.select().count() == 0


@pytest.mark.parametrize(
    ("data", "declared"),
    [
        (PDF, "image/png"),  # a PDF that says it is a photo
        (HTML, "image/jpeg"),  # a page that would run script if served as HTML
        (b"MZ\x90\x00" + b"\x00" * 30, "image/png"),
    ],
)
def test_a_photo_field_takes_only_photos_whatever_the_client_declares(
    app, client, auth, data, declared
):
    auth.login("lvzhou-yezhu1")
    response = client.post(
        "/r/new/bell",
        data={
            **BELL,
            "photos": (io.BytesIO(data), "trash.png", declared),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "photos" in response.get_data(as_text=True)
    assert not _stored(app, data) and Attachment.select().count() == 0


def test_a_photo_is_stored_with_the_type_of_its_bytes_and_a_clean_name(app, client, auth):
    auth.login("lvzhou-yezhu1")
    response = client.post(
        "/r/new/bell",
        data={
            **BELL,
            "photos": (io.BytesIO(JPEG), "垃圾\u202egnp.jpg", "application/octet-stream"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:800]
    item = Item.select().order_by(Item.id.desc()).first()
    attachment = Attachment.get(Attachment.public_id == item.data["photos"][0])
    assert (attachment.content_type, attachment.filename) == ("image/jpeg", "垃圾gnp.jpg")
    with client.get(f"/files/{attachment.public_id}") as answer:
        assert answer.status_code == 200 and answer.mimetype == "image/jpeg" and answer.data == JPEG


def test_a_file_stored_before_the_checks_is_served_as_what_its_bytes_are(
    app, client, auth, actor_of
):
    """An old upload that claimed to be a photo but is a web page is not served as one."""
    from engine.records.attachments import store

    auth.login("lvzhou-yezhu1")
    legacy = store(
        actor_of("lvzhou-yezhu1"),
        "x.txt",
        "text/plain",
        io.BytesIO(HTML),
        now=NOW,
        store=app.extensions["sanfang.attachments"],
    )
    Attachment.update(content_type="image/png", filename="evil\u202egnp.html").where(
        Attachment.id == legacy.id
    ).execute()
    with client.get(f"/files/{legacy.public_id}") as answer:
        assert answer.status_code == 200 and answer.mimetype == "text/plain"
        assert answer.headers["Content-Disposition"].startswith("attachment;")
        assert (
            "\u202e" not in answer.headers["Content-Disposition"]
            and "%E2%80%AE" not in answer.headers["Content-Disposition"]
        )
