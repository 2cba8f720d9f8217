"""`mlopsctl doctor` against the real local control plane: read-only, table and --json, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.controlplane
ROOT = Path(__file__).resolve().parents[3]


def doctor(inventory: Path, kubeconfig: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "MLOPS_KUBECONFIG": kubeconfig}
    return subprocess.run(
        [str(ROOT / ".cache" / "venv" / "bin" / "mlopsctl"), "doctor", "-i", str(inventory), *args],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip


def inventory(tmp_path: Path, settings: dict) -> Path:
    inv = tmp_path / "inventory"
    (inv / "group_vars" / "all").mkdir(parents=True)
    (inv / "hosts.yml").write_text("all:\n  hosts:\n    localhost:\n      ansible_connection: local\n")
    (inv / "group_vars" / "all" / "platform.yml").write_text(
        json.dumps({"mlops_target": "local", **settings})
    )
    return inv


def test_doctor_reports_what_needs_the_operator(kubeconfig, argo_crds, tmp_path):
    done = doctor(inventory(tmp_path, {}), kubeconfig, "--json")
    assert done.returncode == 1, done.stderr
    findings = {f["check"]: f for f in json.loads(done.stdout)["findings"]}
    assert findings["cluster"]["state"] == "ok"
    assert findings["terraform"]["state"] == "skipped" and findings["nodes"]["state"] == "skipped"
    assert findings["backup"]["state"] == "attention" and "mlops_backup" in findings["backup"]["detail"]
    table = doctor(inventory(tmp_path / "t", {}), kubeconfig)
    assert table.returncode == 1 and "mlopsctl doctor" in table.stdout


def test_doctor_names_a_bad_backup_setting(kubeconfig, tmp_path):
    done = doctor(
        inventory(tmp_path, {"mlops_backup": {"store": "file:///x", "keep": 0}}), kubeconfig, "--json"
    )
    findings = {f["check"]: f for f in json.loads(done.stdout)["findings"]}
    assert "keep: 0 is out of range" in findings["backup"]["detail"]
