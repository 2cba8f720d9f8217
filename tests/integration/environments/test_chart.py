"""charts/model-service: `helm lint`, `helm template`, and every rendered object accepted by
the real API server (server-side dry run).

The Argo Rollouts `Rollout` and Prometheus Operator `ServiceMonitor` CRDs are not among the
upstream fixtures: this test installs minimal stand-ins for them (their real group, version,
kind and scope, with an open schema), so for those two kinds the API server checks the
envelope (names, labels, namespace), not their spec; the spec of the Rollout is checked
below against what Argo Rollouts expects of a canary.
"""

from __future__ import annotations

import os
import subprocess
import uuid

import pytest
import yaml
from environments_support import ROOT, ensure_namespace, install_crd

CHART = ROOT / "charts" / "model-service"
KUBE_VERSION = "1.36.3"

pytestmark = pytest.mark.controlplane


def helm() -> str:
    path = ROOT / ".cache" / "bin" / "helm"
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is missing: run `make test-deps` (scripts/build-go.sh helm builds it)")
    return str(path)


def template(*sets: str, namespace: str = "model-service-staging") -> subprocess.CompletedProcess:
    cmd = [
        helm(),
        "template",
        "model-service",
        str(CHART),
        "--namespace",
        namespace,
        "--kube-version",
        KUBE_VERSION,
    ]
    for s in sets:
        cmd += ["--set", s]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def render(*sets: str, namespace: str = "model-service-staging") -> list[dict]:
    out = template(*sets, namespace=namespace)
    assert out.returncode == 0, out.stderr
    return [d for d in yaml.safe_load_all(out.stdout) if d]


def open_crd(group: str, kind: str, plural: str) -> dict:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"kind": kind, "plural": plural, "singular": kind.lower(), "listKind": f"{kind}List"},
            "versions": [
                {
                    "name": "v1alpha1" if group == "argoproj.io" else "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
                    },
                }
            ],
        },
    }


@pytest.fixture(scope="module")
def api(crds, monitoring_crds):
    install_crd(crds, open_crd("argoproj.io", "Rollout", "rollouts"))
    return crds


def dry_run_create(kube, obj: dict, namespace: str) -> dict:
    res = kube.resource(obj["apiVersion"], obj["kind"])
    obj = dict(obj, metadata=dict(obj["metadata"], namespace=namespace))
    return kube.request(
        "POST",
        res.path(None, namespace),
        body=obj,
        query={"dryRun": "All"},
        action="dry-run creating",
        ref=f"{obj['kind']} {obj['metadata']['name']}",
    )


def test_helm_lint_is_clean():
    out = subprocess.run(
        [helm(), "lint", str(CHART), "--strict", "--kube-version", KUBE_VERSION],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 chart(s) failed" in out.stdout


CASES = {
    "staging (defaults)": (
        [],
        {"ServiceAccount", "Service", "Deployment", "ServiceMonitor", "PrometheusRule"},
    ),
    "production (autoscaled, ingress)": (
        [
            "replicaCount=2",
            "autoscaling.enabled=true",
            "autoscaling.minReplicas=2",
            "ingress.enabled=true",
            "ingress.host=models.example.org",
            "ingress.className=nginx",
            "ingress.tlsSecretName=models-tls",
            "environment=production",
        ],
        {
            "ServiceAccount",
            "Service",
            "Deployment",
            "ServiceMonitor",
            "PrometheusRule",
            "HorizontalPodAutoscaler",
            "Ingress",
        },
    ),
    "canary (Argo Rollouts, weighted by ingress)": (
        [
            "rollout.enabled=true",
            "ingress.enabled=true",
            "ingress.host=canary.example.org",
            "rollout.nginxTrafficRouting=true",
            "autoscaling.enabled=true",
            "environment=canary",
        ],
        {
            "ServiceAccount",
            "Service",
            "Rollout",
            "ServiceMonitor",
            "PrometheusRule",
            "HorizontalPodAutoscaler",
            "Ingress",
        },
    ),
    "without ServiceMonitor": (
        ["serviceMonitor.enabled=false"],
        {"ServiceAccount", "Service", "Deployment", "PrometheusRule"},
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_every_rendered_object_is_accepted_by_the_api_server(api, case):
    sets, kinds = CASES[case]
    objs = render(*sets)
    assert {o["kind"] for o in objs} == kinds
    ns = f"chart-{uuid.uuid4().hex[:6]}"
    ensure_namespace(api, ns)
    for obj in objs:
        created = dry_run_create(api, obj, ns)
        assert created["metadata"]["name"] == obj["metadata"]["name"]
        assert "uid" not in created or created["metadata"].get("creationTimestamp")  # echoed, not stored
    listing = api.request("GET", f"/api/v1/namespaces/{ns}/services")
    assert listing["items"] == []  # a dry run stores nothing


def test_workload_is_hardened_and_carries_the_model():
    objs = render("image.tag=7", "model.version=7", "model.name=bird-classifier")
    (dep,) = [o for o in objs if o["kind"] == "Deployment"]
    pod = dep["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    assert c["image"] == "registry.local/mlops/model-service:7"
    env = {e["name"]: e["value"] for e in c["env"]}
    assert env["MODEL_URI"] == "models:/bird-classifier/7" and env["MODEL_VERSION"] == "7"
    assert c["readinessProbe"]["httpGet"]["path"] == "/health" and c["livenessProbe"]
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert c["securityContext"]["allowPrivilegeEscalation"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["automountServiceAccountToken"] is False
    assert c["resources"]["limits"]["memory"] == "1Gi"


def test_canary_rollout_has_weighted_steps_and_two_services():
    objs = render("rollout.enabled=true")
    (ro,) = [o for o in objs if o["kind"] == "Rollout"]
    canary = ro["spec"]["strategy"]["canary"]
    assert [s["setWeight"] for s in canary["steps"] if "setWeight" in s] == [10, 25, 50]
    services = {o["metadata"]["name"] for o in objs if o["kind"] == "Service"}
    assert services == {canary["stableService"], canary["canaryService"]}
    assert ro["apiVersion"] == "argoproj.io/v1alpha1" and "replicas" in ro["spec"]


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        (["ingress.enabled=true"], "ingress.enabled is true but ingress.host is empty"),
        (["image.tag=bad tag"], "/image/tag"),
        (["model.version=latest"], "/model/version"),
        (["mlflow.trackingUri=mlflow:5000"], "/mlflow/trackingUri"),
        (["rollout.nginxTrafficRouting=true"], "rollout.nginxTrafficRouting needs rollout.enabled"),
        (
            ["autoscaling.enabled=true", "autoscaling.minReplicas=5", "autoscaling.maxReplicas=2"],
            "minReplicas is greater than autoscaling.maxReplicas",
        ),
    ],
)
def test_bad_values_fail_with_a_clear_message(sets, message):
    out = template(*sets)
    assert out.returncode != 0
    assert message in out.stderr
