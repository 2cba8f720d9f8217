"""Fixtures shared by every test tier: paths and the local control plane."""

from __future__ import annotations

import atexit
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("MLOPS_SHARED_DIR", ROOT.parent / "shared"))
CACHE = ROOT / ".cache"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def shared_fixtures() -> Path:
    path = SHARED / "fixtures"
    if not path.is_dir():
        pytest.fail(f"{path} is missing: the tests need ../shared beside the checkout (or MLOPS_SHARED_DIR)")
    return path


@pytest.fixture(scope="session")
def controlplane(tmp_path_factory):
    """One real etcd + kube-apiserver for the whole test run, stopped at the end.

    A missing binary fails the test (it does not skip): `make test-deps` builds them.
    """
    from mlops_platform.controlplane import ControlPlane, ControlPlaneError

    bin_dir = os.environ.get("MLOPS_ENVTEST_BIN", str(CACHE / "envtest" / "current"))
    plane = ControlPlane(bin_dir, tmp_path_factory.mktemp("controlplane"))
    atexit.register(plane.down)  # even when the session is interrupted
    try:
        plane.up()
    except ControlPlaneError as e:
        pytest.fail(f"control plane did not start: {e}")
    yield plane
    plane.down()


@pytest.fixture(scope="session")
def kubeconfig(controlplane) -> str:
    return str(controlplane.kubeconfig)
