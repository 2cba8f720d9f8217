# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""The promotion history: a bounded list of records kept in one ConfigMap per platform.

The ConfigMap's `data["history.json"]` holds a JSON list, newest last. A value that
cannot be parsed (edited by hand into garbage) is ignored with a warning and replaced
on the next write; single malformed records are dropped the same way.
"""

from __future__ import annotations

import datetime
import json

DATA_KEY = "history.json"
RECORD_FIELDS = (
    "time",
    "operation",
    "from",
    "to",
    "version",
    "image",
    "previous_version",
    "previous_image",
    "result",
    "message",
)
# "started": written before a deploy's patch; "interrupted": SIGINT/SIGTERM, rolled back.
RESULTS = ("succeeded", "requested", "rolled-back", "failed", "started", "interrupted")


def now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def record(
    *,
    operation: str,
    source: str | None,
    target: str,
    version: str,
    image: str,
    previous_version: str | None,
    previous_image: str | None,
    result: str,
    message: str = "",
    time: str | None = None,
) -> dict:
    if result not in RESULTS:
        raise ValueError(f"result {result!r} not in {RESULTS}")
    return {
        "time": time or now(),
        "operation": operation,
        "from": source,
        "to": target,
        "version": version,
        "image": image,
        "previous_version": previous_version,
        "previous_image": previous_image,
        "result": result,
        "message": message,
    }


def _valid(rec) -> bool:
    return (
        isinstance(rec, dict)
        and isinstance(rec.get("to"), str)
        and isinstance(rec.get("result"), str)
        and isinstance(rec.get("version"), (str, type(None)))
        and isinstance(rec.get("time"), str)
    )


def parse(configmap: dict | None) -> tuple[list[dict], list[str]]:
    """Records from a ConfigMap object (or None) and the warnings about what was ignored."""
    if not configmap:
        return [], []
    meta = configmap.get("metadata") or {}
    ref = f"ConfigMap {meta.get('namespace')}/{meta.get('name')}"
    raw = (configmap.get("data") or {}).get(DATA_KEY)
    if raw is None:
        return [], [f"{ref} has no {DATA_KEY!r} key: starting a new promotion history"]
    try:
        items = json.loads(raw)
    except ValueError as e:
        return [], [
            f"{ref} key {DATA_KEY!r} is not valid JSON ({e}); the history in it is ignored and "
            "will be replaced on the next promotion"
        ]
    if not isinstance(items, list):
        return [], [
            f"{ref} key {DATA_KEY!r} is not a JSON list; the history in it is ignored and will be "
            "replaced on the next promotion"
        ]
    good = [r for r in items if _valid(r)]
    warnings = []
    if len(good) != len(items):
        warnings.append(f"{ref}: {len(items) - len(good)} malformed history record(s) ignored")
    return [{k: r.get(k) for k in RECORD_FIELDS} for r in good], warnings


def append(records: list[dict], new: dict, limit: int) -> list[dict]:
    """records + new, keeping the newest `limit` entries."""
    if limit < 1:
        raise ValueError("history limit must be at least 1")
    records = list(records)
    # The outcome of a deploy replaces its "started" record (one record per promotion).
    same = ("to", "version", "image", "operation")
    if new["result"] != "started" and records and records[-1]["result"] == "started" \
            and all(records[-1].get(k) == new.get(k) for k in same):
        records.pop()
    return (records + [new])[-limit:]


def dump(records: list[dict]) -> str:
    return json.dumps(records, indent=1, sort_keys=True)


def healthy_in(records: list[dict], environment: str, version: str) -> dict | None:
    """The newest record of `version` having run healthy in `environment` (deployed there successfully)."""
    for rec in reversed(records):
        if rec["to"] == environment and rec["version"] == version and rec["result"] == "succeeded":
            return rec
    return None


def rollback_target(
    records: list[dict], environment: str, current_version: str | None, current_image: str | None
) -> tuple[str | None, dict | None]:
    """What a rollback of `environment` should do, from its newest successful promotion.

    Returns ("rollback", record) when the environment still runs that promotion's
    version (go back to its previous_version / previous_image), ("done", record) when
    it already runs the previous one (rolled back before), (None, None) when there is
    nothing to roll back to, ("moved", record) when it runs neither (changed by hand).
    """
    for rec in reversed(records):
        if rec["to"] != environment or rec.get("operation") != "promote" or rec["result"] != "succeeded":
            continue
        if not rec.get("previous_version") and not rec.get("previous_image"):
            return None, rec
        if rec["version"] == current_version and rec["image"] == current_image:
            return "rollback", rec
        if rec["previous_version"] == current_version and rec["previous_image"] == current_image:
            return "done", rec
        return "moved", rec
    return None, None


def unfinished(records: list[dict], environment: str, version: str | None, image: str | None) -> dict | None:
    """The "started" record of `environment` when it is still its newest one and names what runs there.

    That is a promotion whose process was killed after its patch: running it again completes it.
    """
    for rec in reversed(records):
        if rec["to"] != environment:
            continue
        if rec["result"] == "started" and rec["version"] == version and rec["image"] == image:
            return rec
        return None
    return None
