"""What a local service (control plane, local cloud) keeps in its state directory.

Its State (pids, ports) as JSON, so that `down` finds every process it started, and the
files only its user may read (keys, tokens, kubeconfig, clouds.yaml).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path


def write_private(path: Path, data: bytes | str) -> None:
    """Write `data` to `path`, readable by its owner only (created 0600, never readable by others)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
    path.chmod(0o600)  # a file that existed keeps its mode through os.open


def save(path: Path, state) -> None:
    """Record the dataclass `state` at `path`."""
    path.write_text(json.dumps(asdict(state)))


def load(path: Path, cls, error: Exception):
    """The `cls` recorded at `path`; raises `error` when none is (or it does not read back)."""
    try:
        return cls(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError) as e:
        raise error from e
