"""The test control plane is a real API server: it stores, validates and serves objects."""

from __future__ import annotations

import pytest
from kubernetes import client, config, dynamic
from kubernetes.client.rest import ApiException


@pytest.fixture(scope="module")
def api(kubeconfig):
    return dynamic.DynamicClient(config.new_client_from_config(config_file=kubeconfig))


def application(name: str, **spec) -> dict:
    """An Application in argocd of the default project."""
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": name, "namespace": "argocd"},
        "spec": {"project": "default", **spec},
    }


def test_argo_crds_are_established(api, argo_crds):
    """The six CRDs the tests use (conftest.ARGO_CRDS) are in the pinned manifests and served."""
    crds = api.resources.get(api_version="apiextensions.k8s.io/v1", kind="CustomResourceDefinition")
    assert len(argo_crds) == 6, argo_crds
    for name in argo_crds:
        conditions = {c.type: c.status for c in crds.get(name=name).status.conditions}
        assert conditions.get("Established") == "True", (name, conditions)


def test_application_round_trip(api, argo_crds):
    core = api.resources.get(api_version="v1", kind="Namespace")
    core.server_side_apply(
        body={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "argocd"}},
        name="argocd",
        field_manager="mlops-tests",
    )
    apps = api.resources.get(api_version="argoproj.io/v1alpha1", kind="Application")
    body = application(
        "roundtrip",
        source={"repoURL": "https://charts.example.org", "chart": "demo", "targetRevision": "1.2.3"},
        destination={"server": "https://kubernetes.default.svc", "namespace": "demo"},
    )
    apps.create(body=body, namespace="argocd")
    read = apps.get(name="roundtrip", namespace="argocd")
    assert read.spec.source.chart == "demo"
    assert read.spec.source.targetRevision == "1.2.3"
    assert read.spec.destination.namespace == "demo"


def test_crd_schema_rejects_a_wrong_field(api, argo_crds):
    """The real schema is enforced: `destination` must be an object, not a string."""
    apps = api.resources.get(api_version="argoproj.io/v1alpha1", kind="Application")
    body = application("invalid", source={"repoURL": "https://x.example.org"}, destination="nowhere")
    with pytest.raises(ApiException) as raised:
        apps.create(body=body, namespace="argocd")
    assert raised.value.status == 422
    assert "spec.destination" in raised.value.body


def test_restart_keeps_objects(controlplane, kubeconfig):
    """etcd data and certificates survive a restart of both processes."""
    core = client.CoreV1Api(config.new_client_from_config(config_file=kubeconfig))
    core.create_namespace({"metadata": {"name": "survives-restart"}})
    controlplane.restart()
    core = client.CoreV1Api(config.new_client_from_config(config_file=kubeconfig))
    assert core.read_namespace("survives-restart").metadata.name == "survives-restart"
