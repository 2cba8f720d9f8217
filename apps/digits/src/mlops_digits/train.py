"""Train a version, evaluate it, and register it in MLflow only when it passes the gate.

    mlops-digits-train --tracking-uri URL [--model-name digits] [--min-accuracy 0.95]
                       [--compare-alias production] [--output /tmp/model-version]

One MLflow run logs the parameters, the metrics and the model (an MLflow sklearn model
with the drift statistics beside it). The gate: accuracy on the held-out set at least
`--min-accuracy`, and no lower than the accuracy of the version the `--compare-alias`
alias points to, measured on the same held-out set. A version that fails is not
registered: the run is tagged `gate=failed` with the reason, and the exit code is 3.
The new version's number is written to `--output` (for the workflow's output parameter).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from . import NAME, data, model_store
from .drift import TrainingStats

SPLIT_SEED = 0  # fixed, so that every version is evaluated on the same held-out rows
EXIT_GATE = 3


def parse(argv: list[str] | None) -> argparse.Namespace:
    env = os.environ.get
    p = argparse.ArgumentParser(prog="mlops-digits-train", description=__doc__.split("\n\n")[0])
    p.add_argument("--tracking-uri", default=env("MLFLOW_TRACKING_URI"))
    p.add_argument("--experiment", default=env("MLFLOW_EXPERIMENT_NAME", NAME))
    p.add_argument("--model-name", default=env("MODEL_NAME", NAME))
    p.add_argument(
        "--data-dir", default=env("DATA_DIR") or None, help="holds digits.npz; default: the shipped set"
    )
    p.add_argument("--c", type=float, default=float(env("TRAIN_C", "0.1")), help="inverse regularisation")
    p.add_argument("--max-iter", type=int, default=int(env("TRAIN_MAX_ITER", "2000")))
    p.add_argument("--min-accuracy", type=float, default=float(env("MIN_ACCURACY", "0.9")))
    p.add_argument(
        "--compare-alias",
        default=env("COMPARE_ALIAS", "production"),
        help="no worse than the version under this alias ('' = no comparison)",
    )
    p.add_argument("--output", type=Path, default=None, help="file to write the new version number to")
    args = p.parse_args(argv)
    if not args.tracking_uri:
        p.error("--tracking-uri (or MLFLOW_TRACKING_URI) is required")
    if not 0 <= args.min_accuracy <= 1:
        p.error(f"--min-accuracy must be between 0 and 1, got {args.min_accuracy}")
    if args.c <= 0:
        p.error(f"--c must be above 0, got {args.c}")
    return args


def served_accuracy(client, tracking_uri: str, name: str, alias: str, X: np.ndarray, y: np.ndarray):
    """(version, accuracy on X, y) of the version `alias` points to, or None when there is none."""
    from mlflow.exceptions import MlflowException

    try:
        served = client.get_model_version_by_alias(name, alias)
    except MlflowException:
        return None  # no such model or alias yet: the first version
    with tempfile.TemporaryDirectory() as tmp:
        model_store.fetch(tracking_uri, name, served.version, Path(tmp) / "model")
        model = model_store.load(Path(tmp) / "model")
    return served.version, accuracy_score(y, model.estimator.predict(X))


def save_model(estimator, X_sample: np.ndarray, stats: TrainingStats, path: Path) -> None:
    import mlflow.sklearn
    from mlflow.models import infer_signature

    requirements = [f"{pkg}=={importlib.metadata.version(pkg)}" for pkg in ("scikit-learn", "numpy")]
    mlflow.sklearn.save_model(
        estimator,
        str(path),
        serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_PICKLE,
        signature=infer_signature(X_sample, estimator.predict(X_sample)),
        pip_requirements=requirements,  # given: inferring them starts a subprocess
    )
    (path / model_store.STATS_FILE).write_text(stats.to_json())


def register(client, name: str, run, timeout: float = 120) -> str:
    from mlflow.exceptions import MlflowException

    try:
        client.create_registered_model(name)
    except MlflowException as e:
        if e.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
    version = client.create_model_version(
        name,
        f"{run.info.artifact_uri}/model",
        run_id=run.info.run_id,
        tags={"accuracy": str(run.data.metrics.get("accuracy", ""))},
    )
    deadline = time.monotonic() + timeout
    while version.status != "READY":
        if version.status == "FAILED_REGISTRATION" or time.monotonic() > deadline:
            raise SystemExit(f"{name} version {version.version}: registration {version.status}")
        time.sleep(1)
        version = client.get_model_version(name, version.version)
    return str(version.version)


def train(args: argparse.Namespace) -> int:
    import mlflow
    from mlflow import MlflowClient

    X, y = data.load(args.data_dir)
    X_train, X_test, y_train, y_test = data.split(X, y, SPLIT_SEED)
    mlflow.set_tracking_uri(args.tracking_uri)
    mlflow.set_experiment(args.experiment)
    client = MlflowClient(args.tracking_uri)
    with mlflow.start_run() as run:
        mlflow.log_params(
            {
                "C": args.c,
                "max_iter": args.max_iter,
                "split_seed": SPLIT_SEED,
                "data": args.data_dir or "sklearn.datasets.load_digits",
                "rows_train": len(X_train),
                "rows_test": len(X_test),
            }
        )
        started = time.monotonic()
        estimator = make_pipeline(StandardScaler(), LogisticRegression(C=args.c, max_iter=args.max_iter))
        estimator.fit(X_train, y_train)
        predicted = estimator.predict(X_test)
        metrics = {
            "accuracy": accuracy_score(y_test, predicted),
            "f1_macro": f1_score(y_test, predicted, average="macro"),
            "train_seconds": time.monotonic() - started,
        }
        mlflow.log_metrics(metrics)
        with tempfile.TemporaryDirectory() as tmp:
            save_model(estimator, X_test[:5], TrainingStats.from_data(X_train), Path(tmp) / "model")
            mlflow.log_artifacts(str(Path(tmp) / "model"), "model")

        reasons = []
        if metrics["accuracy"] < args.min_accuracy:
            reasons.append(f"accuracy {metrics['accuracy']:.4f} is below the floor {args.min_accuracy}")
        served = args.compare_alias and served_accuracy(
            client, args.tracking_uri, args.model_name, args.compare_alias, X_test, y_test
        )
        if served:
            mlflow.log_metric(f"{args.compare_alias}_accuracy", served[1])
            if metrics["accuracy"] < served[1]:
                reasons.append(
                    f"accuracy {metrics['accuracy']:.4f} is below {args.compare_alias}'s "
                    f"{served[1]:.4f} (version {served[0]})"
                )
        mlflow.set_tags({"gate": "failed" if reasons else "passed", "gate.reason": "; ".join(reasons)})
        summary = {"run_id": run.info.run_id, **{k: round(v, 4) for k, v in metrics.items()}}
        if reasons:
            print(json.dumps({**summary, "registered": None, "gate": reasons}))
            print(f"not registering {args.model_name}: " + "; ".join(reasons), file=sys.stderr)
            return EXIT_GATE
        version = register(client, args.model_name, mlflow.get_run(run.info.run_id))
    if args.output:
        args.output.write_text(version)
    print(json.dumps({**summary, "registered": version, "model": args.model_name}))
    return 0


def main(argv: list[str] | None = None) -> int:
    return train(parse(argv))


if __name__ == "__main__":
    sys.exit(main())
