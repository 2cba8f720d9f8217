#!/usr/bin/env python3
# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""The reference application's model service against what a user would serve the same model
with instead: Seldon's MLServer (mlserver-sklearn) and `mlflow models serve` (a benchmark,
not a test).

One model (apps/digits' pipeline, trained here as train.py does) and one single-row
prediction, each server in its own request format, plus our Open Inference Protocol
endpoint with the exact V2 body MLServer gets. Every server is one process pinned to CPU 0
(taskset) and only one is under load at a time; wrk runs on CPU 1 with fixed connections: a
warm-up, then measured rounds that take the endpoints in turn (the medians are printed).
Access logs are off everywhere and every server has uvloop and httptools (the same HTTP
stack), so the figures compare the serving code, not a log file or an HTTP parser.

    python3 bench/model_service/run.py            # 3 s warm-up, 3 rounds of 10 s, 8 connections
    python3 bench/model_service/run.py --quick    # 1 s warm-up, one 2 s round: the CI smoke run

Needs wrk (apt-get install wrk), two CPUs and the application's environment
(.cache/app-digits, from scripts/test-deps.sh; --app-python to use another). The first run
installs MLServer, mlserver-sklearn and MLflow (versions.env's MLFLOW_VERSION), with the
application's numpy/scikit-learn pins so that the pickled model loads, into
.cache/bench-model-service-<key>.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import logging
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "apps" / "digits"
MODEL_NAME = "digits"
SERVER_CPU, LOAD_CPU = "0", "1"
# The model must unpickle with the versions it was saved with, and every server gets the
# application's event loop and HTTP parser: these come from the application's constraints.
APP_PINNED = ("numpy", "scikit-learn", "scipy", "joblib", "threadpoolctl", "uvloop", "httptools")


def mlflow_version() -> str:
    for line in (ROOT / "versions.env").read_text().splitlines():
        if line.startswith("MLFLOW_VERSION="):
            return line.split("=", 1)[1].strip()
    raise SystemExit("versions.env has no MLFLOW_VERSION")


def requirements() -> list[str]:
    pins = {}
    for line in (APP / "constraints.txt").read_text().splitlines():
        name, _, version = line.partition("==")
        if name.strip() in APP_PINNED:
            pins[name.strip()] = version.strip()
    missing = set(APP_PINNED) - set(pins)
    if missing:
        raise SystemExit(f"{APP / 'constraints.txt'} does not pin {sorted(missing)}")
    # MLServer unpinned: the newest, as a user would install it today (its version is printed).
    return ["mlserver", "mlserver-sklearn", f"mlflow=={mlflow_version()}"] + [
        f"{n}=={v}" for n, v in sorted(pins.items())
    ]


def bench_venv() -> Path:
    """The cached environment of the other servers, created on the first run."""
    reqs = requirements()
    key = hashlib.sha256(json.dumps([sys.version, reqs]).encode()).hexdigest()[:12]
    venv = ROOT / ".cache" / f"bench-model-service-{key}"
    done = venv / ".installed"
    if not done.is_file():
        print(f"== installing {' '.join(reqs)} into {venv.relative_to(ROOT)} (once)", flush=True)
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        subprocess.run([*pip, "--upgrade", "pip"], check=True)
        subprocess.run([*pip, *reqs], check=True)
        done.write_text("\n".join(reqs) + "\n")
    return venv


# -- the model ---------------------------------------------------------------------------------


@dataclass
class Model:
    directory: Path
    row: list[float]  # a held-out row the model classifies correctly
    expected: int
    accuracy: float
    rows_train: int
    rows_test: int


def build_model(directory: Path) -> Model:
    """The model directory serve.py loads (MLflow sklearn model + registered.json), fitted as
    train.py fits it, without an MLflow server."""
    sys.path.insert(0, str(APP / "src"))
    import mlflow
    from mlops_digits import data, model_store, train
    from mlops_digits.drift import TrainingStats
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    logging.getLogger(mlflow.__name__).setLevel(logging.ERROR)  # its pickle warning: our format, on purpose
    X, y = data.load()
    X_train, X_test, y_train, y_test = data.split(X, y, train.SPLIT_SEED)
    estimator = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000))
    estimator.fit(X_train, y_train)
    train.save_model(estimator, X_test[:5], TrainingStats.from_data(X_train), directory)
    meta = {"name": MODEL_NAME, "version": "1", "run_id": "bench"}
    (directory / model_store.REGISTERED_FILE).write_text(json.dumps(meta))
    predicted = estimator.predict(X_test)
    first_right = int((predicted == y_test).argmax())
    return Model(
        directory,
        X_test[first_right].tolist(),
        int(y_test[first_right]),
        float((predicted == y_test).mean()),
        len(X_train),
        len(X_test),
    )


