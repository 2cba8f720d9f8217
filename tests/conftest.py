"""Fixtures shared by every test tier: paths and the local control plane."""

from __future__ import annotations

import atexit
import contextlib
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
def controlplane_components() -> list[str]:
    """What the session's local cluster runs beside kube-apiserver and etcd: nothing more by
    default (the contract and fuzz tiers dry-run and compare objects, which live controllers
    would keep rewriting); tests/integration/conftest.py asks for the controllers."""
    return []


@pytest.fixture(scope="session")
def controlplane(tmp_path_factory, controlplane_components):
    """One local cluster for the whole test run, stopped at the end (mlops_platform.controlplane):
    the real control plane, plus what `controlplane_components` names.

    A missing binary fails the test (it does not skip): `make test-deps` builds them.
    """
    from mlops_platform.controlplane import ControlPlane, ControlPlaneError

    bin_dir = os.environ.get("MLOPS_ENVTEST_BIN", str(CACHE / "envtest" / "current"))
    plane = ControlPlane(
        bin_dir,
        tmp_path_factory.mktemp("controlplane"),
        components=controlplane_components,
        charts=SHARED / "fixtures" / "charts",
    )
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


@pytest.fixture(scope="session")
def kube(kubeconfig):
    """The collection's own API client (module_utils/kube) for the control plane."""
    from ansible_collections.mlops.platform.plugins.module_utils.kube import KubeClient

    return KubeClient.from_params({"kubeconfig": kubeconfig})


ARGOCD_MANIFEST = "argo-cd-v3.5.1-install.yaml"
ROLLOUTS_MANIFEST = "argo-rollouts-v1.9.1-install.yaml"
WORKFLOWS_MANIFEST = "argo-workflows-v4.1.2-install.yaml"
ARGO_CRDS = (
    "applications.argoproj.io",
    "applicationsets.argoproj.io",
    "appprojects.argoproj.io",
    "workflows.argoproj.io",
    "workflowtemplates.argoproj.io",
    "cronworkflows.argoproj.io",
)


def manifest_docs(path: Path) -> list[dict]:
    import yaml

    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def apply_docs(kubeconfig: str, docs: list[dict], namespace: str | None = None) -> None:
    """Server-side apply of a release manifest's objects, CRDs first (as the gitops stage does)."""
    from kubernetes import config, dynamic

    api = dynamic.DynamicClient(config.new_client_from_config(config_file=kubeconfig))
    crds = [d for d in docs if d["kind"] == "CustomResourceDefinition"]
    for body in crds:
        api.resources.get(api_version=body["apiVersion"], kind=body["kind"]).server_side_apply(
            body=body, name=body["metadata"]["name"], field_manager="mlops-tests", force_conflicts=True
        )
    wait_established(api, [c["metadata"]["name"] for c in crds])
    api.resources.invalidate_cache()
    for body in docs:
        if body["kind"] == "CustomResourceDefinition":
            continue
        res = api.resources.get(api_version=body["apiVersion"], kind=body["kind"])
        ns = (body["metadata"].get("namespace") or namespace) if res.namespaced else None
        if ns:
            body["metadata"]["namespace"] = ns
        res.server_side_apply(
            body=body,
            name=body["metadata"]["name"],
            namespace=ns,
            field_manager="mlops-tests",
            force_conflicts=True,
        )


def wait_established(api, names: list[str], timeout: float = 60) -> None:
    crds = api.resources.get(api_version="apiextensions.k8s.io/v1", kind="CustomResourceDefinition")
    deadline = time.monotonic() + timeout
    pending = set(names)
    while pending and time.monotonic() < deadline:
        for name in list(pending):
            conditions = crds.get(name=name).status.conditions or []
            if any(c.type == "Established" and c.status == "True" for c in conditions):
                pending.discard(name)
        time.sleep(0.2)
    assert not pending, f"CRDs not Established after {timeout:.0f} s: {sorted(pending)}"


@pytest.fixture(scope="session")
def argo_crds(kubeconfig, shared_fixtures):
    """ArgoCD's and Argo Workflows' CRDs from their pinned release manifests, Established; their names."""
    docs = [
        d
        for name in (ARGOCD_MANIFEST, WORKFLOWS_MANIFEST)
        for d in manifest_docs(shared_fixtures / "manifests" / name)
        if d["kind"] == "CustomResourceDefinition" and d["metadata"]["name"] in ARGO_CRDS
    ]
    apply_docs(kubeconfig, docs)
    return [d["metadata"]["name"] for d in docs]


@pytest.fixture(scope="session")
def monitoring_crds(kubeconfig, shared_fixtures) -> list[str]:
    """The Prometheus Operator's ServiceMonitor and PrometheusRule CRDs from the pinned
    kube-prometheus-stack chart fixture, Established (the monitoring app installs them on the
    real target; the model service's chart renders both); their names."""
    import tarfile

    import yaml

    chart = shared_fixtures / "charts" / "kube-prometheus-stack-88.5.3.tgz"
    with tarfile.open(chart) as tar:
        docs = [
            yaml.safe_load(tar.extractfile(f"kube-prometheus-stack/charts/crds/crds/crd-{plural}.yaml"))
            for plural in ("servicemonitors", "prometheusrules")
        ]
    apply_docs(kubeconfig, docs)
    return [d["metadata"]["name"] for d in docs]


@pytest.fixture(scope="session")
def argocd(controlplane, kubeconfig, shared_fixtures, argo_crds, monitoring_crds):
    """The real ArgoCD and Argo Rollouts: their release manifests applied (namespaces argocd,
    argo-rollouts), as the gitops stage does (and the Prometheus Operator's ServiceMonitor and
    PrometheusRule CRDs, as the platform stage's monitoring app does), reconciled by the local cluster's
    application-controller, repo-server and rollouts-controller.

    Returns the local endpoints (git_url serves this repository's committed HEAD).
    """
    from kubernetes import client, config

    core = client.CoreV1Api(config.new_client_from_config(config_file=kubeconfig))
    for ns, manifest in (("argocd", ARGOCD_MANIFEST), ("argo-rollouts", ROLLOUTS_MANIFEST)):
        with contextlib.suppress(client.ApiException):
            core.create_namespace({"metadata": {"name": ns}})
        apply_docs(kubeconfig, manifest_docs(shared_fixtures / "manifests" / manifest), ns)
    return controlplane.endpoints()
