"""Where attachment bytes live: one interface, three places (database, disk, S3).

Attachments are stored by content (their SHA-256), so a blob is written once and never
changes; what refers to it is the ``attachment`` table. Every app host must reach the
same store, so a deployment with several hosts keeps its files in the database (the
default on PostgreSQL) or in an S3-compatible bucket; one host on SQLite keeps them on
its disk as before.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol

from peewee import BlobField, CharField

from engine.store.db import backend
from engine.store.models import Base

KINDS = ("db", "disk", "s3")


class Blob(Base):
    """The bytes of an attachment kept in the database, by SHA-256."""

    sha256 = CharField(primary_key=True, max_length=64)
    data = BlobField()

    class Meta:
        table_name = "attachment_blob"


class Store(Protocol):
    """A content-addressed store of attachment bytes."""

    kind: str

    def put(self, sha: str, data: bytes) -> None:
        """Keep ``data`` under ``sha`` (doing nothing if it is there already)."""

    def get(self, sha: str) -> bytes | None:
        """The bytes under ``sha``, or None if this store has none."""

    def has(self, sha: str) -> bool:
        """Whether this store holds ``sha``."""


class DiskStore:
    """Files under a folder of this host: ``root/ab/abcdef…``."""

    kind = "disk"

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _path(self, sha: str) -> Path:
        return self.root / sha[:2] / sha

    def put(self, sha: str, data: bytes) -> None:
        path = self._path(sha)
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write aside and rename, so a reader never sees half a file.
        partial = path.with_name(f".{sha}.{os.getpid()}.part")
        partial.write_bytes(data)
        partial.replace(path)

    def get(self, sha: str) -> bytes | None:
        path = self._path(sha)
        return path.read_bytes() if path.is_file() else None

    def has(self, sha: str) -> bool:
        return self._path(sha).is_file()


class DatabaseStore:
    """Rows of the ``attachment_blob`` table: every host sees them, backups include them."""

    kind = "db"

    def put(self, sha: str, data: bytes) -> None:
        Blob.insert(sha256=sha, data=data).on_conflict_ignore().execute()

    def get(self, sha: str) -> bytes | None:
        row = Blob.select(Blob.data).where(Blob.sha256 == sha).tuples().first()
        return bytes(row[0]) if row else None

    def has(self, sha: str) -> bool:
        return bool(Blob.select().where(Blob.sha256 == sha).exists())


class S3Store:
    """Objects in an S3-compatible bucket (``boto3``, the optional ``s3`` extra)."""

    kind = "s3"

    def __init__(
        self, bucket: str, *, prefix: str = "", client: Any = None, **options: Any
    ) -> None:
        if client is None:
            try:
                import boto3
            except ImportError as exc:  # pragma: no cover - depends on the install
                raise RuntimeError("The S3 store needs boto3: pip install 'sanfang[s3]'") from exc
            client = boto3.client("s3", **{k: v for k, v in options.items() if v})
        self.client = client
        self.bucket = bucket
        self.prefix = prefix

    def _key(self, sha: str) -> str:
        return f"{self.prefix}{sha[:2]}/{sha}"

    def put(self, sha: str, data: bytes) -> None:
        if not self.has(sha):
            self.client.put_object(Bucket=self.bucket, Key=self._key(sha), Body=data)

    def get(self, sha: str) -> bytes | None:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._key(sha))
        except self.client.exceptions.NoSuchKey:
            return None
        return bytes(answer["Body"].read())

    def has(self, sha: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(sha))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True


class WithFallback:
    """The configured store, reading what it lacks from this host's disk: files uploaded
    before the store was changed stay readable until `sanfang attachments migrate` moves them."""

    def __init__(self, primary: Store, legacy: DiskStore) -> None:
        self.primary = primary
        self.legacy = legacy
        self.kind = primary.kind

    def put(self, sha: str, data: bytes) -> None:
        self.primary.put(sha, data)

    def get(self, sha: str) -> bytes | None:
        found = self.primary.get(sha)
        return found if found is not None else self.legacy.get(sha)

    def has(self, sha: str) -> bool:
        return self.primary.has(sha) or self.legacy.has(sha)


def s3_settings(env: Mapping[str, str]) -> dict[str, str]:
    """The SANFANG_S3_* settings (bucket, endpoint URL, region, keys, key prefix)."""
    return {
        "bucket": env.get("SANFANG_S3_BUCKET", ""),
        "prefix": env.get("SANFANG_S3_PREFIX", ""),
        "endpoint_url": env.get("SANFANG_S3_ENDPOINT", ""),
        "region_name": env.get("SANFANG_S3_REGION", ""),
        "aws_access_key_id": env.get("SANFANG_S3_ACCESS_KEY", ""),
        "aws_secret_access_key": env.get("SANFANG_S3_SECRET_KEY", ""),
    }


def default_kind(env: Mapping[str, str]) -> str:
    """SANFANG_ATTACHMENTS if set; else S3 when a bucket is named, the database on
    PostgreSQL, this host's disk on SQLite."""
    chosen = env.get("SANFANG_ATTACHMENTS", "").strip().lower()
    if chosen:
        if chosen not in KINDS:
            raise ValueError(
                f"SANFANG_ATTACHMENTS must be one of {', '.join(KINDS)}, not {chosen!r}"
            )
        return chosen
    if env.get("SANFANG_S3_BUCKET"):
        return "s3"
    return backend().attachments_default


def make_store(
    kind: str, *, upload_dir: str | Path, s3: Mapping[str, str] | None = None, s3_client: Any = None
) -> Store:
    """A store of ``kind`` ("db", "disk" or "s3") as configured."""
    if kind == "disk":
        return DiskStore(upload_dir)
    if kind == "db":
        return DatabaseStore()
    if kind == "s3":
        settings = dict(s3 or {})
        bucket = settings.pop("bucket", "")
        if not bucket:
            raise ValueError("The S3 store needs SANFANG_S3_BUCKET")
        prefix = settings.pop("prefix", "")
        return S3Store(bucket, prefix=prefix, client=s3_client, **settings)
    raise ValueError(f"unknown attachment store {kind!r}; one of {', '.join(KINDS)}")


def configured(config: Mapping[str, Any]) -> Store:
    """The store an app's config names (``ATTACHMENT_STORE``, ``UPLOAD_DIR``, ``S3``),
    reading files it lacks from the upload folder."""
    kind = config.get("ATTACHMENT_STORE") or default_kind(os.environ)
    primary = make_store(
        kind,
        upload_dir=config["UPLOAD_DIR"],
        s3=config.get("S3"),
        s3_client=config.get("S3_CLIENT"),
    )
    return primary if kind == "disk" else WithFallback(primary, DiskStore(config["UPLOAD_DIR"]))


def migrate(target: Store, sources: list[Store]) -> tuple[int, int, list[str]]:
    """Copy every attachment's bytes that ``target`` lacks from the first source that
    has them. Idempotent: what the target holds is left alone.

    :returns: (copied, already there, SHA-256s found nowhere).
    """
    copied = present = 0
    missing: list[str] = []
    for sha in every_sha():
        if target.has(sha):
            present += 1
            continue
        data = next((d for d in (s.get(sha) for s in sources) if d is not None), None)
        if data is None:
            missing.append(sha)
            continue
        target.put(sha, data)
        copied += 1
    return copied, present, missing


def every_sha() -> Iterator[str]:
    """The SHA-256 of every attachment, each once."""
    from engine.store.models import Attachment

    query = Attachment.select(Attachment.sha256).distinct().order_by(Attachment.sha256)
    for (sha,) in query.tuples():
        yield sha
