"""A real `mlflow server` for the local cluster: SQLite backend, proxied local artifacts, on loopback.

The rehearsal's registry: `make run` trains the reference application into it (a process:
Argo Workflows' pods would need a node that runs containers) and promotions move its
aliases for real. `seed` registers versions without training (the API tests' clusters).
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path


def argv(binary: Path, work: Path, port: int) -> list[str]:
    work.mkdir(parents=True, exist_ok=True)
    return [
        str(binary),
        "server",
        "--backend-store-uri",
        f"sqlite:///{work / 'mlflow.db'}",
        # Proxied artifacts (mlflow-artifacts: URIs), as the platform's MLflow serves them
        # (proxiedArtifactStorage): clients and the model service fetch over HTTP.
        "--artifacts-destination",
        str(work / "artifacts"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
    ]


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as r:  # noqa: S310 - loopback
            return r.status == 200
    except OSError:
        return False


def _call(url: str, method: str, path: str, body: dict | None = None) -> dict:
    req = urllib.request.Request(
        f"{url}/api/2.0/mlflow/{path}",
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30) as r:  # noqa: S310 - loopback
        return json.loads(r.read() or b"{}")


def count(url: str, model: str) -> int:
    """How many versions of `model` MLflow has (0 when it has no such model)."""
    query = urllib.parse.urlencode({"filter": f"name='{model}'", "max_results": 1000})
    return len(_call(url, "GET", f"model-versions/search?{query}").get("model_versions") or [])


def seed(url: str, model: str, versions: int) -> list[str]:
    """Register `model` with versions 1..`versions` unless it has them; returns what was added."""
    added = []
    try:
        _call(url, "POST", "registered-models/create", {"name": model})
        added.append(model)
    except urllib.error.HTTPError as e:
        if e.code != 400:  # RESOURCE_ALREADY_EXISTS
            raise
    for v in range(count(url, model) + 1, versions + 1):
        _call(
            url, "POST", "model-versions/create", {"name": model, "source": f"s3://mlflow/models/{model}/{v}"}
        )
        added.append(f"{model} v{v}")
    return added


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlops_platform.mlflow_local", description=seed.__doc__)
    parser.add_argument("url")
    parser.add_argument("model")
    parser.add_argument("versions", type=int, nargs="?", help="register versions 1..N (no training)")
    parser.add_argument("--count", action="store_true", help="print how many versions the model has")
    args = parser.parse_args(argv)
    if args.count or args.versions is None:
        print(count(args.url, args.model))
        return 0
    added = seed(args.url, args.model, args.versions)
    print(
        f"MLflow {args.url}: "
        + (f"registered {', '.join(added)}" if added else f"{args.model} is registered")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
