# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""terraform_stack with the s3 backend (use_lockfile) against a local S3-compatible server.

The server is moto's (`moto_server`, in its own environment .cache/moto because botocore
pins python-dateutil < 3 while kubernetes needs >= 3); Terraform's real s3 backend
talks to it over HTTP: state upload, the .tflock lock object, and a held lock.
"""

from __future__ import annotations

import json
import shutil

import pytest
from moto_s3 import backend_config, moto_s3, s3ctl
from test_terraform_stack import FIXTURE, NODES3, run_module


@pytest.fixture
def s3(monkeypatch):
    with moto_s3() as url:
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
        yield url


def test_s3_backend_apply_lock_destroy(s3, tmp_path):
    project = tmp_path / "stack"
    shutil.copytree(FIXTURE, project)
    backend = backend_config(s3, "mlops/cluster.tfstate")
    args = {
        "project_path": str(project),
        "backend": "s3",
        "backend_config": backend,
        "protect": [],
        "variables": {"nodes": NODES3},
    }
    first = run_module(tmp_path, args)
    assert not first.get("failed"), first.get("msg")
    assert first["changed"] is True
    assert not (project / "terraform.tfstate").exists()
    state = json.loads(s3ctl(s3, "get", "mlops/cluster.tfstate"))
    assert sorted(state["outputs"]["inventory"]["value"]) == ["cp1", "w1", "w2"]
    assert (project / "backend_override.tf.json").exists()
    assert oct((project / ".terraform_stack.tfbackend").stat().st_mode & 0o777) == "0o600"
    assert "use_lockfile = true" in (project / ".terraform_stack.tfbackend").read_text()

    assert run_module(tmp_path, args)["changed"] is False

    # Another run holds the lock: the lock file of use_lockfile is an object beside the state.
    lock = {
        "ID": "5d1e8c0a-0000-4000-8000-00000000aaaa",
        "Operation": "OperationTypeApply",
        "Who": "ops@bastion",
        "Version": "1.11.4",
        "Created": "2026-11-22T10:00:00Z",
        "Path": "x",
        "Info": "",
    }
    s3ctl(s3, "put", "mlops/cluster.tfstate.tflock", json.dumps(lock))
    held = run_module(tmp_path, dict(args, variables={"nodes": {}}))
    assert held.get("failed") is True
    assert "state lock is held by ops@bastion" in held["msg"], held["msg"]
    s3ctl(s3, "delete", "mlops/cluster.tfstate.tflock")

    gone = run_module(tmp_path, dict(args, state="absent"))
    assert not gone.get("failed"), gone.get("msg")
    state = json.loads(s3ctl(s3, "get", "mlops/cluster.tfstate"))
    assert state["resources"] == []


def test_switching_back_to_local_is_refused(tmp_path):
    project = tmp_path / "stack"
    shutil.copytree(FIXTURE, project)
    (project / "backend_override.tf.json").write_text('{"terraform": {"backend": {"s3": {}}}}')
    result = run_module(tmp_path, {"project_path": str(project)})
    assert result.get("failed") is True
    assert "terraform init -migrate-state" in result["msg"]
