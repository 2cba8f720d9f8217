"""The environments stage and the promote / rollback playbooks, run with ansible-playbook
against the real control plane (ArgoCD's real CRDs).

No ArgoCD controller runs: `FakeArgoCD` (conftest) writes the Applications' `.status`
after each refresh a promotion requests. Each test uses its own ArgoCD namespace and name
prefix, so it is isolated from the other tests of the session.
"""

from __future__ import annotations

import uuid

import pytest
from ansible_collections.mlops.platform.plugins.module_utils.promotion import application as appl
from environments_support import FakeArgoCD, ensure_namespace, playbook, recap

pytestmark = pytest.mark.controlplane


@pytest.fixture
def stage(crds, kubeconfig):
    """Isolation for one test: an ArgoCD namespace and a name prefix of its own."""
    suffix = uuid.uuid4().hex[:6]
    ns, prefix = f"argocd-{suffix}", f"ms{suffix}"
    ensure_namespace(crds, ns)
    common = {"environments_argocd_namespace": ns, "environments_name_prefix": prefix}
    return ns, prefix, common


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


def test_promote_and_rollback_playbooks(crds, kubeconfig, stage):
    ns, prefix, common = stage
    assert playbook(kubeconfig, "environments.yml", common).returncode == 0
    with FakeArgoCD(crds, ns):
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
        rerun = playbook(kubeconfig, "promote.yml", common, "from=staging", "to=canary")
        assert rerun.returncode == 0 and recap(rerun.stdout)["changed"] == 0
        back = playbook(kubeconfig, "rollback.yml", common, "env=canary")
        assert back.returncode == 0, back.stdout[-3000:]
    assert appl.deployed(apps(crds, ns)[f"{prefix}-canary"]["spec"]["source"]) == ("1", "1")
    missing = playbook(kubeconfig, "promote.yml", common, "from=staging")
    assert missing.returncode != 0 and "Say where to promote" in missing.stdout
