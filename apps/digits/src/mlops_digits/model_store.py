"""A model version on disk: fetch it from MLflow (the image build, the service) and load it.

The directory is the MLflow sklearn model that training logs (MLmodel, model.pkl, ...),
so `mlflow models serve` and MLServer load it too, plus training_stats.json (the drift
statistics) and, once fetched from the registry, registered.json (name, version, run,
source): the service serves a directory only when that names the version it was given.

Fetching speaks MLflow's REST API with the standard library (the service's image has no
MLflow client). The version's download URI must be `mlflow-artifacts:` (the platform's
MLflow proxies artifacts) or a local directory.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import pickle
import shutil
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .drift import TrainingStats

MODEL_FILE = "model.pkl"  # mlflow.sklearn's file, written with serialization_format="pickle"
STATS_FILE = "training_stats.json"
REGISTERED_FILE = "registered.json"


class ModelError(Exception):
    """A model that cannot be fetched or served; the message says which and why."""


@dataclass
class LoadedModel:
    name: str
    version: str
    run_id: str
    estimator: object
    stats: TrainingStats
    classes: np.ndarray

    def __post_init__(self):
        self._linear = _linear_form(self.estimator)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        if self._linear is None:
            return self.estimator.predict_proba(X)
        mean, scale, coef, intercept = self._linear
        z = ((X - mean) / scale) @ coef + intercept
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)


def _linear_form(estimator):
    """(mean, scale, coef.T, intercept) of a StandardScaler + multinomial LogisticRegression pipeline.

    The same arithmetic as the pipeline's predict_proba (a unit test compares them), without
    scikit-learn's per-call checks: 15 us a row instead of 600, most of a request's time.
    Any other estimator is called as it is.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    if not (isinstance(estimator, Pipeline) and len(estimator.steps) == 2):
        return None
    scaler, linear = estimator[0], estimator[1]
    if not (
        isinstance(scaler, StandardScaler)
        and isinstance(linear, LogisticRegression)
        and len(linear.classes_) > 2
        and scaler.with_mean
        and scaler.with_std
    ):
        return None
    return scaler.mean_, scaler.scale_, linear.coef_.T.copy(), linear.intercept_


def load(directory: Path, name: str | None = None, version: str | None = None) -> LoadedModel:
    """Load a fetched model directory; refuse one that is not `name` version `version`."""
    registered = directory / REGISTERED_FILE
    if not registered.is_file():
        raise ModelError(f"{directory} holds no {REGISTERED_FILE}: fetch the model with mlops-digits-fetch")
    meta = json.loads(registered.read_text())
    for field, wanted in (("name", name), ("version", version)):
        if wanted and str(meta.get(field)) != str(wanted):
            raise ModelError(
                f"{directory} holds {meta.get('name')} version {meta.get('version')}, "
                f"not the {field} asked for ({field}={wanted})"
            )
    # Our own registry's artifact, written by our training step (model.pkl is what mlflow.sklearn writes).
    with (directory / MODEL_FILE).open("rb") as f:
        estimator = pickle.load(f)  # noqa: S301 - the platform's own registered model
    stats = TrainingStats.load(directory / STATS_FILE)
    return LoadedModel(
        str(meta["name"]),
        str(meta["version"]),
        str(meta.get("run_id", "")),
        estimator,
        stats,
        np.asarray(estimator.classes_),
    )


