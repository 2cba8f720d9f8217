# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""Error translation of the MLflow REST client.

The registry calls themselves run against a real `mlflow server` in
tests/integration/environments/test_mlflow_alias.py. Answers a healthy MLflow never
gives (401, 500, HTML from a proxy) come here from a small local HTTP server that
stands in for a misconfigured endpoint: the one boundary replaced.
"""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from ansible_collections.mlops.platform.plugins.module_utils.mlflow.client import MlflowClient, MlflowError


class Handler(BaseHTTPRequestHandler):
    answers: dict = {}
    seen: list = []

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.seen.append((self.command, self.path, self.headers.get("Authorization"), body))
        status, payload, ctype = self.answers.get(
            self.path.split("?")[0], (404, {"error_code": "ENDPOINT_NOT_FOUND", "message": "nope"}, "json")
        )
        data = json.dumps(payload).encode() if ctype == "json" else payload.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if ctype == "json" else "text/html")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_DELETE = _answer

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    Handler.answers, Handler.seen = {}, []
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}", Handler
    srv.shutdown()


API = "/api/2.0/mlflow"


def test_alias_read_from_the_registered_model(server):
    url, h = server
    h.answers[f"{API}/registered-models/get"] = (
        200,
        {"registered_model": {"name": "m", "aliases": [{"alias": "canary", "version": "3"}]}},
        "json",
    )
    client = MlflowClient(url, token="s3cret")
    assert client.get_alias("m", "canary") == "3"
    assert client.get_alias("m", "production") is None
    assert h.seen[0][2] == "Bearer s3cret"


def test_set_alias_sends_the_documented_body(server):
    url, h = server
    h.answers[f"{API}/registered-models/alias"] = (200, {}, "json")
    MlflowClient(url).set_alias("m", "canary", 4)
    method, path, _auth, body = h.seen[0]
    assert (method, path) == ("POST", f"{API}/registered-models/alias")
    assert json.loads(body) == {"name": "m", "alias": "canary", "version": "4"}


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (
            (401, {"error_code": "UNAUTHENTICATED", "message": "bad token"}, "json"),
            "HTTP 401 UNAUTHENTICATED: bad token. Check the MLflow token",
        ),
        (
            (500, {"error_code": "INTERNAL_ERROR", "message": "db locked"}, "json"),
            "HTTP 500 INTERNAL_ERROR: db locked",
        ),
        ((200, "<html>login</html>", "html"), "the answer is not JSON; is this an MLflow tracking server?"),
        (
            (404, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "x"}, "json"),
            "has no registered model 'm'",
        ),
    ],
)
def test_errors_name_the_server_and_the_cause(server, answer, message):
    url, h = server
    h.answers[f"{API}/registered-models/get"] = answer
    with pytest.raises(MlflowError) as e:
        MlflowClient(url).get_alias("m", "canary")
    assert url in str(e.value) and message in str(e.value)


def test_missing_version_is_named(server):
    url, h = server
    h.answers[f"{API}/model-versions/get"] = (
        404,
        {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "x"},
        "json",
    )
    with pytest.raises(MlflowError, match="has no version 9 of registered model 'm'"):
        MlflowClient(url).get_model_version("m", "9")


def test_unreachable_server():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with pytest.raises(MlflowError) as e:
        MlflowClient(url, timeout=2).get_alias("m", "canary")
    assert f"MLflow at {url} cannot be reached" in str(e.value)


@pytest.mark.parametrize("uri", ["", "mlflow:5000", "ftp://x"])
def test_tracking_uri_must_be_http(uri):
    with pytest.raises(MlflowError, match="is not an http"):
        MlflowClient(uri)
