import numpy as np
import pytest
from fastapi.testclient import TestClient
from mlops_digits.service import MAX_ROWS, create_app


@pytest.fixture
def client(model):
    return TestClient(create_app(model))


def test_predict_answers_with_the_model_and_its_version(client, digits_split):
    _, X_test, _, y_test = digits_split
    answer = client.post("/predict", json={"instances": X_test.tolist()[:200]})
    assert answer.status_code == 200
    body = answer.json()
    assert body["model"] == {"name": "digits", "version": "7"}
    assert np.mean(np.array(body["predictions"]) == y_test[:200]) > 0.95
    assert np.allclose(np.sum(body["probabilities"], axis=1), 1, atol=1e-4)


def test_the_fast_path_is_the_pipelines_own_arithmetic(model, digits_split):
    _, X_test, _, _ = digits_split
    assert model._linear is not None
    assert np.allclose(model.predict_proba(X_test), model.estimator.predict_proba(X_test), atol=1e-12)


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (b"{not json", 400, "body"),
        (b"[1, 2]", 422, "body"),
        (b"{}", 422, "instances"),
        (b'{"instances": []}', 422, "instances"),
        (b'{"instances": [[1, 2, 3]]}', 422, "instances[0]"),
        (b'{"instances": [' + b",".join([b"[0" + b",0" * 63 + b"]"] * 2) + b', "x"]}', 422, "instances[2]"),
        (b'{"instances": [[' + b"0," * 63 + b'"7"]]}', 422, "instances[0][63]"),
        (b'{"instances": [[' + b"0," * 63 + b"true]]}", 422, "instances[0][63]"),
        (b'{"instances": [[' + b"0," * 63 + b"1e999]]}", 400, "body"),  # JSON has no infinity
    ],
)
def test_a_bad_request_gets_a_4xx_naming_the_field(client, body, status, field):
    answer = client.post("/predict", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == status, answer.text
    assert answer.json()["error"].startswith(field + ":"), answer.json()


def test_too_many_rows_are_refused(client):
    answer = client.post("/predict", json={"instances": [[0] * 64] * (MAX_ROWS + 1)})
    assert answer.status_code == 413 and "instances" in answer.json()["error"]


def test_open_inference_protocol(client, digits_split):
    _, X_test, _, y_test = digits_split
    rows = X_test[:5]
    request = {
        "id": "r1",
        "inputs": [{"name": "input-0", "shape": [5, 64], "datatype": "FP32", "data": rows.ravel().tolist()}],
    }
    body = client.post("/v2/models/digits/infer", json=request).json()
    assert body["model_name"] == "digits" and body["model_version"] == "7" and body["id"] == "r1"
    predict = next(o for o in body["outputs"] if o["name"] == "predict")
    assert predict["shape"] == [5] and predict["datatype"] == "INT64"
    assert predict["data"] == client.post("/predict", json={"instances": rows.tolist()}).json()["predictions"]
    nested = dict(
        request, inputs=[dict(request["inputs"][0], data=rows.tolist())], outputs=[{"name": "predict"}]
    )
    only = client.post("/v2/models/digits/versions/7/infer", json=nested).json()
    assert [o["name"] for o in only["outputs"]] == ["predict"] and only["outputs"][0]["data"] == predict[
        "data"
    ]
    assert client.get("/v2/models/digits").json()["inputs"][0]["shape"] == [-1, 64]
    assert client.get("/v2/models/digits/ready").status_code == 200
    assert client.get("/v2/health/ready").status_code == 200


@pytest.mark.parametrize(
    ("path", "tensor", "status", "field"),
    [
        ("/v2/models/other/infer", {}, 404, "model"),
        ("/v2/models/digits/versions/8/infer", {}, 404, "version"),
        (
            "/v2/models/digits/infer",
            {"shape": [1, 64], "datatype": "BYTES", "data": [0] * 64},
            422,
            "inputs[0].datatype",
        ),
        (
            "/v2/models/digits/infer",
            {"shape": [1, 63], "datatype": "FP32", "data": [0] * 63},
            422,
            "inputs[0].shape",
        ),
        (
            "/v2/models/digits/infer",
            {"shape": [2, 64], "datatype": "FP32", "data": [0] * 64},
            422,
            "inputs[0].data",
        ),
    ],
)
def test_open_inference_protocol_errors_name_the_field(client, path, tensor, status, field):
    answer = client.post(path, json={"inputs": [{"name": "input-0", **tensor}]})
    assert answer.status_code == status, answer.text
    assert answer.json()["error"].startswith(field + ":"), answer.json()


def test_health_is_503_until_the_model_is_loaded(model):
    app = create_app()
    client = TestClient(app)
    assert client.get("/health").status_code == 503
    assert client.post("/predict", json={"instances": [[0] * 64]}).status_code == 503
    app.state.serve(model)
    assert client.get("/health").json() == {"status": "ready", "model": "digits", "version": "7"}


def _sample(text: str, metric: str, **labels) -> float:
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == metric and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    raise AssertionError(f"no sample {metric} {labels}")


def test_metrics_count_requests_latency_classes_and_drift(client, digits_split):
    _, X_test, _, _ = digits_split
    client.post("/predict", json={"instances": X_test[:100].tolist()})
    client.post("/predict", json={"instances": [[1, 2]]})
    text = client.get("/metrics").text
    assert _sample(text, "http_requests_total", path="/predict", status="200", method="POST") == 1
    assert _sample(text, "http_requests_total", path="/predict", status="422") == 1
    assert _sample(text, "http_request_duration_seconds_count", path="/predict") == 2
    assert sum(_sample(text, "model_predictions_total", predicted_class=str(c)) for c in range(10)) == 100
    assert _sample(text, "model_info", name="digits", version="7") == 1
    calm = _sample(text, "model_drift_score")
    client.post("/predict", json={"instances": (16 - X_test[:400]).tolist()})
    drifted = _sample(client.get("/metrics").text, "model_drift_score")
    assert calm < 0.15 < 0.3 < drifted
