"""Issue 16's findings, each replayed on a real control plane through the API and the CLI:
tampering, races, interrupts, bad input, leaks, tracebacks and exit codes."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.controlplane

ROOT = Path(__file__).resolve().parents[3]
MLOPSCTL = str(ROOT / ".cache" / "venv" / "bin" / "mlopsctl")


def _failures(result) -> str:
    return "\n".join(f"{f.stage}/{f.task}: {f.message}" for f in result.failures) + f" ({result.artifacts})"


def mlopsctl(kubeconfig, *args, env=None, timeout=600) -> subprocess.CompletedProcess:
    full_env = dict(os.environ, MLOPS_KUBECONFIG=str(kubeconfig), **(env or {}))
    return subprocess.run(
        [MLOPSCTL, *args], cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def converged(platform):
    result = platform.up()
    assert result.ok, _failures(result)
    return platform


@pytest.fixture(scope="module")
def kube(plane):
    from kubernetes import client, config

    api_client = config.new_client_from_config(config_file=str(plane.kubeconfig))
    return {
        "core": client.CoreV1Api(api_client),
        "apps": client.AppsV1Api(api_client),
        "custom": client.CustomObjectsApi(api_client),
        "leases": client.CoordinationV1Api(api_client),
    }


# -- 1. drift inside a release manifest ----------------------------------------------------


def test_drift_in_argocd_install_manifest_is_shown_by_plan_and_up_diff(converged, plane, kube):
    kube["apps"].patch_namespaced_deployment(
        "argocd-server",
        "argocd",
        {
            "spec": {
                "template": {"spec": {"containers": [{"name": "argocd-server", "image": "evil/argocd:x"}]}}
            }
        },
        field_manager="kubectl-edit",
    )

    plan = mlopsctl(plane.kubeconfig, "plan", "-s", "gitops", "--detailed-exitcode", "--json")
    assert plan.returncode == 2, plan.stderr[-2000:]
    planned = json.loads(plan.stdout)
    diffs = "".join(c["diff"] for c in planned["changes"])
    assert "evil/argocd:x" in diffs and "quay.io/argoproj/argocd" in diffs, diffs
    image = (
        kube["apps"]
        .read_namespaced_deployment("argocd-server", "argocd")
        .spec.template.spec.containers[0]
        .image
    )
    assert image == "evil/argocd:x", "plan changed nothing"

    up = converged.up(["gitops"], diff=True)
    assert up.ok and up.changed == 1, _failures(up)
    assert "evil/argocd:x" in "".join(c.diff for c in up.changes)
    image = (
        kube["apps"]
        .read_namespaced_deployment("argocd-server", "argocd")
        .spec.template.spec.containers[0]
        .image
    )
    assert image.startswith("quay.io/argoproj/argocd")

    again = mlopsctl(plane.kubeconfig, "plan", "-s", "gitops", "--detailed-exitcode", "--json")
    assert again.returncode == 0, again.stdout[-2000:]


# -- 2. one lock per cluster ---------------------------------------------------------------


def test_a_second_run_on_a_locked_cluster_is_refused_with_exit_3(converged, plane, kube):
    from mlops_platform.errors import MlopsError
    from mlops_platform.lock import NAME, NAMESPACE, ClusterLock

    with ClusterLock(Path(plane.kubeconfig), "up", holder="alice@ops pid 1: mlopsctl up"):
        lease = kube["leases"].read_namespaced_lease(NAME, NAMESPACE)
        assert lease.spec.holder_identity == "alice@ops pid 1: mlopsctl up" and lease.spec.acquire_time
        with pytest.raises(MlopsError, match="alice@ops pid 1") as refused:
            converged.rollback("canary")
        assert refused.value.exit_code == 3
        cli = mlopsctl(plane.kubeconfig, "promote", "staging", "canary")
        assert cli.returncode == 3 and "busy" in cli.stderr and "Traceback" not in cli.stderr, cli.stderr
        assert len([line for line in cli.stderr.splitlines() if line.startswith("error:")]) == 1
    assert not [x for x in kube["leases"].list_namespaced_lease(NAMESPACE).items if x.metadata.name == NAME]


# -- 3. a deleted generated key is an error, not a new value -------------------------------


def test_a_deleted_generated_key_fails_naming_secret_key_and_recovery(converged, kube):
    secret = kube["core"].read_namespaced_secret("argocd-admin-credentials", "argocd")
    kube["core"].patch_namespaced_secret(
        "argocd-admin-credentials", "argocd", [{"op": "remove", "path": "/data/password"}]
    )
    try:
        result = converged.up(["gitops"])
        assert not result.ok
        message = _failures(result)
        assert "argocd/argocd-admin-credentials" in message and "'password'" in message, message
        assert "regenerate" in message and "Restore" in message
        assert (
            "password" not in kube["core"].read_namespaced_secret("argocd-admin-credentials", "argocd").data
        )
    finally:
        kube["core"].patch_namespaced_secret(
            "argocd-admin-credentials", "argocd", {"data": {"password": secret.data["password"]}}
        )
    assert converged.up(["gitops"]).ok


# -- 4. an interrupted promotion rolls back, is recorded, and a re-run completes it -------


def _app_version(kube, env):
    app = kube["custom"].get_namespaced_custom_object(
        "argoproj.io", "v1alpha1", "argocd", "applications", f"model-service-{env}"
    )
    params = {p["name"]: p["value"] for p in app["spec"]["source"].get("helm", {}).get("parameters", [])}
    return params.get("model.version")


def _history(kube):
    cm = kube["core"].read_namespaced_config_map("mlops-promotion-history", "argocd")
    return json.loads(cm.data["history.json"])


def test_ctrl_c_during_a_promotion_rolls_back_records_and_a_rerun_completes(converged, kube):
    """On the real ArgoCD: the cancel lands as soon as the new version is declared, before
    ArgoCD has synced it and KWOK's pods are ready (seconds), so the promotion is mid-wait."""
    first = converged.promote(None, "staging", version=3, image_tag="3")
    assert first.ok, _failures(first)
    cancel = threading.Event()

    def watch():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and _app_version(kube, "staging") != "4":
            time.sleep(0.2)
        cancel.set()

    threading.Thread(target=watch, daemon=True).start()
    interrupted = converged.promote(None, "staging", version=4, image_tag="4", cancel=cancel)
    assert interrupted.status == "canceled"
    assert _app_version(kube, "staging") == "3", "the interrupted promotion was not rolled back"
    last = _history(kube)[-1]
    assert (last["version"], last["result"]) == ("4", "interrupted"), last
    assert "SIGTERM" in last["message"] or "SIGINT" in last["message"]

    again = converged.promote(None, "staging", version=4, image_tag="4")
    assert again.ok, _failures(again)
    assert _app_version(kube, "staging") == "4"
    assert (_history(kube)[-1]["version"], _history(kube)[-1]["result"]) == ("4", "succeeded")


