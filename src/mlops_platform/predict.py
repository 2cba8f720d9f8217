"""Send one prediction request to an environment's model service and return its answer.

The request goes through the API server's service proxy
(/api/v1/namespaces/<ns>/services/<service>:http/proxy/<path>) with the target's admin
kubeconfig: it needs no ingress, DNS name or port-forward, and reaches the same Service
on every target. The environment's namespace is its Application's destination; its
Service is the model-service chart's stable one (not `-canary`).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from .errors import EXIT_BAD_INPUT, EXIT_RUN_FAILED, MlopsError
from .status import Target, connect, kube_errors, read_status

#: The chart's name label on its Services (charts/model-service/templates/_helpers.tpl).
SERVICE_SELECTOR = "app.kubernetes.io/name=model-service"
#: scikit-learn's first digit (a 0), the request sent when none is given.
SAMPLE_INSTANCE = [
    0, 0, 5, 13, 9, 1, 0, 0, 0, 0, 13, 15, 10, 15, 5, 0, 0, 3, 15, 2, 0, 11, 8, 0, 0, 4, 12, 0, 0, 8, 8, 0,
    0, 5, 8, 0, 0, 9, 8, 0, 0, 4, 11, 0, 1, 12, 7, 0, 0, 2, 14, 5, 10, 12, 0, 0, 0, 0, 6, 13, 10, 0, 0, 0,
]  # fmt: skip
SAMPLE_REQUEST = {"instances": [SAMPLE_INSTANCE]}


@dataclass
class Prediction:
    environment: str
    namespace: str
    service: str
    path: str
    status: int
    answer: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _service(kube, namespace: str) -> str:
    listing = kube.request(
        "GET",
        f"/api/v1/namespaces/{namespace}/services",
        query={"labelSelector": SERVICE_SELECTOR},
        action="listing",
        ref=f"Services in namespace {namespace}",
    )
    names = sorted(s["metadata"]["name"] for s in listing.get("items", []))
    stable = [n for n in names if not n.endswith("-canary")]
    if len(stable) != 1:
        raise MlopsError(
            f"namespace {namespace} has {len(stable)} model services ({', '.join(names) or 'none'}): "
            "is the environment synced? (mlopsctl status)",
            exit_code=EXIT_RUN_FAILED,
        )
    return stable[0]


def predict(platform: Target, environment: str, body: Any = None, *, path: str = "/predict") -> Prediction:
    """POST `body` (default: one sample digit) to `path` of `environment`'s model service."""
    if not path.startswith("/"):
        raise MlopsError(f"path {path!r} must start with /", exit_code=EXIT_BAD_INPUT)
    state = read_status(platform)
    envs = {e.name: e for e in state.environments}
    if environment not in envs:
        raise MlopsError(
            f"environment {environment!r} is not one of {', '.join(envs) or 'none (run mlopsctl up)'}",
            exit_code=EXIT_BAD_INPUT,
        )
    namespace = envs[environment].namespace
    if not namespace:
        raise MlopsError(f"environment {environment} has no Application yet: run mlopsctl up")
    kube = connect(platform.kubeconfig())
    try:
        service = _service(kube, namespace)
        response = kube.send(
            "POST",
            f"/api/v1/namespaces/{namespace}/services/{service}:http/proxy{path}",
            body=SAMPLE_REQUEST if body is None else body,
            action="sending a prediction to",
            ref=f"Service {namespace}/{service}",
        )
    except kube_errors.KubeError as e:
        raise MlopsError(str(e), exit_code=EXIT_RUN_FAILED) from e
    try:
        answer = json.loads(response.data)
    except ValueError:
        answer = response.data.decode(errors="replace")[:2000]
    return Prediction(environment, namespace, service, path, response.status, answer)