# -- the servers -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Endpoint:
    label: str
    path: str
    body: dict
    answer: Callable[[dict], int]  # the predicted class in the server's response


@dataclass
class Server:
    name: str
    argv: list[str]
    env: dict[str, str]
    ready_path: str
    endpoints: list[Endpoint]
    versions: str
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def v2_endpoint(row: list[float]) -> Endpoint:
    """The Open Inference Protocol request, the same bytes to MLServer and to ours."""
    body = {
        "inputs": [{"name": "input-0", "shape": [1, len(row)], "datatype": "FP64", "data": row}],
        "outputs": [{"name": "predict"}],  # both servers then answer the same thing: the class
    }
    return Endpoint(
        f"POST /v2/models/{MODEL_NAME}/infer",
        f"/v2/models/{MODEL_NAME}/infer",
        body,
        lambda b: next(o for o in b["outputs"] if o["name"] == "predict")["data"][0],
    )


def predictions_endpoint(path: str, key: str, row: list[float]) -> Endpoint:
    """/predict and /invocations: {key: [row]} in, {"predictions": [class, ...]} out."""
    return Endpoint(f"POST {path}", path, {key: [row]}, lambda b: b["predictions"][0])


def packages(python: str, names: list[str]) -> str:
    code = (
        "import importlib.metadata as m, platform; "
        f"print(' '.join(f'{{n}} {{m.version(n)}}' for n in {names!r}), 'python', platform.python_version())"
    )
    return subprocess.run([python, "-c", code], check=True, capture_output=True, text=True).stdout.strip()


