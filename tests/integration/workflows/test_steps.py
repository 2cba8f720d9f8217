"""The WorkflowTemplates' steps run for real, as processes (tests/workflow_templates.run_step):
each with its own command, arguments, environment and /tmp, against a real MLflow server.

Argo Workflows' controller does not run here (its steps are pods, and the rehearsal's nodes
are KWOK's), so the steps run on this machine with the executables their images carry: the
application's environment (the training image) and the project's (the tools image: Python,
ansible-core and this collection). The deploy step runs in tests/integration/environments
(it needs ArgoCD), the build step in tests/integration/images (it needs BuildKit).
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from workflow_templates import load, run_step

from mlops_platform.procs import free_port

ROOT = Path(__file__).resolve().parents[3]
APP_BIN = Path(os.environ.get("MLOPS_APP_PYTHON", ROOT / ".cache" / "app-digits" / "bin" / "python")).parent
TOOLS_BIN = ROOT / ".cache" / "venv" / "bin"

pytestmark = pytest.mark.mlflow


def train_parameters(url: str, model: str, **overrides: str) -> dict[str, str]:
    return {
        "train-image": "-",
        "mlflow-url": url,
        "model-name": model,
        "threshold": "0.9",
        "compare-alias": "production",
        "data-dir": "",
        **overrides,
    }


@pytest.fixture
def pod_tmp(tmp_path) -> Path:
    path = tmp_path / "pod-tmp"
    path.mkdir()
    return path


def test_train_step_registers_a_version_that_passes_the_gate(mlflow_server, pod_tmp):
    model = f"digits-{uuid.uuid4().hex[:6]}"
    template = load("train-model")
    proc = run_step(
        template,
        "fit-evaluate-register",
        train_parameters(mlflow_server.url, model),
        {},
        tmp=pod_tmp,
        path=[APP_BIN],
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (pod_tmp / "model-version").read_text() == "1"  # the step's output parameter

    refused = pod_tmp.parent / "refused"
    refused.mkdir()
    proc = run_step(
        template,
        "fit-evaluate-register",
        train_parameters(mlflow_server.url, model, threshold="0.999"),
        {},
        tmp=refused,
        path=[APP_BIN],
    )
    assert proc.returncode == 3 and "is below the floor 0.999" in proc.stderr
    assert not (refused / "model-version").exists()


class _Receiver(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_a_failed_workflow_posts_to_the_failure_webhook(pod_tmp):
    server = HTTPServer(("127.0.0.1", free_port()), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        env = {
            "WEBHOOK_URL": f"http://127.0.0.1:{server.server_port}/hook",
            "WORKFLOW": "train-model-x7k2q",
            "STATUS": "Failed",
            "FAILURES": '[{"displayName": "fit-evaluate-register", "message": "exit 3"}]',
        }
        proc = run_step(
            load("train-model"),
            "notify-failure",
            {"failure-webhook-secret": "hook", "train-image": "-"},
            {},
            tmp=pod_tmp,
            path=[APP_BIN],
            env=env,
        )
    finally:
        server.shutdown()
    assert proc.returncode == 0, proc.stderr
    assert len(_Receiver.received) == 1
    text = _Receiver.received[0]["text"]
    assert text.startswith("Workflow train-model-x7k2q ended Failed:") and "fit-evaluate-register" in text


def test_the_registry_step_names_an_unreachable_registry(pod_tmp):
    params = {
        "image": f"127.0.0.1:{free_port()}/mlops/digits",
        "model-name": "digits",
        "mlflow-url": "-",
        "tools-image": "-",
        "registry-secret": "-",
    }
    proc = run_step(
        load("build-container-image"),
        "registry-image",
        params,
        {"model-version": "4", "mode": "look-up"},
        tmp=pod_tmp,
        path=[TOOLS_BIN],
        env={"DOCKER_CONFIG": str(pod_tmp / "none")},
    )
    assert proc.returncode == 1
    assert f"registry {params['image'].split('/')[0]} is unreachable" in proc.stderr
    assert "is the platform's registry running?" in proc.stderr
