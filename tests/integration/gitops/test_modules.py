"""The four GitOps modules on the real control plane with ArgoCD's real CRDs.

Each: check mode creates nothing, create, second run unchanged, update with a diff, delete.
"""

from __future__ import annotations

import pytest
from gitops_support import minio_app

pytestmark = pytest.mark.controlplane

APP = "argoproj.io/v1alpha1"


def exists(kube, api_version, kind, name, namespace):
    from ansible_collections.mlops.platform.plugins.module_utils.kube import get

    return get(kube, api_version, kind, name, namespace)


def app_args(ns, **over):
    helm_values = {"existingSecret": "minio-credentials", "mode": "standalone"}
    return minio_app(ns, **{"project": "default", "sync_wave": 0, "helm_values": helm_values, **over})


def lifecycle(play, kube, module, args, update, kind, api_version, ns):
    """check → create → unchanged → update (diff) → delete → delete again: what the user sees."""
    name = args["name"]
    r = play.one(module, args, check=True, diff=True)
    assert not r.get("failed"), r.get("msg")
    assert r["changed"] is True
    assert exists(kube, api_version, kind, name, ns) is None, "check mode must create nothing"

    r = play.one(module, args)
    assert not r.get("failed"), r.get("msg")
    assert r["changed"] is True
    assert exists(kube, api_version, kind, name, ns) is not None

    r = play.one(module, args)
    assert r["changed"] is False, r

    r = play.one(module, dict(args, **update), diff=True)
    assert r["changed"] is True
    assert r["diff"], "an update shows a diff"
    r = play.one(module, dict(args, **update))
    assert r["changed"] is False

    r = play.one(module, {"name": name, "namespace": ns, "state": "absent"}, check=True)
    assert r["changed"] is True
    assert exists(kube, api_version, kind, name, ns) is not None, "check mode deletes nothing"
    r = play.one(module, {"name": name, "namespace": ns, "state": "absent"})
    assert r["changed"] is True
    return r


def test_argocd_application_lifecycle(play, kube, argocd_crds, namespace):
    lifecycle(
        play,
        kube,
        "argocd_application",
        app_args(namespace),
        {"chart_version": "5.4.1", "helm_values": {"mode": "distributed"}},
        "Application",
        APP,
        namespace,
    )
    # The cascade finalizer keeps it (no ArgoCD controller here): it is marked for deletion.
    obj = exists(kube, APP, "Application", "minio", namespace)
    assert obj is None or obj["metadata"].get("deletionTimestamp")
    r = play.one("argocd_application", {"name": "minio", "namespace": namespace, "state": "absent"})
    assert r["changed"] is False


def test_argocd_application_update_diff_names_the_field(play, kube, argocd_crds, namespace):
    """The status is written here, as the controller would (this namespace is not watched):
    what is tested is that the module never counts a controller's write as a change."""
    play.one("argocd_application", app_args(namespace))
    r = play.one("argocd_application", app_args(namespace, chart_version="5.4.1"), diff=True)
    diff = r["diff"][0]
    assert diff["before"]["spec"]["source"]["targetRevision"] == "5.4.0"
    assert diff["after"]["spec"]["source"]["targetRevision"] == "5.4.1"
    # status written by the controller is never a change
    obj = exists(kube, APP, "Application", "minio", namespace)
    obj["status"] = {"sync": {"status": "Synced"}, "health": {"status": "Healthy"}}
    kube.request("PUT", kube.path_of(obj), body=obj)
    r = play.one("argocd_application", app_args(namespace, chart_version="5.4.1"))
    assert r["changed"] is False


def test_argocd_application_list_in_one_call(play, kube, argocd_crds, namespace):
    r = play.one(
        "argocd_application",
        {
            "namespace": namespace,
            "destination_namespace": "platform",
            "repo_url": "https://charts.bitnami.com/bitnami",
            "applications": [
                {"name": "postgresql", "chart": "postgresql", "chart_version": "16.7.27", "sync_wave": 1},
                {
                    "name": "mlflow",
                    "repo_url": "https://community-charts.github.io/helm-charts",
                    "chart": "mlflow",
                    "chart_version": "1.7.1",
                    "sync_wave": 2,
                    "helm_parameters": [{"name": "backendStore.postgres.enabled", "value": "true"}],
                },
                {
                    "name": "service",
                    "repo_url": "https://github.com/example/iac.git",
                    "path": "k8s/staging",
                    "kustomize_images": ["example/app=example/app:staging-3"],
                },
            ],
        },
    )
    assert not r.get("failed"), r.get("msg")
    assert [a["action"] for a in r["applications"]] == ["created", "created", "created"]
    mlflow = exists(kube, APP, "Application", "mlflow", namespace)
    assert mlflow["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"] == "2"
    assert mlflow["spec"]["source"]["helm"]["parameters"] == [
        {"name": "backendStore.postgres.enabled", "value": "true"}
    ]
    service = exists(kube, APP, "Application", "service", namespace)
    assert service["spec"]["source"]["kustomize"]["images"] == ["example/app=example/app:staging-3"]
    assert r["api_requests"] == 6  # one GET + one apply each, no discovery


def test_argocd_project_lifecycle(play, kube, argocd_crds, namespace):
    lifecycle(
        play,
        kube,
        "argocd_project",
        {
            "name": "staging",
            "namespace": namespace,
            "source_repos": ["https://github.com/example/iac.git"],
            "destinations": [{"namespace": "staging"}],
        },
        {
            "destinations": [{"namespace": "staging"}, {"namespace": "staging-preview"}],
            "cluster_resources": [{"kind": "Namespace"}],
        },
        "AppProject",
        APP,
        namespace,
    )
    assert exists(kube, APP, "AppProject", "staging", namespace) is None


def test_argocd_repository_lifecycle_never_reveals_credentials(play, kube, namespace):
    token1, token2 = "ghp_FirstToken1234567890", "ghp_SecondToken0987654321"
    args = {
        "name": "repo-iac",
        "namespace": namespace,
        "url": "https://github.com/example/iac.git",
        "username": "ci-bot",
        "password": token1,
    }
    lifecycle(play, kube, "argocd_repository", args, {"password": token2}, "Secret", "v1", namespace)
    assert exists(kube, "v1", "Secret", "repo-iac", namespace) is None
    for out in play.outputs:
        assert token1 not in out and token2 not in out


def test_argocd_repository_labels_and_hidden_diff(play, kube, namespace):
    args = {
        "name": "creds",
        "namespace": namespace,
        "kind": "credential_template",
        "url": "git@github.com:example",
        "ssh_private_key": "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----",
    }
    r = play.one("argocd_repository", args)
    assert r["repositories"][0]["keys"] == ["sshPrivateKey", "type", "url"]
    secret = exists(kube, "v1", "Secret", "creds", namespace)
    assert secret["metadata"]["labels"]["argocd.argoproj.io/secret-type"] == "repo-creds"
    r = play.one(
        "argocd_repository",
        dict(args, ssh_private_key=args["ssh_private_key"].replace("abc", "xyz")),
        diff=True,
    )
    assert r["changed"] is True
    assert r["diff"][0]["after"]["data"]["sshPrivateKey"] == "<hidden, changed>"
    assert r["diff"][0]["after"]["data"]["url"] == "<hidden>"
    assert "xyz" not in str(r) and "abc" not in str(r)
