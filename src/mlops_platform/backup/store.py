"""Where backups go: a directory, or a bucket of any S3-compatible object store.

Both stores hold flat keys (``a/b/c``) and offer the same five calls, so the backup
code never knows which one it writes to. The S3 store uses the ``minio`` client: it
speaks to MinIO, Ceph RGW, OpenStack Swift's S3 API and AWS alike, and does not pull
botocore into the venv.
"""

from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

from ..errors import EXIT_BAD_INPUT, EXIT_RUN_FAILED, MlopsError


@dataclass(frozen=True)
class Entry:
    """One stored object: its key (relative to the store's prefix), size and content tag."""

    key: str
    size: int
    etag: str


class Store(Protocol):
    url: str

    def put(self, key: str, data: bytes) -> None: ...
    def get(self, key: str) -> bytes: ...
    def list(self, prefix: str = "") -> list[Entry]: ...
    def delete(self, keys: list[str]) -> None: ...
    def copy_to(self, key: str, other: Store, other_key: str) -> None: ...


def _md5(data: bytes) -> str:
    # MD5 as S3 computes ETags of single-part uploads; not used for security.
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


class DirStore:
    """A directory on the operator's machine (files 0600, directories 0700)."""

    def __init__(self, root: Path):
        self.root = root
        self.url = root.as_uri()

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise MlopsError(f"backup key {key!r} leaves the store {self.url}", exit_code=EXIT_BAD_INPUT)
        return path

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        tmp = path.with_name(path.name + ".tmp")
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            tmp.replace(path)  # a reader never sees half a file
        except OSError as e:
            raise MlopsError(
                f"backup store {self.url}: cannot write {key} ({e.strerror}): check the store's path "
                "and that this user may write there",
                exit_code=EXIT_BAD_INPUT,
            ) from None

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError as e:
            raise MlopsError(f"{self.url}: no object {key}", exit_code=EXIT_RUN_FAILED) from e

    def list(self, prefix: str = "") -> list[Entry]:
        base = self.root / prefix
        if not base.exists():
            return []
        files = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file())
        return [
            Entry(p.relative_to(self.root).as_posix(), p.stat().st_size, _md5(p.read_bytes()))
            for p in files
            if not p.name.endswith(".tmp")
        ]

    def delete(self, keys: list[str]) -> None:
        for key in keys:
            self._path(key).unlink(missing_ok=True)

    def copy_to(self, key: str, other: Store, other_key: str) -> None:
        other.put(other_key, self.get(key))


class S3Store:
    """A bucket (and key prefix) of an S3-compatible object store."""

    def __init__(
        self, endpoint: str, bucket: str, prefix: str, access_key: str, secret_key: str, region: str = ""
    ):
        from minio import Minio

        parsed = urlparse(endpoint if "://" in endpoint else f"https://{endpoint}")
        if not parsed.hostname:
            raise MlopsError(f"backup endpoint {endpoint!r} has no host name", exit_code=EXIT_BAD_INPUT)
        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.url = f"s3://{bucket}/{self.prefix}".rstrip("/") + f" at {parsed.scheme}://{parsed.netloc}"
        self.client = Minio(
            parsed.netloc,
            access_key=access_key,
            secret_key=secret_key,
            secure=parsed.scheme == "https",
            region=region or None,
        )

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def _call(self, what: str, fn, *args, **kwargs):
        from minio.error import MinioException

        try:
            return fn(*args, **kwargs)
        except MinioException as e:
            raise MlopsError(f"{self.url}: {what} failed: {e}", exit_code=EXIT_RUN_FAILED) from e
        except OSError as e:  # urllib3 connection errors derive from OSError
            raise MlopsError(
                f"{self.url}: cannot reach the object store ({e})", exit_code=EXIT_RUN_FAILED
            ) from e

    def ensure_bucket(self) -> None:
        if not self._call("checking the bucket", self.client.bucket_exists, self.bucket):
            self._call("creating the bucket", self.client.make_bucket, self.bucket)

    def put(self, key: str, data: bytes) -> None:
        self._call(
            f"writing {key}", self.client.put_object, self.bucket, self._key(key), io.BytesIO(data), len(data)
        )

    def get(self, key: str) -> bytes:
        def read() -> bytes:
            resp = self.client.get_object(self.bucket, self._key(key))
            try:
                return resp.read()
            finally:
                resp.close()
                resp.release_conn()

        return self._call(f"reading {key}", read)

    def list(self, prefix: str = "") -> list[Entry]:
        strip = len(self.prefix) + 1 if self.prefix else 0

        def entries() -> list[Entry]:
            objs = self.client.list_objects(self.bucket, prefix=self._key(prefix), recursive=True)
            return [Entry(o.object_name[strip:], o.size or 0, (o.etag or "").strip('"')) for o in objs]

        return sorted(self._call(f"listing {prefix or '/'}", entries), key=lambda e: e.key)

    def delete(self, keys: list[str]) -> None:
        from minio.deleteobjects import DeleteObject

        def remove() -> None:
            errors = list(self.client.remove_objects(self.bucket, [DeleteObject(self._key(k)) for k in keys]))
            if errors:
                raise MlopsError(f"{self.url}: could not delete {errors[0].name}: {errors[0].message}")

        if keys:
            self._call("deleting", remove)

    def copy_to(self, key: str, other: Store, other_key: str) -> None:
        other.put(other_key, self.get(key))


def open_store(
    url: str, *, endpoint: str = "", access_key: str = "", secret_key: str = "", region: str = ""
) -> Store:
    """A store from a URL: ``file:///path`` (or a plain path) or ``s3://bucket/prefix`` with an endpoint."""
    parsed = urlparse(url)
    if parsed.scheme in ("", "file"):
        path = Path(parsed.path if parsed.scheme else url).expanduser()
        if not str(path).strip():
            raise MlopsError("backup store: an empty path is not a store", exit_code=EXIT_BAD_INPUT)
        return DirStore(path)
    if parsed.scheme == "s3":
        if not parsed.netloc:
            raise MlopsError(f"backup store {url!r}: s3:// needs a bucket name", exit_code=EXIT_BAD_INPUT)
        if not endpoint:
            raise MlopsError(
                f"backup store {url!r}: an s3:// store needs an endpoint URL", exit_code=EXIT_BAD_INPUT
            )
        if not (access_key and secret_key):
            raise MlopsError(
                f"backup store {url!r}: no credentials (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)",
                exit_code=EXIT_BAD_INPUT,
            )
        return S3Store(endpoint, parsed.netloc, parsed.path, access_key, secret_key, region)
    raise MlopsError(
        f"backup store {url!r}: scheme {parsed.scheme!r} is not supported (allowed: file, s3)",
        exit_code=EXIT_BAD_INPUT,
    )
