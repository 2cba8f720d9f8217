"""The reference application as the tests run it: its environment's processes (training, the
service), plain HTTP to them, and the held-out rows an evaluation sees."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from mlops_platform.procs import free_port

ROOT = Path(__file__).resolve().parents[3]
APP_PYTHON = Path(os.environ.get("MLOPS_APP_PYTHON", ROOT / ".cache" / "app-digits" / "bin" / "python"))
#: The held-out rows of the application's fixed split, as JSON (X, y): what an evaluation sees.
HELD_OUT = """
import json
from mlops_digits import data, train
X, y = data.load()
_, X_test, _, y_test = data.split(X, y, train.SPLIT_SEED)
print(json.dumps({"X": X_test.tolist(), "y": y_test.tolist()}))
"""


def train(app_python, url: str, model: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    output = tmp_path / f"version-{uuid.uuid4().hex[:6]}"
    proc = subprocess.run(
        [
            app_python,
            "-m",
            "mlops_digits.train",
            "--tracking-uri",
            url,
            "--model-name",
            model,
            "--experiment",
            model,
            "--output",
            str(output),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    proc.version = output.read_text() if output.exists() else None
    return proc


def fetch(app_python, url: str, model: str, version: str, dest: Path) -> subprocess.CompletedProcess:
    """mlops-digits-fetch: version `version` of `model` from MLflow at `url` into `dest`."""
    argv = [app_python, "-m", "mlops_digits.model_store", "--tracking-uri", url, "--name", model]
    return subprocess.run(
        [*argv, "--version", version, "--dest", str(dest)], capture_output=True, text=True, timeout=120
    )


def http(method: str, url: str, body=None) -> tuple[int, dict]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def start_service(
    app_python, tmp_path: Path, *, netns: str | None = None, host: str = "127.0.0.1", **env: str
) -> tuple[subprocess.Popen, str, Path]:
    """The service as a process of its own on `host` (in network namespace `netns` when given)."""
    port = free_port() if netns is None else 8000  # a namespace of its own: its ports are free
    log = tmp_path / f"service-{host}-{port}.log"
    environment = {
        "PATH": os.environ["PATH"],
        "HOST": host,
        "PORT": str(port),
        "GRACE_SECONDS": "5",
        "TMPDIR": str(tmp_path),
        **env,
    }
    argv = [str(app_python), "-m", "mlops_digits.serve"]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            ["ip", "netns", "exec", netns, *argv] if netns else argv,
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return proc, f"http://{host}:{port}", log


def wait_ready(proc: subprocess.Popen, url: str, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the service exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            if http("GET", f"{url}/health")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    pytest.fail(f"the service did not become ready within {timeout}s: {log.read_text()[-2000:]}")


def stop(proc: subprocess.Popen) -> int:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        return proc.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        return proc.wait()


class NetworkNamespace:
    """A network namespace of the test's own, joined to this machine by a veth pair on a /30
    of 10.254/16: what is inside listens only there, and the host (the API server's service
    proxy, which refuses loopback addresses) reaches it at `inner`."""

    def __init__(self, name: str, subnet: int):
        self.name = name
        self.host_if, self.inner_if = f"{name[:9]}-h", f"{name[:9]}-i"
        self.outer, self.inner = f"10.254.{subnet}.1", f"10.254.{subnet}.2"

    def _ip(self, *args: str) -> None:
        subprocess.run(["ip", *args], check=True, capture_output=True, text=True)

    def __enter__(self) -> NetworkNamespace:
        self._ip("netns", "add", self.name)
        self._ip("link", "add", self.host_if, "type", "veth", "peer", "name", self.inner_if)
        self._ip("link", "set", self.inner_if, "netns", self.name)
        self._ip("addr", "add", f"{self.outer}/30", "dev", self.host_if)
        self._ip("link", "set", self.host_if, "up")
        self._ip("-n", self.name, "addr", "add", f"{self.inner}/30", "dev", self.inner_if)
        self._ip("-n", self.name, "link", "set", self.inner_if, "up")
        self._ip("-n", self.name, "link", "set", "lo", "up")
        return self

    def __exit__(self, *exc) -> None:
        subprocess.run(["ip", "link", "del", self.host_if], capture_output=True)  # its peer goes with it
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)
