"""How the tests run terraform: with the local provider mirror, output captured."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def mirror_env() -> dict[str, str]:
    """os.environ with the local provider mirror (TF_CLI_CONFIG_FILE); fails when it is not built."""
    rc = os.environ.get("TF_CLI_CONFIG_FILE", str(ROOT / ".cache" / "terraformrc"))
    if not Path(rc).is_file():
        pytest.fail(f"{rc} is missing: run `make test-deps` (scripts/build-go.sh provider)")
    return dict(os.environ, TF_CLI_CONFIG_FILE=rc)


def terraform(
    *args: str, cwd: Path, env: dict[str, str], timeout: float | None = None
) -> subprocess.CompletedProcess:
    """`terraform ARGS...` in `cwd`, its output captured; the caller checks the result."""
    return subprocess.run(
        ["terraform", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=timeout, check=False
    )
