"""The environments stage and the promote / rollback playbooks, run with ansible-playbook
against the local cluster.

The promote / rollback test runs on the real ArgoCD (Applications in its namespace,
synced from this repository's Git server). The stage tests check what the stage
declares, and that a removed environment's Application is held by ArgoCD's finalizer:
they use a namespace the controller does not watch (fake-argocd-*), so that no
controller acts on it. Each test has its own name prefix.
"""

from __future__ import annotations

import uuid

import pytest
from ansible_collections.mlops.platform.plugins.module_utils.promotion import application as appl
from environments_support import ensure_namespace, playbook, recap

pytestmark = pytest.mark.controlplane


@pytest.fixture
def stage(crds, kubeconfig):
    """Isolation for one test: an Application namespace no controller watches, a name prefix."""
    suffix = uuid.uuid4().hex[:6]
    ns, prefix = f"fake-argocd-{suffix}", f"ms{suffix}"
    ensure_namespace(crds, ns)
    common = {
        "environments_argocd_namespace": ns,
        "environments_name_prefix": prefix,
        "environments_promotion_update_alias": False,  # test_mlflow_alias.py covers the alias
        "environments_wait": False,  # no controller reports on this namespace's Applications
    }
    return ns, prefix, common


@pytest.fixture
def live_stage(crds, argocd):
    """ArgoCD's own namespace (the real controller reconciles it), a name prefix and history of its own."""
    prefix = f"ms{uuid.uuid4().hex[:6]}"
    common = {
        "environments_name_prefix": prefix,
        "environments_promotion_history_name": f"{prefix}-history",
        "environments_promotion_update_alias": False,
        "environments_promotion_wait_timeout": 120,
        "environments_chart_repo_url": argocd["git_url"],
    }
    return "argocd", prefix, common


def apps(kube, ns):
    return {
        a["metadata"]["name"]: a
        for a in kube.request("GET", f"/apis/argoproj.io/v1alpha1/namespaces/{ns}/applications")["items"]
    }


def test_environments_stage_declares_every_environment(crds, kubeconfig, stage):
    ns, prefix, common = stage
    first = playbook(kubeconfig, "environments.yml", common)
    assert first.returncode == 0, first.stdout[-3000:]
    again = playbook(kubeconfig, "environments.yml", common)
    assert again.returncode == 0 and recap(again.stdout)["changed"] == 0, again.stdout[-3000:]
    got = apps(crds, ns)
    assert sorted(got) == [f"{prefix}-canary", f"{prefix}-production", f"{prefix}-staging"]
    canary = got[f"{prefix}-canary"]
    assert canary["spec"]["project"] == f"{prefix}-canary"
    assert canary["spec"]["destination"]["namespace"] == f"{prefix}-canary"
    assert "resources-finalizer.argocd.argoproj.io" in canary["metadata"]["finalizers"]
    assert appl.deployed(canary["spec"]["source"]) == ("1", "1")
    project = crds.request("GET", f"/apis/argoproj.io/v1alpha1/namespaces/{ns}/appprojects/{prefix}-canary")
    assert [d["namespace"] for d in project["spec"]["destinations"]] == [f"{prefix}-canary"]
    quota = crds.request("GET", f"/api/v1/namespaces/{prefix}-production/resourcequotas/environment-quota")
    assert quota["spec"]["hard"]["pods"] == "20"
    assert crds.request("GET", f"/api/v1/namespaces/{prefix}-staging/limitranges/environment-limits")


def test_removed_environment_needs_confirmation_then_is_deleted(crds, kubeconfig, stage):
    ns, prefix, common = stage
    assert playbook(kubeconfig, "environments.yml", common).returncode == 0
    two = {**common, "environments_list": [{"name": "staging"}, {"name": "canary"}]}
    refused = playbook(kubeconfig, "environments.yml", two)
    assert refused.returncode != 0
    assert "production are no longer in environments_list" in refused.stdout
    assert "environments_confirm_removal=true" in refused.stdout
    assert "deletionTimestamp" not in apps(crds, ns)[f"{prefix}-production"]["metadata"]
    done = playbook(kubeconfig, "environments.yml", {**two, "environments_confirm_removal": True})
    assert done.returncode == 0, done.stdout[-3000:]
    # ArgoCD's finalizer (cascade) holds the Application until its resources are gone
    assert "deletionTimestamp" in apps(crds, ns)[f"{prefix}-production"]["metadata"]
    assert (
        crds.request(
            "GET", f"/apis/argoproj.io/v1alpha1/namespaces/{ns}/appprojects/{prefix}-production", allow=(404,)
        )
        is None
    )
    again = playbook(kubeconfig, "environments.yml", {**two, "environments_confirm_removal": True})
    assert again.returncode == 0 and recap(again.stdout)["changed"] == 0, again.stdout[-3000:]


def test_promote_and_rollback_playbooks(crds, kubeconfig, live_stage):
    ns, prefix, common = live_stage
    first = playbook(kubeconfig, "environments.yml", common)
    assert first.returncode == 0, first.stdout[-3000:]
    new_build = playbook(kubeconfig, "promote.yml", common, "to=staging", "version=2", "image_tag=2")
    assert new_build.returncode == 0, new_build.stdout[-3000:]
    skip = playbook(kubeconfig, "promote.yml", common, "from=staging", "to=production")
    assert skip.returncode != 0
    assert "staging -> production would skip canary" in skip.stdout
    checked = playbook(kubeconfig, "promote.yml", common, "from=staging", "to=canary", check=True)
    assert checked.returncode == 0 and recap(checked.stdout)["changed"] == 1
    assert appl.deployed(apps(crds, ns)[f"{prefix}-canary"]["spec"]["source"]) == ("1", "1")
    promoted = playbook(kubeconfig, "promote.yml", common, "from=staging", "to=canary")
    assert promoted.returncode == 0, promoted.stdout[-3000:]
    assert "canary runs version 2 (image 2)" in promoted.stdout
    assert appl.runs_healthy(apps(crds, ns)[f"{prefix}-canary"])  # as ArgoCD reports it
    rerun = playbook(kubeconfig, "promote.yml", common, "from=staging", "to=canary")
    assert rerun.returncode == 0 and recap(rerun.stdout)["changed"] == 0
    back = playbook(kubeconfig, "rollback.yml", common, "env=canary")
    assert back.returncode == 0, back.stdout[-3000:]
    assert appl.deployed(apps(crds, ns)[f"{prefix}-canary"]["spec"]["source"]) == ("1", "1")
    missing = playbook(kubeconfig, "promote.yml", common, "from=staging")
    assert missing.returncode != 0 and "Say where to promote" in missing.stdout