# -- 5 and 8. bad values are refused before anything changes, with exit code 2 -------------


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        (
            {"environments_promotion_wait_timeout": -1},
            "environments_promotion_wait_timeout: -1 is not allowed",
        ),
        ({"environments_promotion_history_size": 0}, "environments_promotion_history_size: 0 is not allowed"),
        (
            {"environments_list": [{"name": "staging", "replicas": -3}]},
            "environments_list[0].replicas: -3 is not",
        ),
    ],
)
def test_bad_values_fail_before_any_change_with_exit_2(converged, kube, extra, field):
    # The spec itself: ArgoCD's controller keeps writing the status, and the Application CRD
    # has no status subresource, so every status write counts a new generation too.
    def version():
        return kube["custom"].get_namespaced_custom_object(
            "argoproj.io", "v1alpha1", "argocd", "applications", "model-service-staging"
        )["spec"]

    before = version()
    result = converged.up(["environments"], extra_vars=extra)
    assert result.exit_code == 2, _failures(result)
    assert field in _failures(result)
    assert before == version()


def test_bad_value_from_the_cli_exits_2_naming_the_field(converged, plane):
    cli = mlopsctl(
        plane.kubeconfig, "up", "-s", "environments", "-e", "environments_promotion_wait_timeout=-1", "--json"
    )
    assert cli.returncode == 2, cli.stdout[-2000:]
    messages = [f["message"] for f in json.loads(cli.stdout)["failures"]]
    assert any("environments_promotion_wait_timeout: '-1' is not allowed" in m for m in messages), messages


def test_a_refused_promotion_exits_2(converged, plane):
    cli = mlopsctl(plane.kubeconfig, "promote", "staging", "production")
    assert cli.returncode == 2, cli.stdout[-2000:]
    assert "skip" in cli.stdout


# -- 6. no secret material and no credential from the environment in the artifacts -------


def test_no_bcrypt_hash_generated_value_or_environment_credential_in_artifacts(converged, kube):
    from mlops_platform.api import Platform

    marker = "os-password-that-must-not-leak-8f3a"
    loud = Platform(converged.root, converged.inventory, env={**converged.env, "OS_PASSWORD": marker})
    result = loud.up(["gitops"], diff=True, verbosity=3)
    assert result.ok, _failures(result)
    argocd_secret = kube["core"].read_namespaced_secret("argocd-secret", "argocd").data
    bcrypt_hash = base64.b64decode(argocd_secret["admin.password"]).decode()
    password = base64.b64decode(
        kube["core"].read_namespaced_secret("argocd-admin-credentials", "argocd").data["password"]
    ).decode()
    leaks = []
    for path in Path(result.artifacts).rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            leaks += [
                f"{path.name}: {what}"
                for what, value in (
                    ("OS_PASSWORD", marker),
                    ("bcrypt hash", bcrypt_hash),
                    ("password", password),
                    ("bcrypt hash (base64)", argocd_secret["admin.password"]),
                )
                if value in text
            ]
    assert not leaks, leaks
    assert "<redacted>" in (Path(result.artifacts) / "command").read_text()


# -- 7. one clear line, never a traceback ---------------------------------------------------


def test_api_server_down_is_one_clear_line(converged, tmp_path):
    import yaml

    config = yaml.safe_load(Path(converged.kubeconfig()).read_text())
    config["clusters"][0]["cluster"]["server"] = "https://127.0.0.1:9"  # nothing listens there
    dead = tmp_path / "dead-kubeconfig"
    dead.write_text(yaml.safe_dump(config))
    cli = mlopsctl(dead, "up", "-s", "gitops")
    assert cli.returncode == 1
    assert "Traceback" not in cli.stdout + cli.stderr and "MODULE FAILURE" not in cli.stdout
    failed = [line for line in cli.stdout.splitlines() if "cannot reach the API server" in line]
    assert failed, cli.stdout[-3000:]


def test_missing_kubeconfig_is_one_clear_line(converged, tmp_path):
    cli = mlopsctl(tmp_path / "nope", "status")
    assert cli.returncode in (1, 2)
    assert "Traceback" not in cli.stdout + cli.stderr
    assert "does not" in cli.stdout + cli.stderr and "exist" in cli.stdout + cli.stderr
    cli = mlopsctl(tmp_path / "nope", "up", "-s", "gitops", "--json")
    assert cli.returncode in (1, 2) and "Traceback" not in cli.stdout + cli.stderr
    messages = [f["message"] for f in json.loads(cli.stdout)["failures"]]
    assert messages and all(len(m.splitlines()) == 1 and "kubeconfig" in m for m in messages), messages
