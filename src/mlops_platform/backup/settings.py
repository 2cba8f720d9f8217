"""Where a backup goes and what it copies: the inventory's `mlops_backup`, overridden by flags.

Credentials never come from the config: the backup store's from the standard
AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY environment variables, the platform object
store's from its generated Secret in the cluster (read through the API when needed).
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import EXIT_BAD_INPUT, MlopsError
from .store import Store, open_store

ALLOWED = {
    "store",
    "endpoint",
    "region",
    "keep",
    "key_file",
    "buckets",
    "source_endpoint",
    "source_secret",
    "database",
}


@dataclass
class BackupSettings:
    store: str
    endpoint: str = ""
    region: str = ""
    keep: int = 14
    key_file: Path = Path("artifacts/backup.key")
    buckets: list[str] = field(default_factory=list)
    source_endpoint: str = ""
    source_secret: dict[str, str] = field(default_factory=dict)
    database: dict[str, str] = field(default_factory=dict)


def _field(name: str, value: Any, kind: type, allowed: str) -> Any:
    if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
        raise MlopsError(f"mlops_backup.{name}: {value!r} is not {allowed}", exit_code=EXIT_BAD_INPUT)
    return value


def parse(config: dict | None, overrides: dict[str, Any], root: Path) -> BackupSettings:
    """Settings from the inventory's mlops_backup dict and the CLI flags (flags win)."""
    merged = {**(config or {}), **{k: v for k, v in overrides.items() if v not in (None, [], "")}}
    unknown = sorted(set(merged) - ALLOWED)
    if unknown:
        raise MlopsError(
            f"mlops_backup: unknown field(s) {', '.join(unknown)} (allowed: {', '.join(sorted(ALLOWED))})",
            exit_code=EXIT_BAD_INPUT,
        )
    if not merged.get("store"):
        raise MlopsError(
            "no backup store: set mlops_backup.store in the inventory or pass --store (file:///path or s3://bucket/prefix)",
            exit_code=EXIT_BAD_INPUT,
        )
    keep = _field("keep", merged.get("keep", 14), int, "a whole number")
    if not 1 <= keep <= 10000:
        raise MlopsError(
            f"mlops_backup.keep: {keep} is out of range (allowed: 1 to 10000)", exit_code=EXIT_BAD_INPUT
        )
    buckets = _field("buckets", merged.get("buckets", []), list, "a list of bucket names")
    for b in buckets:
        if not isinstance(b, str) or not 3 <= len(b) <= 63:
            raise MlopsError(
                f"mlops_backup.buckets: {b!r} is not a bucket name (3 to 63 characters)",
                exit_code=EXIT_BAD_INPUT,
            )
    secret = _field(
        "source_secret",
        merged.get("source_secret", {}),
        dict,
        "a dict (namespace, name, access_key, secret_key)",
    )
    if buckets and not (
        merged.get("source_endpoint") and {"namespace", "name", "access_key", "secret_key"} <= set(secret)
    ):
        raise MlopsError(
            "mlops_backup.buckets needs source_endpoint and source_secret "
            "(namespace, name, access_key, secret_key): "
            "where the platform's object store is and which Secret holds its credentials",
            exit_code=EXIT_BAD_INPUT,
        )
    key_file = Path(str(merged.get("key_file") or "artifacts/backup.key")).expanduser()
    return BackupSettings(
        store=str(merged["store"]),
        endpoint=str(merged.get("endpoint", "")),
        region=str(merged.get("region", "")),
        keep=keep,
        key_file=key_file if key_file.is_absolute() else root / key_file,
        buckets=[str(b) for b in buckets],
        source_endpoint=str(merged.get("source_endpoint", "")),
        source_secret={k: str(v) for k, v in secret.items()},
        database={
            k: str(v) for k, v in _field("database", merged.get("database", {}), dict, "a dict").items()
        },
    )


def backup_store(s: BackupSettings, env: dict[str, str] | None = None) -> Store:
    env = os.environ if env is None else env
    store = open_store(
        s.store,
        endpoint=s.endpoint,
        access_key=env.get("AWS_ACCESS_KEY_ID", ""),
        secret_key=env.get("AWS_SECRET_ACCESS_KEY", ""),
        region=s.region,
    )
    if hasattr(store, "ensure_bucket"):
        store.ensure_bucket()
    return store


def bucket_stores(s: BackupSettings, api_client) -> dict[str, Store]:
    """One store per bucket of the platform's object store, with its credentials from the cluster."""
    if not s.buckets:
        return {}
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    from .store import S3Store

    sec = s.source_secret
    try:
        data = client.CoreV1Api(api_client).read_namespaced_secret(sec["name"], sec["namespace"]).data or {}
    except ApiException as e:
        raise MlopsError(
            f"cannot read the object store's credentials, Secret {sec['namespace']}/{sec['name']}: "
            f"HTTP {e.status}",
            exit_code=EXIT_BAD_INPUT,
        ) from e
    missing = [sec[k] for k in ("access_key", "secret_key") if sec[k] not in data]
    if missing:
        raise MlopsError(
            f"Secret {sec['namespace']}/{sec['name']} has no key(s) {', '.join(missing)} "
            "(mlops_backup.source_secret)",
            exit_code=EXIT_BAD_INPUT,
        )
    access, secret = (base64.b64decode(data[sec[k]]).decode() for k in ("access_key", "secret_key"))
    return {b: S3Store(s.source_endpoint, b, "", access, secret, s.region) for b in s.buckets}
