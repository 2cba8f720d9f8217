"""The S3 server of the Terraform s3-backend tests: moto's, on loopback, with the bucket tfstate.

moto runs from its own environment (.cache/moto: botocore pins python-dateutil < 3 while
kubernetes needs >= 3); so do the signed S3 calls the tests make (`s3ctl`).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]
MOTO_BIN = Path(
    os.environ.get("MLOPS_MOTO_SERVER", str(ROOT / ".cache" / "moto" / "bin" / "moto_server"))
).parent
BUCKET = "tfstate"

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
    """Signed S3 calls (get, put, delete a key; mb: make the bucket) with boto3 from moto's environment."""
    proc = subprocess.run(
        [str(MOTO_BIN / "python"), "-c", S3CTL, url, op, key],
        input=body,
        capture_output=True,
        check=False,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@contextlib.contextmanager
def moto_s3(timeout: float = 30.0) -> Iterator[str]:
    """A moto S3 server on a free loopback port with the bucket made; its URL. Stopped by its pid."""
    from mlops_platform.procs import free_port

    server = MOTO_BIN / "moto_server"
    if not server.exists():
        pytest.fail(f"{server} is missing: run `make test-deps` (scripts/test-deps.sh moto)")
    port = free_port()
    proc = subprocess.Popen(
        [str(server), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                requests.get(f"{url}/moto-api/", timeout=2)
                break
            except requests.RequestException:
                if time.monotonic() > deadline:
                    pytest.fail(f"moto_server did not answer in {timeout:.0f} s")
                time.sleep(0.3)
        s3ctl(url, "mb")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def backend_config(url: str, key: str) -> dict:
    """The s3 backend settings for state `key` in the moto server at `url` (path style, no AWS checks)."""
    return {
        "bucket": BUCKET,
        "key": key,
        "region": "us-east-1",
        "endpoints": {"s3": url},
        "use_path_style": True,
        "skip_credentials_validation": True,
        "skip_region_validation": True,
        "skip_requesting_account_id": True,
    }
