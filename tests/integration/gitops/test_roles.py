"""The gitops, platform and workflows stages converge on the control plane, then again with changed=0.

They run as an operator runs them: ansible-playbook playbooks/<stage>.yml on the local
rehearsal inventory (ArgoCD's install manifest and Argo Workflows' CRDs from the shared
fixtures), pointed at the test control plane by MLOPS_KUBECONFIG.
"""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.controlplane

ROOT = Path(__file__).resolve().parents[3]

STAGES = ["gitops", "platform", "workflows"]
# Every platform app, as on the OpenStack target (inventory/local leaves out the two that
# cannot become healthy on KWOK's nodes), declared without waiting for their health.
STAGE_VARS = {
    "platform": {
        "platform_apps": ["minio", "postgresql", "mlflow", "monitoring", "label_studio"],
        "platform_wait": False,
    }
}


def run_stage(stage: str, kubeconfig: str, *extra: str) -> tuple[dict, str]:
    from ansible_run import ANSIBLE_PLAYBOOK, playbook_env

    proc = subprocess.run(
        [
            ANSIBLE_PLAYBOOK,
            f"playbooks/{stage}.yml",
            *(["-e", json.dumps(STAGE_VARS[stage])] if stage in STAGE_VARS else []),
            *extra,
        ],
        cwd=ROOT,
        env=playbook_env(kubeconfig, ANSIBLE_NOCOLOR="1"),
        capture_output=True,
        text=True,
        timeout=900,
    )
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        raise AssertionError(
            f"{stage}: no JSON output\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        ) from None
    return data, proc.stdout


def changed_tasks(data: dict) -> list[str]:
    return [
        t["task"]["name"]
        for play in data["plays"]
        for t in play["tasks"]
        if any(h.get("changed") for h in t["hosts"].values())
    ]


def failures(data: dict) -> list[str]:
    return [
        f"{t['task']['name']}: {h.get('msg')}"
        for play in data["plays"]
        for t in play["tasks"]
        for h in t["hosts"].values()
        if h.get("failed")
    ]


@pytest.fixture(scope="module")
def converged(kubeconfig, shared_fixtures):
    first = {}
    for stage in STAGES:
        data, _ = run_stage(stage, kubeconfig)
        assert data["stats"]["localhost"]["failures"] == 0, failures(data)
        first[stage] = data
    return first


@pytest.mark.parametrize("stage", STAGES)
def test_converge_again_changes_nothing(converged, kubeconfig, stage):
    assert changed_tasks(converged[stage]), f"the first {stage} converge should change something"
    data, _ = run_stage(stage, kubeconfig)
    assert data["stats"]["localhost"]["failures"] == 0, failures(data)
    assert changed_tasks(data) == [], f"{stage} re-run changed: {changed_tasks(data)}"


def test_argocd_installed_and_configured(converged, kube):
    import bcrypt
    from ansible_collections.mlops.platform.plugins.module_utils.kube import get

    for crd in ("applications.argoproj.io", "appprojects.argoproj.io", "applicationsets.argoproj.io"):
        assert get(kube, "apiextensions.k8s.io/v1", "CustomResourceDefinition", crd) is not None
    assert get(kube, "apps/v1", "Deployment", "argocd-server", "argocd") is not None
    creds = get(kube, "v1", "Secret", "argocd-admin-credentials", "argocd")
    password = base64.b64decode(creds["data"]["password"])
    hashed = base64.b64decode(get(kube, "v1", "Secret", "argocd-secret", "argocd")["data"]["admin.password"])
    assert bcrypt.checkpw(password, hashed)
    assert get(kube, "v1", "Secret", "argocd-initial-admin-secret", "argocd") is None
    projects = kube.request("GET", "/apis/argoproj.io/v1alpha1/namespaces/argocd/appprojects")["items"]
    assert {p["metadata"]["name"] for p in projects} >= {"platform", "staging", "canary", "production"}
    production = next(p for p in projects if p["metadata"]["name"] == "production")
    assert [d["namespace"] for d in production["spec"]["destinations"]] == ["production"]
    assert production["spec"]["clusterResourceWhitelist"] == []


def test_platform_applications(converged, kube):
    apps = kube.request(
        "GET",
        "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications",
        query={"labelSelector": "app.kubernetes.io/part-of=mlops-platform"},
    )["items"]
    by_name = {a["metadata"]["name"]: a for a in apps}
    # postgresql brings CloudNativePG's operator; the local target's NodePort exposure, no Traefik.
    assert set(by_name) == {"cnpg", "minio", "postgresql", "mlflow", "monitoring", "label-studio"}
    waves = {n: int(a["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]) for n, a in by_name.items()}
    assert waves["cnpg"] < waves["postgresql"] < waves["mlflow"] and waves["minio"] < waves["mlflow"]
    for app in apps:
        assert app["spec"]["source"]["targetRevision"], "every chart is pinned"
        assert app["spec"]["project"] == "platform"
    mlflow = by_name["mlflow"]["spec"]["source"]["helm"]["valuesObject"]
    assert mlflow["backendStore"]["existingDatabaseSecret"]["name"] == "postgresql-credentials"
    assert mlflow["artifactRoot"]["s3"]["existingSecret"]["name"] == "minio-credentials"
    minio = by_name["minio"]["spec"]["source"]["helm"]["valuesObject"]
    assert minio["buckets"][0]["name"] == mlflow["artifactRoot"]["s3"]["bucket"]
    grafana = by_name["monitoring"]["spec"]["source"]["helm"]["valuesObject"]["grafana"]
    assert grafana["admin"]["existingSecret"] == "grafana-admin"
    dashboard = json.loads(grafana["dashboards"]["model-services"]["model-services"]["json"])
    assert dashboard["title"] == "Model services"
    for name, ns in (
        ("minio-credentials", "platform"),
        ("postgresql-credentials", "platform"),
        ("label-studio-db", "platform"),
        ("grafana-admin", "monitoring"),
        ("label-studio-admin", "platform"),
    ):
        assert kube.request("GET", f"/api/v1/namespaces/{ns}/secrets/{name}")["data"]


def test_workflow_templates_and_rbac(converged, kube):
    templates = kube.request("GET", "/apis/argoproj.io/v1alpha1/namespaces/argo/workflowtemplates")["items"]
    assert {t["metadata"]["name"] for t in templates} == {
        "train-model",
        "build-container-image",
        "deploy-container-image",
        "promote-model",
    }
    train = next(t for t in templates if t["metadata"]["name"] == "train-model")
    assert train["spec"]["onExit"] == "exit-handler"
    assert train["spec"]["serviceAccountName"] == "mlops-workflow"
    cron = kube.request("GET", "/apis/argoproj.io/v1alpha1/namespaces/argo/cronworkflows/retrain-model")
    assert cron["spec"]["suspend"] is True
    assert cron["spec"]["workflowSpec"]["workflowTemplateRef"]["name"] == "train-model"
    bindings = kube.request("GET", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings")["items"]
    for b in bindings:
        for s in b.get("subjects") or []:
            assert s.get("name") != "mlops-workflow", f"{b['metadata']['name']} grants cluster-wide rights"
    deployer = kube.request(
        "GET", "/apis/rbac.authorization.k8s.io/v1/namespaces/argocd/roles/mlops-workflow-deployer"
    )
    # The deploy step runs the promote playbook: the Applications, and the promotion history only.
    assert deployer["rules"] == [
        {"apiGroups": ["argoproj.io"], "resources": ["applications"], "verbs": ["get", "patch"]},
        {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["create"]},
        {
            "apiGroups": [""],
            "resources": ["configmaps"],
            "resourceNames": ["mlops-promotion-history"],
            "verbs": ["get", "update"],
        },
    ]


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ({"platform_apps": ["minio", "airflow"]}, ["platform_apps", "airflow"]),
        ({"platform_apps": ["minio", "minio"]}, ["platform_apps lists minio more than once"]),
        # The default backup path is /: a Cluster restored from / would archive over its own backups.
        (
            {"platform_postgresql_recovery_path": "/"},
            ["platform_postgresql_recovery_path", "other than the backup path"],
        ),
    ],
    ids=["unknown-app", "duplicate-app", "restore-onto-the-backup-path"],
)
def test_bad_platform_input_fails_before_any_change(converged, kubeconfig, extra, words):
    data, _ = run_stage("platform", kubeconfig, "-e", json.dumps(extra))
    assert data["stats"]["localhost"]["failures"] == 1
    assert data["stats"]["localhost"]["changed"] == 0
    message = " ".join(failures(data))
    assert all(w in message for w in words), message


def test_the_object_stores_keys_are_copied_where_backups_and_workflow_logs_read_them(converged, kube):
    """CloudNativePG's backup Secret and Argo's artifact Secret hold the object store's keys
    (compared, never printed); the controller's artifact repository archives logs with them."""
    import yaml

    def data(ns, name):
        return kube.request("GET", f"/api/v1/namespaces/{ns}/secrets/{name}")["data"]

    source = data("platform", "minio-credentials")
    keys = (source["rootUser"], source["rootPassword"])
    backup = data("platform", "postgresql-backup-s3")
    assert (backup["ACCESS_KEY_ID"], backup["ACCESS_SECRET_KEY"]) == keys
    cm = kube.request("GET", "/api/v1/namespaces/argo/configmaps/workflow-controller-configmap")
    repo = yaml.safe_load(cm["data"]["artifactRepository"])
    assert repo["archiveLogs"] is True and repo["s3"]["bucket"] == "argo-workflows", repo
    s3 = repo["s3"]
    copy = data("argo", s3["accessKeySecret"]["name"])
    assert (copy[s3["accessKeySecret"]["key"]], copy[s3["secretKeySecret"]["key"]]) == keys
