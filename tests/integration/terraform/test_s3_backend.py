# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""terraform_stack with the s3 backend (use_lockfile) against a local S3-compatible server.

The server is moto's (`moto_server`, in its own environment .cache/moto because botocore
pins python-dateutil < 3 while kubernetes needs >= 3); Terraform's real s3 backend
talks to it over HTTP: state upload, the .tflock lock object, and a held lock.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests
from test_terraform_stack import FIXTURE, NODES3, run_module

ROOT = Path(__file__).resolve().parents[3]
MOTO_BIN = Path(
    os.environ.get("MLOPS_MOTO_SERVER", str(ROOT / ".cache" / "moto" / "bin" / "moto_server"))
).parent

S3CTL = """
import sys, boto3
url, op, key = sys.argv[1:4]
s3 = boto3.client("s3", endpoint_url=url, aws_access_key_id="test", aws_secret_access_key="test",
                  region_name="us-east-1")
if op == "get":
    sys.stdout.write(s3.get_object(Bucket="tfstate", Key=key)["Body"].read().decode())
elif op == "put":
    s3.put_object(Bucket="tfstate", Key=key, Body=sys.stdin.read().encode())
elif op == "delete":
    s3.delete_object(Bucket="tfstate", Key=key)
elif op == "mb":
    s3.create_bucket(Bucket="tfstate")
"""


def s3ctl(url: str, op: str, key: str = "", body: str = "") -> str:
    """Signed S3 calls with boto3 from moto's own environment."""
    proc = subprocess.run(
        [str(MOTO_BIN / "python"), "-c", S3CTL, url, op, key],
        input=body,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.fixture
def s3(monkeypatch):
    server = str(MOTO_BIN / "moto_server")
    if not Path(server).exists():
        pytest.fail(
            f"{server} is missing: python3 -m venv .cache/moto && "
            ".cache/moto/bin/pip install 'moto[s3,server]>=5' boto3"
        )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [server, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            requests.get(f"{url}/moto-api/", timeout=2)
            break
        except requests.RequestException:
            if time.monotonic() > deadline:
                proc.kill()
                pytest.fail("moto_server did not answer in 30 s")
            time.sleep(0.3)
    s3ctl(url, "mb")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def test_s3_backend_apply_lock_destroy(s3, tmp_path):
    project = tmp_path / "stack"
    shutil.copytree(FIXTURE, project)
    backend = {
        "bucket": "tfstate",
        "key": "mlops/cluster.tfstate",
        "region": "us-east-1",
        "endpoints": {"s3": s3},
        "use_path_style": True,
        "skip_credentials_validation": True,
        "skip_region_validation": True,
        "skip_requesting_account_id": True,
    }
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