class MlflowRest:
    """The few MLflow REST calls fetching needs, with MLflow's own auth variables."""

    def __init__(self, tracking_uri: str, timeout: float = 30):
        self.base = tracking_uri.rstrip("/")
        self.timeout = timeout
        self.headers = {}
        if os.environ.get("MLFLOW_TRACKING_TOKEN"):
            self.headers["Authorization"] = f"Bearer {os.environ['MLFLOW_TRACKING_TOKEN']}"
        elif os.environ.get("MLFLOW_TRACKING_USERNAME"):
            pair = (
                f"{os.environ['MLFLOW_TRACKING_USERNAME']}:{os.environ.get('MLFLOW_TRACKING_PASSWORD', '')}"
            )
            self.headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()

    def _open(self, endpoint: str, query: dict | None = None):
        url = f"{self.base}/{endpoint}" + (f"?{urllib.parse.urlencode(query)}" if query else "")
        request = urllib.request.Request(url, headers=self.headers)
        try:
            return urllib.request.urlopen(request, timeout=self.timeout)  # noqa: S310 - the configured MLflow
        except urllib.error.HTTPError as e:
            detail = e.read().decode(errors="replace")[:300]
            raise ModelError(f"MLflow {self.base} answered {e.code} to {endpoint}: {detail}") from None
        except OSError as e:
            raise ModelError(f"MLflow {self.base} is unreachable ({endpoint}): {e}") from None

    def get(self, endpoint: str, **query) -> dict:
        with self._open(endpoint, query) as response:
            return json.load(response)

    def download(self, path: str, dest: Path) -> None:
        quoted = urllib.parse.quote(path)
        with self._open(f"api/2.0/mlflow-artifacts/artifacts/{quoted}") as response, dest.open("wb") as out:
            shutil.copyfileobj(response, out)

    def download_tree(self, path: str, dest: Path) -> int:
        """Every file under the proxied artifact `path` into `dest`; returns the file count."""
        listing = self.get("api/2.0/mlflow-artifacts/artifacts", path=path)
        count = 0
        for entry in listing.get("files", []):
            name = entry["path"].rsplit("/", 1)[-1]
            if entry.get("is_dir"):
                (dest / name).mkdir(parents=True, exist_ok=True)
                count += self.download_tree(f"{path}/{name}", dest / name)
            else:
                self.download(f"{path}/{name}", dest / name)
                count += 1
        return count


def fetch(tracking_uri: str, name: str, version: str, dest: Path) -> dict:
    """Download registered model `name` version `version` into `dest` (created, must be empty)."""
    mlflow = MlflowRest(tracking_uri)
    info = mlflow.get("api/2.0/mlflow/model-versions/get", name=name, version=version)["model_version"]
    if info.get("status") != "READY":
        raise ModelError(f"{name} version {version} is {info.get('status')}, not READY")
    uri = mlflow.get("api/2.0/mlflow/model-versions/get-download-uri", name=name, version=version)[
        "artifact_uri"
    ]
    dest.mkdir(parents=True, exist_ok=True)
    if any(dest.iterdir()):
        raise ModelError(f"{dest} is not empty")
    parsed = urllib.parse.urlparse(uri)
    if parsed.scheme == "mlflow-artifacts":
        count = mlflow.download_tree(parsed.path.lstrip("/"), dest)
    elif parsed.scheme in ("", "file") and Path(parsed.path).is_dir():
        shutil.copytree(parsed.path, dest, dirs_exist_ok=True)
        count = sum(1 for p in dest.rglob("*") if p.is_file())
    else:
        raise ModelError(
            f"{name} version {version} is stored at {uri}: the MLflow server must proxy artifacts "
            "(mlflow-artifacts:), as the platform's does"
        )
    for required in (MODEL_FILE, STATS_FILE):
        if not (dest / required).is_file():
            raise ModelError(
                f"{name} version {version} ({uri}) has no {required}: not a model of this application"
            )
    meta = {
        "name": name,
        "version": str(version),
        "run_id": info.get("run_id", ""),
        "source": uri,
        "files": count,
    }
    (dest / REGISTERED_FILE).write_text(json.dumps(meta, indent=2) + "\n")
    return meta


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mlops-digits-fetch", description=fetch.__doc__)
    parser.add_argument("--tracking-uri", default=os.environ.get("MLFLOW_TRACKING_URI"))
    parser.add_argument(
        "--name", default=os.environ.get("MODEL_NAME"), required=not os.environ.get("MODEL_NAME")
    )
    parser.add_argument(
        "--version", default=os.environ.get("MODEL_VERSION"), required=not os.environ.get("MODEL_VERSION")
    )
    parser.add_argument("--dest", type=Path, required=True)
    args = parser.parse_args(argv)
    if not args.tracking_uri:
        parser.error("--tracking-uri (or MLFLOW_TRACKING_URI) is required")
    try:
        meta = fetch(args.tracking_uri, args.name, args.version, args.dest)
    except ModelError as e:
        print(f"mlops-digits-fetch: {e}", file=sys.stderr)
        return 1
    print(f"fetched {meta['name']} version {meta['version']} ({meta['files']} files) into {args.dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
