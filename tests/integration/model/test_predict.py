"""`mlopsctl predict ENV`: a request through the API server's service proxy to an environment's
model service, answered by the real service process.

The service runs in a network namespace of the test's own (the API server's proxy refuses
loopback addresses), behind a Service of the environment's namespace whose Endpoints name it
through a Pod reporting its address: what the chart's Service and a running pod give on a real
cluster (the Pod's status is written here; no kubelet runs on this machine). The environment is found
as `mlopsctl status` finds it, from its ArgoCD Application.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from pathlib import Path

import pytest
from app_support import NetworkNamespace, fetch, http, start_service, stop, train, wait_ready

ROOT = Path(__file__).resolve().parents[3]
MLOPSCTL = ROOT / ".cache" / "venv" / "bin" / "mlopsctl"

pytestmark = [pytest.mark.controlplane, pytest.mark.mlflow]


def mlopsctl(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    return subprocess.run(
        [MLOPSCTL, *args], env=env, capture_output=True, text=True, timeout=120, cwd=ROOT, check=False
    )


def inventory(tmp_path: Path, kubeconfig: str, argocd_ns: str, prefix: str) -> Path:
    """A target of its own: ArgoCD's namespace and the environments' prefix, nothing shared."""
    root = tmp_path / "inventory"
    (root / "group_vars" / "all").mkdir(parents=True)
    (root / "hosts.yml").write_text("all:\n  hosts:\n    localhost:\n      ansible_connection: local\n")
    settings = {
        "mlops_target": "local",
        "mlops_kubeconfig": kubeconfig,
        "gitops_namespace": argocd_ns,
        "environments_argocd_namespace": argocd_ns,
        "environments_name_prefix": prefix,
        "environments_list": [{"name": "staging"}, {"name": "canary"}],
    }
    (root / "group_vars" / "all" / "platform.yml").write_text(json.dumps(settings))
    return root


def test_predict_reaches_the_environments_model_service(
    kube, kubeconfig, argo_crds, app_python, mlflow_server, tmp_path
):
    suffix = uuid.uuid4().hex[:6]
    argocd_ns, prefix = f"predict-{suffix}", f"pr{suffix}"
    namespace = f"{prefix}-staging"
    for ns in (argocd_ns, namespace):
        kube.request(
            "POST",
            "/api/v1/namespaces",
            body={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}},
        )
    kube.request(
        "POST",
        f"/apis/argoproj.io/v1alpha1/namespaces/{argocd_ns}/applications",
        body={
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Application",
            "metadata": {"name": namespace},
            "spec": {
                "project": "default",
                "source": {"repoURL": "https://example.invalid/x.git", "path": "."},
                "destination": {"server": "https://kubernetes.default.svc", "namespace": namespace},
            },
        },
    )

    model = f"digits-{suffix}"
    assert train(app_python, mlflow_server.url, model, tmp_path).version == "1"
    baked = tmp_path / "model"  # as the image has it: the service in the namespace cannot reach MLflow
    assert fetch(app_python, mlflow_server.url, model, "1", baked).returncode == 0

    with NetworkNamespace(f"pr{suffix}", int(suffix[:2], 16)) as netns:
        proc, url, log = start_service(
            app_python,
            tmp_path,
            netns=netns.name,
            host=netns.inner,
            MODEL_DIR=str(baked),
            MODEL_NAME=model,
            MODEL_VERSION="1",
        )
        try:
            wait_ready(proc, url, log)
            labels = {"app.kubernetes.io/name": "model-service", "app.kubernetes.io/instance": namespace}
            kube.request(
                "POST",
                f"/api/v1/namespaces/{namespace}/services",
                body={
                    "apiVersion": "v1",
                    "kind": "Service",
                    "metadata": {"name": namespace, "labels": labels},
                    "spec": {"ports": [{"name": "http", "port": 80, "targetPort": 8000}]},
                },
            )
            # The API server proxies only to an endpoint whose Pod reports that IP: the Pod the
            # kubelet would run, its status written here (no kubelet runs it; the process does).
            pod = f"{namespace}-0"
            kube.request(
                "POST",
                f"/api/v1/namespaces/{namespace}/pods",
                body={
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {"name": pod, "labels": labels},
                    "spec": {
                        "nodeName": f"netns-{suffix}",
                        "containers": [{"name": "model-server", "image": "-"}],
                    },
                },
            )
            kube.request(
                "PATCH",
                f"/api/v1/namespaces/{namespace}/pods/{pod}/status",
                content_type="application/merge-patch+json",
                body={"status": {"phase": "Running", "podIP": netns.inner, "podIPs": [{"ip": netns.inner}]}},
            )
            kube.request(
                "POST",
                f"/api/v1/namespaces/{namespace}/endpoints",
                body={
                    "apiVersion": "v1",
                    "kind": "Endpoints",
                    "metadata": {"name": namespace, "labels": labels},
                    "subsets": [
                        {
                            "addresses": [
                                {
                                    "ip": netns.inner,
                                    "targetRef": {"kind": "Pod", "name": pod, "namespace": namespace},
                                }
                            ],
                            "ports": [{"name": "http", "port": 8000}],
                        }
                    ],
                },
            )

            target = ["--inventory", str(inventory(tmp_path, kubeconfig, argocd_ns, prefix))]
            asked = mlopsctl("predict", "staging", *target, "--kubeconfig", kubeconfig, "--json")
            assert asked.returncode == 0, asked.stdout + asked.stderr
            answer = json.loads(asked.stdout)
            assert (answer["namespace"], answer["service"], answer["status"]) == (namespace, namespace, 200)
            assert answer["answer"]["predictions"] == [0]  # the sample is scikit-learn's first digit, a 0
            assert answer["answer"]["model"] == {"name": model, "version": "1"}

            bad = mlopsctl(
                "predict", "staging", *target, "--kubeconfig", kubeconfig, "--data", '{"instances": [[1]]}'
            )
            assert bad.returncode == 1 and "answered 422" in bad.stdout and "instances[0]" in bad.stdout
            unknown = mlopsctl("predict", "qa", *target, "--kubeconfig", kubeconfig)
            assert unknown.returncode == 2
            assert "environment 'qa' is not one of staging, canary" in unknown.stderr
            assert http("GET", f"{url}/health")[0] == 200  # the service's own view: it served them
        finally:
            stop(proc)
