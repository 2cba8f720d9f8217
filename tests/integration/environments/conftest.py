"""Fixtures for the environments / promotion tests: CRDs, a real MLflow server, real ArgoCD.

`live_platform` is three Applications the real ArgoCD controller of the local cluster
syncs and health-checks (environments_support explains when `platform`, whose status
the tests write, is used instead). Argo Workflows' controller does not run here (its
workflows run containers): `finish_workflow` writes a Workflow's `.status` as it would.
"""

from __future__ import annotations

import uuid

import pytest
import yaml
from environments_support import (
    CRD_FILES,
    ENVS,
    IMAGE_REPOSITORY,
    app_path,
    ensure_namespace,
    healthy_status,
    install_crd,
    make_app,
    wait_healthy,
)


@pytest.fixture(autouse=True)
def _kubeconfig_env(kubeconfig, monkeypatch):
    """The modules find the control plane as a user's would: K8S_AUTH_KUBECONFIG."""
    monkeypatch.setenv("K8S_AUTH_KUBECONFIG", kubeconfig)


@pytest.fixture(scope="session")
def crds(kube, shared_fixtures):
    """ArgoCD's and Argo Workflows' real CRDs (from ../shared/fixtures/crds)."""
    for name in CRD_FILES:
        with open(shared_fixtures / "crds" / name, encoding="utf-8") as f:
            for doc in yaml.safe_load_all(f):
                if doc:
                    install_crd(kube, doc)
    return kube


@pytest.fixture
def platform(crds):
    """A fresh namespace with the three environments' Applications, their status written here.

    staging runs version 2 (image 2), canary and production version 1 (image 1), as the
    environments stage leaves them after a first training run. The namespace is one the
    real controller does not watch (see environments_support).
    """
    ns = f"fake-argocd-{uuid.uuid4().hex[:8]}"
    ensure_namespace(crds, ns)
    for env, (version, image) in zip(ENVS, [("2", "2"), ("1", "1"), ("1", "1")], strict=True):
        created = crds.request("POST", app_path(ns), body=make_app(env, version, image))
        created["status"] = healthy_status(created["spec"]["source"])
        crds.request("PUT", app_path(ns, created["metadata"]["name"]), body=created)
    return ns


@pytest.fixture(scope="session")
def live_projects(crds, argocd):
    """The environments' AppProjects in ArgoCD's namespace, open to the tests' Application namespaces."""
    for env in ENVS:
        body = {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "AppProject",
            "metadata": {"name": f"model-service-{env}", "namespace": "argocd"},
            "spec": {
                "sourceRepos": [argocd["git_url"]],
                "sourceNamespaces": ["argocd-*"],
                "destinations": [{"server": "https://kubernetes.default.svc", "namespace": "argocd-*"}],
                "clusterResourceWhitelist": [{"group": "", "kind": "Namespace"}],
            },
        }
        crds.request(
            "PATCH",
            f"/apis/argoproj.io/v1alpha1/namespaces/argocd/appprojects/{body['metadata']['name']}",
            body=body,
            content_type="application/apply-patch+yaml",
            query={"fieldManager": "mlops-tests", "force": "true"},
        )
    return argocd


@pytest.fixture
def live_platform(crds, live_projects):
    """Like `platform`, but the real ArgoCD syncs the three Applications (from this
    repository's chart, served by the local Git server) and reports their health; each
    deploys into a namespace of its own (<namespace>-<environment>)."""
    ns = f"argocd-{uuid.uuid4().hex[:8]}"
    ensure_namespace(crds, ns)
    for env, (version, image) in zip(ENVS, [("2", "2"), ("1", "1"), ("1", "1")], strict=True):
        app = make_app(env, version, image, repo_url=live_projects["git_url"], destination=f"{ns}-{env}")
        crds.request("POST", app_path(ns), body=app)
    wait_healthy(crds, ns)
    return ns


@pytest.fixture
def failing_image(controlplane):
    """fail(tag): from then on the pods of the model service's image `tag` crash-loop (KWOK)."""
    failed = []

    def fail(tag: str) -> None:
        image = f"{IMAGE_REPOSITORY}:{tag}"
        controlplane.fail_image(image)
        failed.append(image)

    yield fail
    for image in failed:
        controlplane.heal_image(image)


@pytest.fixture
def registered_model(mlflow_server):
    """A fresh registered model with versions 1..3 in the real MLflow server."""
    from ansible_collections.mlops.platform.plugins.module_utils.mlflow.client import MlflowClient

    client = MlflowClient(mlflow_server.url)
    name = f"bird-classifier-{uuid.uuid4().hex[:6]}"
    client.create_registered_model(name)
    for v in (1, 2, 3):
        client.create_model_version(name, f"s3://mlflow/models/{name}/{v}")
    return client, name
