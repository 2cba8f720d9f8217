"""Fixtures shared by every test tier: paths and the local control plane."""

from __future__ import annotations

import atexit
import os
import sys
import time
from pathlib import Path

import pytest


def _install_collection_loader() -> None:
    from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

    _AnsibleCollectionFinder(paths=[str(CACHE / "collections")])._install()


ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("MLOPS_SHARED_DIR", ROOT.parent / "shared"))
CACHE = ROOT / ".cache"

# This checkout is the collection mlops.platform (scripts/deps.sh links it there),
# so tests import plugins as ansible_collections.mlops.platform.plugins.…, through
# Ansible's own collection loader (as ansible-test does): installing it first means
# every test sees the collection's metadata, whichever test loads plugins first.
sys.path.insert(0, str(CACHE / "collections"))
_install_collection_loader()


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


ARGO_CRDS = (
    "argocd-application-crd.yaml",
    "argocd-applicationset-crd.yaml",
    "argocd-appproject-crd.yaml",
    "argo-workflows-argoproj.io_workflows.yaml",
    "argo-workflows-argoproj.io_workflowtemplates.yaml",
    "argo-workflows-argoproj.io_cronworkflows.yaml",
)


@pytest.fixture(scope="session")
def argo_crds(kubeconfig, shared_fixtures):
    """The real ArgoCD and Argo Workflows CRDs, applied and Established; returns their names."""
    import yaml
    from kubernetes import config, dynamic

    api = dynamic.DynamicClient(config.new_client_from_config(config_file=kubeconfig))
    crds = api.resources.get(api_version="apiextensions.k8s.io/v1", kind="CustomResourceDefinition")
    names = []
    for filename in ARGO_CRDS:
        body = yaml.safe_load((shared_fixtures / "crds" / filename).read_text())
        crds.server_side_apply(
            body=body, name=body["metadata"]["name"], field_manager="mlops-tests", force_conflicts=True
        )
        names.append(body["metadata"]["name"])
    deadline = time.monotonic() + 60
    pending = set(names)
    while pending and time.monotonic() < deadline:
        for name in list(pending):
            conditions = crds.get(name=name).status.conditions or []
            if any(c.type == "Established" and c.status == "True" for c in conditions):
                pending.discard(name)
        time.sleep(0.2)
    assert not pending, f"CRDs not Established after 60 s: {sorted(pending)}"
    return names
