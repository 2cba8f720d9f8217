"""The client reads certificate and token kubeconfigs itself, without importing the kubernetes package."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.controlplane

ROOT = Path(__file__).resolve().parents[3]
PROBE = """
import sys
sys.path.insert(0, {collections!r})
from ansible_collections.mlops.platform.plugins.module_utils.kube import KubeClient, get
client = KubeClient.from_params({{"kubeconfig": {path!r}}})
ns = get(client, "v1", "Namespace", "default")
print(ns["metadata"]["name"], "kubernetes" in sys.modules)
"""


def probe(path: Path) -> str:
    code = PROBE.format(collections=str(ROOT / ".cache" / "collections"), path=str(path))
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()


def test_inline_certificates_and_a_token_reach_the_api_server(kubeconfig, tmp_path):
    raw = json.loads(Path(kubeconfig).read_text())
    cluster, user = raw["clusters"][0]["cluster"], raw["users"][0]["user"]

    def b64(path):
        return base64.b64encode(Path(path).read_bytes()).decode()

    inline = json.loads(json.dumps(raw))
    inline["clusters"][0]["cluster"] = {
        "server": cluster["server"],
        "certificate-authority-data": b64(cluster["certificate-authority"]),
    }
    inline["users"][0]["user"] = {
        "client-certificate-data": b64(user["client-certificate"]),
        "client-key-data": b64(user["client-key"]),
    }
    (tmp_path / "inline").write_text(json.dumps(inline))
    assert probe(tmp_path / "inline") == ["default", "False"]

    token = (Path(user["client-key"]).parent / "tokens.csv").read_text().split(",")[0]
    with_token = json.loads(json.dumps(inline))
    with_token["users"][0]["user"] = {"token": token}
    (tmp_path / "token").write_text(json.dumps(with_token))
    assert probe(tmp_path / "token") == ["default", "False"]

    assert probe(Path(kubeconfig)) == ["default", "False"]
