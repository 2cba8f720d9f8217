"""The reference application for real: training registers a version in a real MLflow
server, the service (a process of its own, from the application's environment) fetches
exactly that version and answers predictions, and the evaluation gate refuses a worse one.
"""

from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.request
import uuid

import pytest
from app_support import HELD_OUT, fetch, http, start_service, stop, train, wait_ready

pytestmark = pytest.mark.mlflow


@pytest.fixture(scope="module")
def held_out(app_python):
    out = subprocess.run([app_python, "-c", HELD_OUT], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def test_training_registers_a_version_the_service_serves(app_python, mlflow_server, held_out, tmp_path):
    model = f"digits-{uuid.uuid4().hex[:6]}"
    trained = train(app_python, mlflow_server.url, model, tmp_path)
    assert trained.returncode == 0, trained.stderr[-3000:]
    summary = json.loads(trained.stdout.strip().splitlines()[-1])
    assert trained.version == summary["registered"] == "1"
    assert summary["accuracy"] >= 0.95

    empty = tmp_path / "no-model"
    empty.mkdir()
    proc, url, log = start_service(
        app_python,
        tmp_path,
        MODEL_DIR=str(empty),
        MLFLOW_TRACKING_URI=mlflow_server.url,
        MODEL_NAME=model,
        MODEL_VERSION="1",
    )
    try:
        wait_ready(proc, url, log)
        assert http("GET", f"{url}/health")[1] == {"status": "ready", "model": model, "version": "1"}
        status, answer = http("POST", f"{url}/predict", {"instances": held_out["X"]})
        assert status == 200 and answer["model"] == {"name": model, "version": "1"}
        correct = sum(p == y for p, y in zip(answer["predictions"], held_out["y"], strict=True))
        # the service's answers are the registered model's: the accuracy training measured
        assert correct / len(held_out["y"]) == pytest.approx(summary["accuracy"], abs=1e-4)

        tensor = {"name": "input-0", "shape": [2, 64], "datatype": "FP64", "data": held_out["X"][:2]}
        status, oip = http("POST", f"{url}/v2/models/{model}/infer", {"inputs": [tensor]})
        assert status == 200 and oip["outputs"][0]["data"] == answer["predictions"][:2]
        status, error = http("POST", f"{url}/predict", {"instances": [[1, 2, 3]]})
        assert status == 422 and error["error"].startswith("instances[0]:")

        with urllib.request.urlopen(f"{url}/metrics", timeout=10) as response:  # noqa: S310 - loopback
            metrics = response.read().decode()
        assert f'model_info{{name="{model}",version="1"}} 1.0' in metrics
        assert 'http_requests_total{method="POST",path="/predict",status="200"} 1.0' in metrics
    finally:
        assert stop(proc) == 0, log.read_text()[-2000:]  # SIGTERM: a graceful stop, exit 0


def test_the_gate_refuses_a_version_worse_than_production(app_python, mlflow_server, tmp_path):
    model = f"digits-{uuid.uuid4().hex[:6]}"
    assert train(app_python, mlflow_server.url, model, tmp_path).version == "1"
    status, _ = http(
        "POST",
        f"{mlflow_server.url}/api/2.0/mlflow/registered-models/alias",
        {"name": model, "alias": "production", "version": "1"},
    )
    assert status == 200

    worse = train(app_python, mlflow_server.url, model, tmp_path, "--c", "0.0005", "--min-accuracy", "0.5")
    assert worse.returncode == 3, worse.stderr[-3000:]
    assert worse.version is None
    assert "is below production's" in worse.stderr and "(version 1)" in worse.stderr
    floor = train(
        app_python, mlflow_server.url, model, tmp_path, "--compare-alias", "", "--min-accuracy", "0.99"
    )
    assert floor.returncode == 3 and "is below the floor 0.99" in floor.stderr
    status, versions = http("GET", f"{mlflow_server.url}/api/2.0/mlflow/registered-models/get?name={model}")
    assert [v["version"] for v in versions["registered_model"]["latest_versions"]] == ["1"]


def test_the_service_serves_only_the_version_it_is_given(app_python, mlflow_server, tmp_path):
    model = f"digits-{uuid.uuid4().hex[:6]}"
    assert train(app_python, mlflow_server.url, model, tmp_path).version == "1"
    baked = tmp_path / "model"
    fetched = fetch(app_python, mlflow_server.url, model, "1", baked)
    assert fetched.returncode == 0, fetched.stderr
    assert {"MLmodel", "model.pkl", "training_stats.json", "registered.json"} <= {
        p.name for p in baked.iterdir()
    }

    proc, url, log = start_service(
        app_python, tmp_path, MODEL_DIR=str(baked), MODEL_NAME=model, MODEL_VERSION="1"
    )
    try:
        wait_ready(proc, url, log)  # from the directory: no MLflow address given
    finally:
        stop(proc)
    proc, url, log = start_service(
        app_python, tmp_path, MODEL_DIR=str(baked), MODEL_NAME=model, MODEL_VERSION="2"
    )
    assert proc.wait(60) == 1
    assert f"holds {model} version 1, not the version asked for (version=2)" in log.read_text()

    missing = fetch(app_python, mlflow_server.url, model, "7", tmp_path / "v7")
    assert missing.returncode == 1 and "answered 404" in missing.stderr
