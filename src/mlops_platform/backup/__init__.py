"""Platform backups: what Git cannot rebuild, kept in a store outside the cluster.

A backup ``<id>`` is a folder of the store::

    backups/<id>/objects.enc      the platform's objects (objects.py), encrypted
    backups/<id>/manifest.json    what the backup holds: counts, sizes, checksums, artifact list
    artifacts/<bucket>/<key>      the object store's buckets (MLflow artifacts, Label Studio
                                  data), copied incrementally and shared between backups

The objects include generated credentials, so they are encrypted (Fernet: AES-128-CBC with
an HMAC) with a key that lives on the operator's machine, never in the cluster it protects:
generated once, 0600, never regenerated. Retention keeps the newest N backups and deletes
the artifact copies no remaining backup lists.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..errors import EXIT_BAD_INPUT, EXIT_RUN_FAILED, MlopsError
from . import objects as platform_objects
from .store import Store

FORMAT = 1
BACKUPS, ARTIFACTS = "backups", "artifacts"


@dataclass
class BackupInfo:
    id: str
    created: str
    objects: int
    objects_bytes: int
    artifacts: int
    artifacts_bytes: int
    copied_bytes: int = 0
    database: dict | None = None
    seconds: float = 0.0


@dataclass
class RestoreResult:
    id: str
    objects: platform_objects.RestoreReport
    artifacts: int = 0
    artifacts_bytes: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


def load_key(path: Path, *, create: bool) -> bytes:
    """The backup key; created (0600) only when asked and only if absent."""
    from cryptography.fernet import Fernet

    if path.exists():
        if path.stat().st_mode & 0o077:
            raise MlopsError(
                f"backup key {path} is readable by others: chmod 600 it", exit_code=EXIT_BAD_INPUT
            )
        return path.read_bytes().strip()
    if not create:
        raise MlopsError(
            f"backup key {path} is missing: the backup cannot be decrypted without it "
            "(restore it from where you keep it, or pass --key)",
            exit_code=EXIT_BAD_INPUT,
        )
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = Fernet.generate_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key + b"\n")
    return key


def key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:12]


def new_id(now: datetime.datetime | None = None) -> str:
    return (now or datetime.datetime.now(datetime.UTC)).strftime("%Y%m%dT%H%M%SZ")


#: The manifest's fields every reader relies on.
MANIFEST_FIELDS = ("format", "key_id", "objects_sha256", "summary", "artifacts")


def read_manifest(store: Store, backup_id: str) -> dict:
    """The manifest of one backup, checked: a truncated or incomplete one is one clear line (exit 2)."""
    raw = store.get(f"{BACKUPS}/{backup_id}/manifest.json")
    where = f"backup {backup_id} in {store.url}"
    try:
        manifest = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as e:
        raise MlopsError(f"{where}: manifest.json is not valid JSON ({e}): the backup is damaged") from None
    missing = [f for f in MANIFEST_FIELDS if not isinstance(manifest, dict) or f not in manifest]
    if missing:
        raise MlopsError(f"{where}: manifest.json lacks {', '.join(missing)}: the backup is damaged")
    try:
        BackupInfo(**manifest["summary"])
    except TypeError as e:
        raise MlopsError(f"{where}: manifest.json's summary is not a backup summary ({e})") from None
    return manifest


def _manifest(store: Store, backup_id: str) -> dict:
    if not any(e.key.endswith("/manifest.json") for e in store.list(f"{BACKUPS}/{backup_id}/")):
        known = ", ".join(b.id for b in list_backups(store)) or "none"
        raise MlopsError(
            f"no backup {backup_id!r} in {store.url} (backups: {known})", exit_code=EXIT_BAD_INPUT
        )
    return read_manifest(store, backup_id)


def list_backups(store: Store, damaged: list[str] | None = None) -> list[BackupInfo]:
    """The backups in a store, oldest first (a folder without its manifest is not a backup). A damaged
    manifest leaves the others listed: its one-line reason goes to `damaged` when given."""
    ids = sorted({e.key.split("/")[1] for e in store.list(f"{BACKUPS}/") if e.key.endswith("/manifest.json")})
    out = []
    for backup_id in ids:
        try:
            out.append(BackupInfo(**read_manifest(store, backup_id)["summary"]))
        except MlopsError as e:
            if damaged is not None:
                damaged.append(str(e))
    return out


def create(
    api_client,
    store: Store,
    key: bytes,
    *,
    buckets: dict[str, Store] | None = None,
    database=None,
    keep: int | None = None,
    now: datetime.datetime | None = None,
) -> BackupInfo:
    """Back up the objects, copy the buckets, record the database backup; then apply retention.

    `buckets` maps a bucket's name to the store reading it; `database` is a callable
    returning the database backup's record (database.cnpg_backup), or None.
    """
    from cryptography.fernet import Fernet

    started = datetime.datetime.now(datetime.UTC)
    created = now or started
    backup_id = new_id(created)
    objs = platform_objects.collect(api_client)
    blob = Fernet(key).encrypt(json.dumps(objs, sort_keys=True).encode())

    listed: dict[str, list[dict]] = {}
    copied = 0
    existing = {e.key: e for e in store.list(f"{ARTIFACTS}/")}
    for bucket, source in sorted((buckets or {}).items()):
        listed[bucket] = []
        for entry in source.list():
            target = f"{ARTIFACTS}/{bucket}/{entry.key}"
            have = existing.get(target)
            if have is None or have.size != entry.size or have.etag != entry.etag:
                source.copy_to(entry.key, store, target)
                copied += entry.size
            listed[bucket].append({"key": entry.key, "size": entry.size, "etag": entry.etag})

    db = asdict(database()) if database else None
    info = BackupInfo(
        id=backup_id,
        created=created.isoformat(timespec="seconds"),
        objects=len(objs),
        objects_bytes=len(blob),
        artifacts=sum(len(v) for v in listed.values()),
        artifacts_bytes=sum(a["size"] for v in listed.values() for a in v),
        copied_bytes=copied,
        database=db,
        seconds=round((datetime.datetime.now(datetime.UTC) - started).total_seconds(), 3),
    )
    manifest = {
        "format": FORMAT,
        "key_id": key_id(key),
        "objects_sha256": hashlib.sha256(blob).hexdigest(),
        "kinds": {k: sum(1 for o in objs if o["kind"] == k) for k in platform_objects.KINDS},
        "artifacts": listed,
        "summary": asdict(info),
    }
    store.put(f"{BACKUPS}/{backup_id}/objects.enc", blob)
    store.put(f"{BACKUPS}/{backup_id}/manifest.json", json.dumps(manifest, indent=2, sort_keys=True).encode())
    if keep is not None:
        prune(store, keep)
    return info


def prune(store: Store, keep: int) -> list[str]:
    """Delete all but the newest `keep` backups and the artifact copies none of the rest lists."""
    if keep < 1:
        raise MlopsError(f"retention: keep must be at least 1, got {keep}", exit_code=EXIT_BAD_INPUT)
    backups = list_backups(store)
    gone = [b.id for b in backups[:-keep]]
    for backup_id in gone:
        store.delete([e.key for e in store.list(f"{BACKUPS}/{backup_id}/")])
    wanted = {
        f"{ARTIFACTS}/{bucket}/{a['key']}"
        for b in backups[-keep:]
        for bucket, items in _manifest(store, b.id)["artifacts"].items()
        for a in items
    }
    store.delete([e.key for e in store.list(f"{ARTIFACTS}/") if e.key not in wanted])
    return gone


def read_objects(store: Store, backup_id: str, key: bytes) -> list[dict]:
    """The backup's objects, checked against the manifest's checksum and key."""
    from cryptography.fernet import Fernet, InvalidToken

    manifest = _manifest(store, backup_id)
    if manifest.get("format") != FORMAT:
        raise MlopsError(
            f"backup {backup_id}: format {manifest.get('format')} is not {FORMAT}", exit_code=EXIT_BAD_INPUT
        )
    if manifest["key_id"] != key_id(key):
        raise MlopsError(
            f"backup {backup_id} was encrypted with key {manifest['key_id']}, not this key ({key_id(key)})",
            exit_code=EXIT_BAD_INPUT,
        )
    blob = store.get(f"{BACKUPS}/{backup_id}/objects.enc")
    if hashlib.sha256(blob).hexdigest() != manifest["objects_sha256"]:
        raise MlopsError(
            f"backup {backup_id}: objects.enc does not match its checksum", exit_code=EXIT_RUN_FAILED
        )
    try:
        return json.loads(Fernet(key).decrypt(blob))
    except InvalidToken as e:
        raise MlopsError(
            f"backup {backup_id}: objects.enc cannot be decrypted", exit_code=EXIT_RUN_FAILED
        ) from e


def restore(
    api_client,
    store: Store,
    backup_id: str,
    key: bytes,
    *,
    buckets: Callable[[], dict[str, Store]] | None = None,
    overwrite: bool = False,
    dry_run: bool = False,
) -> RestoreResult:
    """Put the backup's objects back, then the artifacts the backup lists (those that differ).

    `buckets` is called after the objects are back: the object store's credentials are
    among them.
    """
    started = datetime.datetime.now(datetime.UTC)
    manifest = _manifest(store, backup_id)
    report = platform_objects.restore(
        api_client, read_objects(store, backup_id, key), overwrite=overwrite, dry_run=dry_run
    )
    result = RestoreResult(backup_id, report)
    targets: dict[str, Store] = {}
    if buckets and manifest["artifacts"]:
        try:
            targets = buckets()
        except MlopsError as e:
            if not dry_run:
                raise
            result.notes.append(f"buckets not compared: {e} (a dry run restores no credentials)")
    for bucket, items in sorted(manifest["artifacts"].items()):
        target = targets.get(bucket)
        if target is None:
            result.notes.append(
                f"bucket {bucket} ({len(items)} objects) not restored: no target given for it"
            )
            continue
        present = {e.key: e for e in target.list()}
        for a in items:
            have = present.get(a["key"])
            if have is None or have.size != a["size"] or have.etag != a["etag"]:
                if not dry_run:
                    store.copy_to(f"{ARTIFACTS}/{bucket}/{a['key']}", target, a["key"])
                result.artifacts += 1
                result.artifacts_bytes += a["size"]
    conflict = (
        f"{len(report.conflicts)} object(s) exist with other values and were kept: "
        + ", ".join(report.conflicts)
        + " (use --overwrite to replace them)"
    )
    if report.conflicts:
        result.notes.append(conflict)
    if manifest["summary"].get("database"):
        db = manifest["summary"]["database"]
        result.notes.append(
            f"database: restore CloudNativePG backup {db['backup_id']} of Cluster "
            f"{db['namespace']}/{db['cluster']} "
            "by bootstrapping the Cluster from the object store: delete the Cluster, set "
            "platform_postgresql_recovery_path to the path its backups are under and "
            "platform_postgresql_backup_path to a new one (platform_postgresql_recovery_target_time "
            f"{db.get('stopped') or 'the backup end'} for this backup's moment), then run the platform stage"
        )
    result.seconds = round((datetime.datetime.now(datetime.UTC) - started).total_seconds(), 3)
    if report.conflicts and not dry_run:
        raise RestoreConflict(conflict, result)
    return result


class RestoreConflict(MlopsError):
    """Objects exist with other values than the backup's; nothing of theirs was overwritten."""

    def __init__(self, message: str, result: RestoreResult):
        super().__init__(message, exit_code=EXIT_RUN_FAILED)
        self.result = result
