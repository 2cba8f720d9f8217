"""The local cluster's process helpers that need no cluster."""

from __future__ import annotations

import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from mlops_platform import procs


def test_after_crds_refuses_a_bad_command_line():
    with pytest.raises(SystemExit, match="usage"):
        procs.main(["after-crds", "https://127.0.0.1:1", "/pki", "a.example.com"])


def test_exec_after_crds_waits_for_every_crd(monkeypatch, tmp_path):
    """The operator starts only once every CRD it looks for is Established (it looks once)."""
    answers = {"a.example.com": [False, True], "b.example.com": [True]}
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            name = self.path.rsplit("/", 1)[1]
            asked.append(name)
            ready = answers[name].pop(0) if len(answers[name]) > 1 else answers[name][0]
            body = {"status": {"conditions": [{"type": "Established", "status": str(ready)}]}}
            self.send_response(200)
            self.end_headers()
            self.wfile.write(json.dumps(body).encode())

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setattr(ssl, "create_default_context", lambda **_: _PlainContext())
    started = []
    monkeypatch.setattr(procs.os, "execv", lambda path, argv: started.append(argv))
    try:
        procs.exec_after_crds(
            f"http://127.0.0.1:{server.server_port}",
            tmp_path,
            ["a.example.com", "b.example.com"],
            ["/bin/operator", "--flag"],
            interval=0.01,
        )
    finally:
        server.shutdown()
    assert started == [["/bin/operator", "--flag"]]
    assert asked.count("a.example.com") == 2


class _PlainContext:
    """The test's server speaks plain HTTP: no certificates to load."""

    def load_cert_chain(self, *_):
        pass
