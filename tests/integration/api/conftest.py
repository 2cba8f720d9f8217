"""Fixtures of the API's end-to-end tests: a local cluster of their own, the Platform on it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _plane(tmp_path_factory, name):
    """A fresh local cluster with every component `make run` uses (the real controllers,
    ArgoCD, Rollouts, MLflow with the model versions a training run registers), so that
    'the first run changes' does not depend on what other test modules applied before."""
    from mlops_platform import mlflow_local
    from mlops_platform.controlplane import COMPONENTS, ControlPlane, ControlPlaneError

    bin_dir = os.environ.get("MLOPS_ENVTEST_BIN", str(ROOT / ".cache" / "envtest" / "current"))
    plane = ControlPlane(bin_dir, tmp_path_factory.mktemp(name), components=COMPONENTS)
    try:
        plane.up()
    except ControlPlaneError as e:
        pytest.fail(f"control plane did not start: {e} (build it with `make test-deps`)")
    mlflow_local.seed(plane.endpoints()["mlflow_url"], "digits", 7)  # inventory/local's model
    return plane


@pytest.fixture(scope="module")
def plane(tmp_path_factory):
    plane = _plane(tmp_path_factory, "api-plane")
    yield plane
    plane.down()


@pytest.fixture(scope="module")
def platform(plane):
    from mlops_platform.api import Platform

    return Platform(ROOT, "inventory/local", kubeconfig=plane.kubeconfig)


@pytest.fixture
def fresh_platform(tmp_path_factory):
    """A Platform on a second, empty control plane (for runs that must start from nothing)."""
    from mlops_platform.api import Platform

    plane = _plane(tmp_path_factory, "api-fresh")
    yield Platform(ROOT, "inventory/local", kubeconfig=plane.kubeconfig)
    plane.down()
