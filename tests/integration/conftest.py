"""The integration tier's local cluster runs the real controllers; a real MLflow server."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from mlops_platform.procs import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def controlplane_components() -> list[str]:
    """kube-controller-manager, kube-scheduler and KWOK's nodes; ArgoCD's application-controller
    and repo-server, Argo Rollouts, Redis, the local Git and Helm servers; the Prometheus
    Operator (the platform stage's monitoring app becomes healthy through it)."""
    return ["controllers", "gitops", "operators"]


@dataclass
class MlflowServer:
    url: str
    proc: subprocess.Popen
    log: Path


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory):
    """A real `mlflow server` (PyPI mlflow, SQLite backend, proxied local artifacts) on a loopback port."""
    binary = os.environ.get("MLOPS_MLFLOW_BIN", str(ROOT / ".cache" / "bin" / "mlflow"))
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)) and not shutil.which(binary):
        pytest.fail(
            f"the MLflow server binary {binary} is missing: run `make test-deps` "
            "(scripts/test-deps.sh installs mlflow into .cache/mlflow-<version> and links .cache/bin/mlflow)"
        )
    work = tmp_path_factory.mktemp("mlflow")
    port = free_port()
    log = work / "server.log"
    from mlops_platform import mlflow_local

    cmd = mlflow_local.argv(Path(binary), work, port)
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 240  # ~11 s on an idle machine; much more on a loaded one
    while True:
        if proc.poll() is not None:
            pytest.fail(f"mlflow server exited with {proc.returncode}: {log.read_text()[-2000:]}")
        if mlflow_local.healthy(url):
            break
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGTERM)
            pytest.fail(f"mlflow server did not answer on {url} within 240 s: {log.read_text()[-2000:]}")
        time.sleep(0.5)
    yield MlflowServer(url, proc, log)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