def quiet_env(**extra: str) -> dict[str, str]:
    # One BLAS thread: the server has one core, and all three get the same setting.
    return {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", **extra}


def ours(app_python: str, model: Model) -> Server:
    server = Server(
        "mlops-digits",
        [app_python, "-m", "mlops_digits.serve"],
        {},
        "/health",
        [predictions_endpoint("/predict", "instances", model.row), v2_endpoint(model.row)],
        packages(app_python, ["mlops-digits", "fastapi", "uvicorn"]),
    )
    server.env = quiet_env(
        MODEL_DIR=str(model.directory),
        MODEL_NAME=MODEL_NAME,
        MODEL_VERSION="1",
        HOST="127.0.0.1",
        PORT=str(server.port),
        GRACE_SECONDS="2",
    )
    return server


def mlserver(venv: Path, model: Model, workdir: Path) -> Server:
    """MLServer's sklearn runtime on model.pkl (it joblib-loads a pickle), one process:
    parallel_workers 0 runs inference in the server itself, debug off turns the access log off."""
    repo = workdir / "mlserver"
    (repo / MODEL_NAME).mkdir(parents=True)
    http, grpc, metrics = free_port(), free_port(), free_port()
    settings = {
        "host": "127.0.0.1",
        "http_port": http,
        "grpc_port": grpc,
        "metrics_port": metrics,
        "parallel_workers": 0,
        "debug": False,
    }
    (repo / "settings.json").write_text(json.dumps(settings))
    model_settings = {
        "name": MODEL_NAME,
        "implementation": "mlserver_sklearn.SKLearnModel",
        "parameters": {"uri": str(model.directory / "model.pkl"), "version": "1"},
    }
    (repo / MODEL_NAME / "model-settings.json").write_text(json.dumps(model_settings))
    return Server(
        "MLServer",
        [str(venv / "bin" / "mlserver"), "start", str(repo)],
        quiet_env(),
        f"/v2/models/{MODEL_NAME}/ready",
        [v2_endpoint(model.row)],
        packages(str(venv / "bin" / "python"), ["mlserver", "mlserver-sklearn", "fastapi", "uvicorn"]),
        port=http,
    )


def mlflow_serve(venv: Path, model: Model) -> Server:
    """`mlflow models serve`: uvicorn with one worker; UVICORN_ACCESS_LOG reaches the uvicorn
    it starts (click reads UVICORN_* variables), PATH lets it find that uvicorn."""
    server = Server(
        "mlflow models serve",
        [],
        quiet_env(PATH=f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}", UVICORN_ACCESS_LOG="false"),
        "/ping",
        [predictions_endpoint("/invocations", "inputs", model.row)],
        packages(str(venv / "bin" / "python"), ["mlflow", "fastapi", "uvicorn"]),
    )
    server.argv = [
        str(venv / "bin" / "mlflow"), "models", "serve", "-m", str(model.directory),
        "--env-manager", "local", "-h", "127.0.0.1", "-p", str(server.port), "-w", "1",
    ]  # fmt: skip
    return server


def start(server: Server, logs: Path, timeout: float = 180) -> None:
    """Start on the server CPU in a process group of its own (stopped as a whole), wait until ready."""
    log = logs / f"{server.name.replace(' ', '-')}.log"
    with log.open("wb") as out:
        server.process = subprocess.Popen(
            ["taskset", "-c", SERVER_CPU, *server.argv],
            env=server.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            tail = log.read_text()[-3000:]
            raise SystemExit(f"{server.name} exited ({server.process.returncode}):\n{tail}")
        try:
            with urllib.request.urlopen(server.url(server.ready_path), timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{server.name} not ready after {timeout:.0f} s; see {log}")


def stop(servers: list[Server], grace: float = 15) -> None:
    """SIGTERM to every server's process group, SIGKILL to what is left after `grace` seconds
    (mlflow's uvicorn and MLServer's workers are children: the group takes them too)."""
    started = [s.process for s in servers if s.process is not None]
    for process in started:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for process in started:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def check(server: Server, endpoint: Endpoint, expected: int) -> None:
    """A first request: measuring a server that answers wrongly would compare nothing."""
    request = urllib.request.Request(
        server.url(endpoint.path),
        data=json.dumps(endpoint.body).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            got = endpoint.answer(json.load(response))
    except urllib.error.HTTPError as e:
        raise SystemExit(f"{server.name} {endpoint.label}: {e.code} {e.read()[:500]!r}") from None
    if int(got) != expected:
        raise SystemExit(f"{server.name} {endpoint.label}: predicted {got!r}, expected {expected}")


# -- the load ----------------------------------------------------------------------------------

# wrk prints this line when done: numbers, not its rounded text (latency in microseconds;
# errors.status counts responses above 399, what wrk's text calls "Non-2xx or 3xx").
WRK_DONE = """
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK_RESULT {"requests": %d, "duration_us": %d, '
    .. '"p50_us": %d, "p99_us": %d, "non2xx": %d, "socket": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
"""


def wrk_script(body: dict, directory: Path) -> Path:
    script = directory / f"wrk-{hashlib.sha256(json.dumps(body).encode()).hexdigest()[:8]}.lua"
    text = json.dumps(body)
    script.write_text(
        'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = {json.dumps(text)}\n{WRK_DONE}"  # a JSON string is a valid Lua string literal here
    )
    return script


def wrk(url: str, script: Path, seconds: float, connections: int) -> dict:
    argv = [
        "taskset", "-c", LOAD_CPU, "wrk", "--latency", "-t1", f"-c{connections}",
        f"-d{seconds}s", "--timeout", "5s", "-s", str(script), url,
    ]  # fmt: skip
    out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
    line = next((x for x in out.splitlines() if x.startswith("WRK_RESULT ")), None)
    if line is None:
        raise SystemExit(f"wrk printed no result:\n{out}")
    result = json.loads(line.removeprefix("WRK_RESULT "))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


@dataclass
class Target:
    server: Server
    endpoint: Endpoint
    script: Path
    runs: list[dict] = field(default_factory=list)

    def median(self, key: str) -> float:
        return statistics.median(r[key] for r in self.runs)

    def errors(self) -> tuple[int, int]:
        return sum(r["non2xx"] for r in self.runs), sum(r["socket"] for r in self.runs)


def measure(targets: list[Target], args) -> None:
    """Rounds that take the endpoints in turn, so that a burst of other work on the machine
    lands on every server rather than on whichever ran at that moment."""
    for t in targets:
        wrk(t.server.url(t.endpoint.path), t.script, args.warmup, args.connections)
    for i in range(args.rounds):
        for t in targets:
            t.runs.append(wrk(t.server.url(t.endpoint.path), t.script, args.duration, args.connections))
        print(
            f"   round {i + 1}/{args.rounds}: " + ", ".join(f"{t.runs[-1]['rps']:.0f}" for t in targets),
            flush=True,
        )


def report(targets: list[Target], servers: list[Server], model: Model, args) -> None:
    print(
        f"\n== single-row prediction; each server one process on CPU {SERVER_CPU}, wrk on CPU {LOAD_CPU}, "
        f"{args.connections} connections; median of {args.rounds} x {args.duration:g} s"
    )
    print(f"   {'server':<20} {'endpoint':<28} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for t in targets:
        non2xx, sock = t.errors()
        detail = f"  (non-2xx {non2xx}, socket {sock})" if non2xx + sock else ""
        print(
            f"   {t.server.name:<20} {t.endpoint.label:<28} {t.median('rps'):8.0f} "
            f"{t.median('p50_us') / 1000:8.2f} {t.median('p99_us') / 1000:8.2f} {non2xx + sock:7d}{detail}"
        )
    ours_ = [t for t in targets if t.server.name == "mlops-digits"]
    best = max((t for t in targets if t not in ours_), key=lambda t: t.median("rps"))
    for t in ours_:
        ratio = t.median("rps") / best.median("rps")
        p99s = f"{t.median('p99_us') / 1000:.2f} vs {best.median('p99_us') / 1000:.2f} ms"
        print(f"   ours {t.endpoint.label} / {best.server.name}: {ratio:.2f}x req/s, p99 {p99s}")
    print("\n== versions")
    for server in servers:
        print(f"   {server.name:<20} {server.versions}")
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("\n")[0]
    print(f"   {'load generator':<20} {wrk_version}")
    print("\n== the model")
    print(
        f"   StandardScaler + LogisticRegression(C=0.1) on sklearn's digits, {model.rows_train} "
        f"training rows; held-out accuracy {model.accuracy:.4f} on {model.rows_test} rows"
    )
    print(f"   every server answered class {model.expected} for the held-out row sent, as expected")
    load1, load5, _ = os.getloadavg()
    print(f"   load average at the end {load1:.2f} {load5:.2f} (other work on the machine skews figures)")


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="1 s warm-up, one 2 s round (CI smoke run)")
    p.add_argument("--duration", type=float, default=10, help="measured seconds per endpoint and round")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--warmup", type=float, default=3, help="warm-up seconds per endpoint")
    p.add_argument("--connections", type=int, default=8)
    p.add_argument("--app-python", default=str(ROOT / ".cache" / "app-digits" / "bin" / "python"))
    p.add_argument("--keep", action="store_true", help="keep the work directory (model, logs)")
    args = p.parse_args(argv)
    if args.quick:
        args.duration, args.warmup, args.rounds = 2, 1, 1
    return args


def preflight(args) -> None:
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install wrk")
    if not {int(SERVER_CPU), int(LOAD_CPU)} <= os.sched_getaffinity(0):
        raise SystemExit(f"needs CPUs {SERVER_CPU} and {LOAD_CPU}: the server and the load each on a core")
    if not Path(args.app_python).is_file():
        raise SystemExit(f"{args.app_python} is missing: run scripts/test-deps.sh, or pass --app-python")


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    preflight(args)
    venv = bench_venv()
    if Path(sys.prefix).resolve() != venv.resolve():  # the model is built with the servers' versions
        os.execv(venv / "bin" / "python", [str(venv / "bin" / "python"), __file__, *sys.argv[1:]])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that `finally` stops the servers
    workdir = Path(tempfile.mkdtemp(prefix="bench-model-service-"))
    servers: list[Server] = []
    try:
        model = build_model(workdir / "model")
        load1, load5, _ = os.getloadavg()
        print(f"== load average {load1:.2f} {load5:.2f}; starting the servers", flush=True)
        servers = [ours(args.app_python, model), mlserver(venv, model, workdir), mlflow_serve(venv, model)]
        targets = []
        for server in servers:  # all up at once: an idle server costs its neighbours nothing
            start(server, workdir)
            for endpoint in server.endpoints:
                check(server, endpoint, model.expected)
                targets.append(Target(server, endpoint, wrk_script(endpoint.body, workdir)))
        measure(targets, args)
        report(targets, servers, model, args)
    except KeyboardInterrupt:
        print("interrupted: stopping the servers", file=sys.stderr)
        return 130
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):  # a second Ctrl-C must not leave servers behind
            signal.signal(sig, signal.SIG_IGN)
        stop(servers)
        if args.keep:
            print(f"\n(work directory kept: {workdir})")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
