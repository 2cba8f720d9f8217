"""The model service: predictions over HTTP, health, and the metrics the platform reads.

    POST /predict                    {"instances": [[64 numbers], ...]}
    POST /v2/models/<name>/infer     the Open Inference Protocol (KServe, Seldon, Triton clients)
    GET  /v2, /v2/health/{live,ready}, /v2/models/<name>[/ready]
    GET  /health                     200 once the model is loaded, 503 before
    GET  /metrics                    Prometheus

Every bad request gets a 4xx whose `error` names the field. The metrics are the
contract with the model-service chart's alerts and the dashboard: http_requests_total
{method, path, status}, http_request_duration_seconds{method, path},
model_predictions_total{predicted_class}, model_drift_score (mean Jensen-Shannon distance
of the last inputs to the training data, 0..1) and model_info{name, version}.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import orjson
from fastapi import FastAPI, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from .data import FEATURES
from .drift import DriftWindow
from .model_store import LoadedModel

MAX_ROWS = 1000
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_NUMBER = (int, float)
_OIP_TYPES = {
    "FP16",
    "FP32",
    "FP64",
    "INT8",
    "INT16",
    "INT32",
    "INT64",
    "UINT8",
    "UINT16",
    "UINT32",
    "UINT64",
}


class BadRequest(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def _json(body: Any, status: int = 200) -> Response:
    return Response(
        orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY), status, media_type="application/json"
    )


def _rows(value: Any, field: str) -> np.ndarray:
    """A list of rows of FEATURES numbers as an (n, FEATURES) array, else BadRequest naming the field.
    (JSON, as orjson reads it, has no infinity or NaN.)"""
    if not isinstance(value, list) or not value:
        raise BadRequest(422, f"{field}: must be a non-empty list of rows of {FEATURES} numbers")
    if len(value) > MAX_ROWS:
        raise BadRequest(413, f"{field}: at most {MAX_ROWS} rows per request, got {len(value)}")
    for i, row in enumerate(value):
        if not isinstance(row, list) or len(row) != FEATURES:
            got = f"{len(row)} values" if isinstance(row, list) else type(row).__name__
            raise BadRequest(422, f"{field}[{i}]: must be a list of {FEATURES} numbers, got {got}")
        for j, v in enumerate(row):
            if isinstance(v, bool) or not isinstance(v, _NUMBER):  # true is not a pixel
                raise BadRequest(422, f"{field}[{i}][{j}]: must be a number, got {v!r}")
    return np.asarray(value, dtype=np.float64)


def _body(raw: bytes) -> dict:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        raise BadRequest(400, f"body: not valid JSON ({e})") from None
    if not isinstance(body, dict):
        raise BadRequest(422, "body: must be a JSON object")
    return body


def _oip_rows(body: dict) -> np.ndarray:
    inputs = body.get("inputs")
    if not isinstance(inputs, list) or len(inputs) != 1 or not isinstance(inputs[0], dict):
        raise BadRequest(422, "inputs: must be a list of one tensor {name, shape, datatype, data}")
    tensor = inputs[0]
    shape, datatype, flat = tensor.get("shape"), tensor.get("datatype"), tensor.get("data")
    if datatype not in _OIP_TYPES:
        raise BadRequest(422, f"inputs[0].datatype: must be one of {sorted(_OIP_TYPES)}, got {datatype!r}")
    if not (
        isinstance(shape, list)
        and len(shape) == 2
        and shape[1] == FEATURES
        and type(shape[0]) is int
        and shape[0] > 0
    ):
        raise BadRequest(422, f"inputs[0].shape: must be [n, {FEATURES}] with n >= 1, got {shape!r}")
    if isinstance(flat, list) and flat and isinstance(flat[0], list):  # nested rows: allowed by the protocol
        flat = [v for row in flat if isinstance(row, list) for v in row]
    if not isinstance(flat, list) or len(flat) != shape[0] * FEATURES:
        raise BadRequest(422, f"inputs[0].data: must hold {shape[0] * FEATURES} numbers for shape {shape}")
    return _rows([flat[i : i + FEATURES] for i in range(0, len(flat), FEATURES)], "inputs[0].data")


class Metrics:
    def __init__(self, drift: DriftWindow | None = None):
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "http_requests", "HTTP requests answered", ["method", "path", "status"], registry=r
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Time to answer a request",
            ["method", "path"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.predictions = Counter(
            "model_predictions", "Predictions made, by class", ["predicted_class"], registry=r
        )
        self.info = Gauge("model_info", "The model version served (1)", ["name", "version"], registry=r)
        self.drift = Gauge(
            "model_drift_score", "Drift of recent inputs from the training data (0..1)", registry=r
        )
        self.window = Gauge("model_drift_window_rows", "Inputs in the drift window", registry=r)

    def serve(self, model: LoadedModel, window: DriftWindow) -> None:
        self.info.labels(model.name, model.version).set(1)
        self.drift.set_function(window.score)
        self.window.set_function(lambda: len(window))
        for c in model.classes:  # every class from 0, so that rates exist before the first prediction
            self.predictions.labels(str(c))


def _path_label(path: str) -> str:
    if path.startswith("/v2/models/"):
        return "/v2/models/{name}/infer" if path.endswith("/infer") else "/v2/models/{name}"
    return (
        path
        if path in ("/predict", "/health", "/metrics", "/v2", "/v2/health/live", "/v2/health/ready")
        else "other"
    )


class _Measure:
    """Count and time every request; pure ASGI (BaseHTTPMiddleware costs a task per request)."""

    def __init__(self, app, metrics: Metrics):
        self.app, self.metrics = app, metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        status = [500]

        async def send_status(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            path, method = _path_label(scope["path"]), scope["method"]
            self.metrics.latency.labels(method, path).observe(time.perf_counter() - started)
            self.metrics.requests.labels(method, path, str(status[0])).inc()


def create_app(model: LoadedModel | None = None, *, drift_window: int = 500) -> FastAPI:
    """The service; `model` may be set later with `app.state.serve(model)` (health is 503 until then)."""
    app = FastAPI(title="mlops-digits", docs_url=None, redoc_url=None, openapi_url=None)
    metrics = Metrics()
    state: dict[str, Any] = {"model": None, "window": None}

    def serve(loaded: LoadedModel) -> None:
        state["window"] = DriftWindow(loaded.stats, size=drift_window)
        metrics.serve(loaded, state["window"])
        state["model"] = loaded

    app.state.serve = serve
    app.state.metrics = metrics
    if model is not None:
        serve(model)

    def predict(X: np.ndarray) -> tuple[LoadedModel, np.ndarray, np.ndarray]:
        loaded: LoadedModel | None = state["model"]
        if loaded is None:
            raise BadRequest(503, "model: still loading")
        proba = loaded.predict_proba(X)
        classes = loaded.classes[proba.argmax(axis=1)]
        state["window"].add(X)
        for c in classes:
            metrics.predictions.labels(str(c)).inc()
        return loaded, classes, proba

    def loaded_or_404(name: str) -> LoadedModel:
        loaded = state["model"]
        if loaded is None:
            raise BadRequest(503, "model: still loading")
        if name != loaded.name:
            raise BadRequest(404, f"model: {name!r} is not served here (this serves {loaded.name})")
        return loaded

    @app.exception_handler(BadRequest)
    async def bad_request(_request: Request, e: BadRequest) -> Response:
        return _json({"error": str(e)}, e.status)

    @app.post("/predict")
    async def predict_json(request: Request) -> Response:
        X = _rows(_body(await request.body()).get("instances"), "instances")
        loaded, classes, proba = predict(X)
        return _json(
            {
                "predictions": classes,
                "probabilities": proba.round(6),
                "model": {"name": loaded.name, "version": loaded.version},
            }
        )

    @app.post("/v2/models/{name}/infer")
    @app.post("/v2/models/{name}/versions/{version}/infer")
    async def infer(name: str, request: Request, version: str | None = None) -> Response:
        loaded = loaded_or_404(name)
        if version is not None and version != loaded.version:
            raise BadRequest(
                404, f"version: {name} version {version} is not served here (this is {loaded.version})"
            )
        body = _body(await request.body())
        X = _oip_rows(body)
        loaded, classes, proba = predict(X)
        outputs = [
            {"name": "predict", "shape": [len(X)], "datatype": "INT64", "data": classes},
            {"name": "predict_proba", "shape": list(proba.shape), "datatype": "FP64", "data": proba.ravel()},
        ]
        wanted = [o.get("name") for o in body.get("outputs") or [] if isinstance(o, dict)]
        unknown = set(wanted) - {o["name"] for o in outputs}
        if unknown:
            raise BadRequest(
                422, f"outputs: unknown {sorted(unknown)}; this model has predict, predict_proba"
            )
        answer = {
            "model_name": loaded.name,
            "model_version": loaded.version,
            "outputs": [o for o in outputs if not wanted or o["name"] in wanted],
        }
        if "id" in body:
            answer["id"] = body["id"]
        return _json(answer)

    @app.get("/v2")
    async def server_metadata() -> Response:
        return _json({"name": "mlops-digits", "version": "2", "extensions": []})

    @app.get("/v2/models/{name}")
    async def model_metadata(name: str) -> Response:
        loaded = loaded_or_404(name)
        return _json(
            {
                "name": loaded.name,
                "versions": [loaded.version],
                "platform": "sklearn",
                "inputs": [{"name": "input-0", "datatype": "FP64", "shape": [-1, FEATURES]}],
                "outputs": [
                    {"name": "predict", "datatype": "INT64", "shape": [-1]},
                    {"name": "predict_proba", "datatype": "FP64", "shape": [-1, len(loaded.classes)]},
                ],
            }
        )

    @app.get("/v2/models/{name}/ready")
    async def model_ready(name: str) -> Response:
        loaded_or_404(name)
        return _json({"name": name, "ready": True})

    @app.get("/v2/health/live")
    async def live() -> Response:
        return _json({"live": True})

    @app.get("/health")
    @app.get("/v2/health/ready")
    async def health() -> Response:
        loaded = state["model"]
        if loaded is None:
            return _json({"status": "loading"}, 503)
        return _json({"status": "ready", "model": loaded.name, "version": loaded.version})

    @app.get("/metrics")
    async def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    app.add_middleware(_Measure, metrics=metrics)
    return app
