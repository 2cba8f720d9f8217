"""The Python API end to end on the local rehearsal target (inventory/local), on a real
kube-apiserver + etcd: what `make run` and scripts do, checked as an operator would."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from mlops_platform.stages import CLOUD_STAGES, STAGES

ROOT = Path(__file__).resolve().parents[3]
# What inventory/local enables (it leaves out the apps that cannot become healthy there).
LOCAL_CONFIG = ROOT / "inventory/local/group_vars/all/platform.yml"
LOCAL_APPS = yaml.safe_load(LOCAL_CONFIG.read_text())["platform_apps"]
PLATFORM_APPS = {app.replace("_", "-") for app in LOCAL_APPS}
ENVIRONMENTS = ["staging", "canary", "production"]
WORKFLOW_TEMPLATES = {"train-model", "build-container-image", "deploy-container-image", "promote-model"}
# The generated credentials of each app (the Secret's name, the app it is reported for).
APP_CREDENTIALS = {
    "minio": ("minio-credentials", "minio"),
    "postgresql": ("postgresql-credentials", "postgresql"),
    "monitoring": ("grafana-admin", "grafana"),
    "label_studio": ("label-studio-admin", "label-studio"),
}
CREDENTIAL_SECRETS = {APP_CREDENTIALS[a][0] for a in LOCAL_APPS if a in APP_CREDENTIALS}
CREDENTIAL_APPS = {APP_CREDENTIALS[a][1] for a in LOCAL_APPS if a in APP_CREDENTIALS}

pytestmark = pytest.mark.controlplane


def _failures(result) -> str:
    return (
        "\n".join(f"{f.stage}/{f.task}: {f.message}" for f in result.failures) + f"\n(see {result.artifacts})"
    )


def test_up_first_run_changes_second_run_changes_nothing(platform):
    first = platform.up()
    assert first.ok, _failures(first)
    assert [s.name for s in first.stages] == list(STAGES)
    assert first.changed > 0
    for stage in ("gitops", "platform", "workflows", "environments"):
        assert first.stage(stage).changed > 0, f"stage {stage} declared nothing on an empty cluster"
    for stage in CLOUD_STAGES:  # skipped on the local target: nothing changed, nothing failed
        assert first.stage(stage).changed == 0 and first.stage(stage).failed == 0

    second = platform.up()
    assert second.ok, _failures(second)
    assert second.changed == 0, [(c.stage, c.task) for c in second.changes]


def test_status_lists_apps_environments_templates_and_credential_names(platform, plane):
    from kubernetes import client, config

    state = platform.status()
    assert state.target == "local" and state.cluster.reachable and state.cluster.version
    assert {a.name for a in state.applications} >= PLATFORM_APPS
    assert all(a.project for a in state.applications)
    assert [e.name for e in state.environments] == ENVIRONMENTS
    assert all(e.application for e in state.environments), state.environments
    assert {t.name for t in state.workflow_templates} >= WORKFLOW_TEMPLATES
    assert {c.secret for c in state.credentials} >= CREDENTIAL_SECRETS
    assert {c.app for c in state.credentials} >= CREDENTIAL_APPS

    # Names only: no generated value appears anywhere in what status() returns.
    core = client.CoreV1Api(config.new_client_from_config(config_file=str(plane.kubeconfig)))
    text = json.dumps(state.to_dict())
    import base64

    for cred in state.credentials:
        secret = core.read_namespaced_secret(cred.secret, cred.namespace)
        assert sorted(secret.data) == cred.keys
        for value in secret.data.values():
            plain = base64.b64decode(value).decode()
            if len(plain) >= 12:  # generated values (fixed ones like "admin" are not secret)
                assert plain not in text

    # ...and the value is there when asked for, for one app.
    values = platform.credentials("minio")
    assert len(values["rootPassword"]) == 40 and values["rootUser"] == "admin"


def test_plan_after_a_config_change_shows_it_and_applies_nothing(platform, plane):
    from kubernetes import client, config

    custom = client.CustomObjectsApi(config.new_client_from_config(config_file=str(plane.kubeconfig)))
    before = custom.get_namespaced_custom_object("argoproj.io", "v1alpha1", "argocd", "applications", "minio")

    # Plan the stage the setting belongs to.
    planned = platform.plan(["platform"], extra_vars={"platform_minio_size": "75Gi"})
    assert planned.ok and planned.check, _failures(planned)
    platform_changes = [c for c in planned.changes if c.stage == "platform"]
    assert platform_changes, planned.changes
    assert any("75Gi" in c.diff for c in platform_changes), [c.diff for c in platform_changes]

    after = custom.get_namespaced_custom_object("argoproj.io", "v1alpha1", "argocd", "applications", "minio")
    # ArgoCD's controller keeps writing .status, and the Application CRD has no status
    # subresource (each status write is a new generation too): the spec is what a plan must
    # leave alone.
    assert after["spec"] == before["spec"]
    assert "75Gi" not in json.dumps(after["spec"])


def test_promote_moves_a_version(platform):
    """ArgoCD syncs each version, Argo Rollouts steps the canary, MLflow's aliases move."""
    build = platform.promote(None, "staging", version=7, image_tag="7")  # a new build enters staging
    assert build.ok, _failures(build)
    envs = {e.name: e for e in platform.status().environments}
    assert (envs["staging"].version, envs["staging"].image) == ("7", "7")
    assert envs["canary"].version != "7"

    result = platform.promote("staging", "canary")
    assert result.ok, _failures(result)
    assert result.changed > 0
    envs = {e.name: e for e in platform.status().environments}
    assert (envs["canary"].version, envs["canary"].image) == ("7", "7")
    assert envs["canary"].last_promotion["from"] == "staging"
    assert envs["canary"].last_promotion["version"] == "7"
    assert envs["production"].version != "7"

    skipping = platform.promote("staging", "production")
    assert not skipping.ok and "skip" in _failures(skipping)


def test_cancel_mid_stage_then_up_converges(fresh_platform):
    seen = []

    def cancel_in_platform_stage():
        return any(e.stage == "platform" and e.event == "runner_on_ok" for e in seen)

    interrupted = fresh_platform.up(on_event=seen.append, cancel=cancel_in_platform_stage)
    assert interrupted.status == "canceled" and not interrupted.ok
    # Events reach the callback a little after the playbook emits them: on a loaded
    # machine the run may already be one stage further when the cancel lands.
    assert interrupted.interrupted_stage in ("platform", "workflows", "environments")
    assert [s.name for s in interrupted.stages][-1] == interrupted.interrupted_stage
    assert interrupted.stage("environments") is None or interrupted.interrupted_stage == "environments"

    resumed = fresh_platform.up()
    assert resumed.ok, _failures(resumed)
    assert resumed.stage(interrupted.interrupted_stage) is not None  # the interrupted stage ran again
    state = fresh_platform.status()
    assert {a.name for a in state.applications} >= PLATFORM_APPS
    assert {t.name for t in state.workflow_templates} >= WORKFLOW_TEMPLATES

    again = fresh_platform.up()
    assert again.ok and again.changed == 0, [(c.stage, c.task) for c in again.changes]
