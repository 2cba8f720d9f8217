"""environment_promote against the local cluster with the real ArgoCD controller.

On `live_platform` ArgoCD syncs each promotion (the chart fetched from this
repository's Git server) and reports the health KWOK's simulated pods give the
Deployments. The tests on `platform` write the Applications' `.status` themselves
(`FakeArgoCD`), each saying why. The module body is called as the module calls it
(`runner.run(params, check_mode)`); test_playbooks.py runs the real playbooks.
"""

from __future__ import annotations

import json

import pytest
from ansible_collections.mlops.platform.plugins.module_utils.errors import PlatformError
from ansible_collections.mlops.platform.plugins.module_utils.promotion.runner import run as execute
from environments_support import (
    HISTORY,
    FakeArgoCD,
    app_path,
    healthy_status,
    history,
    live_params,
    params,
    read_app,
    running,
    snapshot,
)

pytestmark = pytest.mark.controlplane


def test_promotion_through_every_environment(crds, live_platform):
    platform = live_platform
    first = execute(live_params(platform, source="staging", target="canary"), False)
    second = execute(live_params(platform, source="canary", target="production"), False)
    assert (first["changed"], first["version"], first["image"]) == (True, "2", "2")
    assert (first["previous_version"], first["previous_image"]) == ("1", "1")
    assert second["changed"] and second["version"] == "2"
    assert running(crds, platform, "canary") == ("2", "2")
    assert running(crds, platform, "production") == ("2", "2")
    # ArgoCD deployed it: the Deployment in canary's namespace runs image 2, all replicas ready
    (deployment,) = crds.request("GET", f"/apis/apps/v1/namespaces/{platform}-canary/deployments")["items"]
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":2")
    assert deployment["status"].get("readyReplicas") == deployment["spec"]["replicas"]
    # the Helm parameters carry the version; the role's values are left alone
    canary = read_app(crds, platform, "canary")
    assert canary["spec"]["source"]["helm"]["valuesObject"]["image"]["tag"] == "1"
    assert {p["name"]: p["value"] for p in canary["spec"]["source"]["helm"]["parameters"]} == {
        "image.tag": "2",
        "model.version": "2",
    }
    recs = history(crds, platform)
    assert [(r["from"], r["to"], r["version"], r["previous_version"], r["result"]) for r in recs] == [
        ("staging", "canary", "2", "1", "succeeded"),
        ("canary", "production", "2", "1", "succeeded"),
    ]
    assert second["history"] == recs


def test_second_run_changes_nothing(crds, live_platform):
    platform = live_platform
    execute(live_params(platform, source="staging", target="canary"), False)
    before = read_app(crds, platform, "canary")["spec"]
    again = execute(live_params(platform, source="staging", target="canary"), False)
    assert again["changed"] is False and again["deploy_changed"] is False
    # the spec is untouched (the controller keeps writing .status; with no status
    # subresource on the Application CRD, that counts generations too)
    assert read_app(crds, platform, "canary")["spec"] == before
    assert len(history(crds, platform)) == 1


def test_skipping_an_environment_is_refused(crds, platform):
    """`platform`: nothing may be written, and a live controller writes .status all the time."""
    before = snapshot(crds, platform)
    with pytest.raises(PlatformError) as e:
        execute(params(platform, source="staging", target="production"), False)
    assert "would skip canary" in str(e.value)
    assert "staging -> canary -> production" in str(e.value)
    assert snapshot(crds, platform) == before


def test_check_mode_changes_nothing(crds, platform):
    """`platform`: nothing may be written, and a live controller writes .status all the time."""
    before = snapshot(crds, platform)
    out = execute(params(platform, source="staging", target="canary"), True)
    assert out["changed"] is True and out["deploy_changed"] is True
    assert out["diff"]["before"]["version"] == "1" and out["diff"]["after"]["version"] == "2"
    assert snapshot(crds, platform) == before
    assert before["history"] is None


def test_failing_pods_are_rolled_back(crds, live_platform, failing_image):
    """Version 2's pods crash-loop in canary: ArgoCD never reports it Healthy, the
    promotion gives up after its timeout and puts version 1 back, which ArgoCD syncs."""
    platform = live_platform
    failing_image("2")
    with pytest.raises(PlatformError) as e:
        execute(live_params(platform, source="staging", target="canary", wait_timeout=25.0), False)
    msg = str(e.value)
    assert "did not become Synced and Healthy within 25s on version 2" in msg
    assert "Progressing" in msg
    assert "rolled back to version 1 (image 1), Synced and Healthy again" in msg
    assert running(crds, platform, "canary") == ("1", "1")
    (rec,) = history(crds, platform)
    assert (rec["version"], rec["previous_version"], rec["result"]) == ("2", "1", "rolled-back")


def test_degraded_target_is_rolled_back(crds, platform):
    """`platform`: ArgoCD reports a Deployment Degraded only after its progress deadline
    (10 minutes); the stand-in reports it at once, to test the `failed` path."""
    with FakeArgoCD(crds, platform) as argocd:
        argocd.bad_images.add("2")
        with pytest.raises(PlatformError) as e:
            execute(params(platform, source="staging", target="canary"), False)
    msg = str(e.value)
    assert "turned unhealthy on version 2" in msg
    assert "Degraded" in msg and "Back-off restarting failed container" in msg
    assert "rolled back to version 1 (image 1)" in msg
    assert running(crds, platform, "canary") == ("1", "1")
    assert argocd.versions_seen == [("model-service-canary", "2"), ("model-service-canary", "1")]
    (rec,) = history(crds, platform)
    assert (rec["version"], rec["previous_version"], rec["result"]) == ("2", "1", "rolled-back")
    assert "Degraded" in rec["message"]


def test_version_not_healthy_in_source_is_refused_unless_forced(crds, platform):
    """`platform`: staging must be Degraded from the start, which ArgoCD reports only
    after a Deployment's progress deadline (10 minutes)."""
    app = read_app(crds, platform, "staging")
    app["status"] = healthy_status(app["spec"]["source"], "Degraded", "readiness probe failed")
    crds.request("PUT", app_path(platform, "model-service-staging"), body=app)
    before = snapshot(crds, platform)
    with pytest.raises(PlatformError) as e:
        execute(params(platform, source="staging", target="canary"), False)
    assert "version 2 (image 2) has not run healthy in staging" in str(e.value)
    assert "health Degraded" in str(e.value) and "force: true" in str(e.value)
    assert snapshot(crds, platform) == before
    with FakeArgoCD(crds, platform):
        forced = execute(params(platform, source="staging", target="canary", force=True), False)
    assert forced["changed"] and running(crds, platform, "canary") == ("2", "2")
    assert any("force" in w for w in forced["warnings"])


def test_version_that_ran_healthy_before_is_taken_from_history(crds, live_platform):
    platform = live_platform
    execute(live_params(platform, source="staging", target="canary"), False)  # canary: 2
    execute(live_params(platform, target="staging", version="3", image_tag="3"), False)  # staging: 3
    # version 2 no longer runs in staging, but the history shows it ran there healthy
    out = execute(live_params(platform, source="canary", target="production", version="2"), False)
    with pytest.raises(PlatformError) as e:
        execute(live_params(platform, source="canary", target="production", version="3"), False)
    assert out["changed"] and out["image"] == "2"
    assert "version 3 is not what canary runs (version 2)" in str(e.value)


def test_rollback_returns_to_the_previous_version(crds, live_platform):
    platform = live_platform
    execute(live_params(platform, source="staging", target="canary"), False)
    back = execute(live_params(platform, operation="rollback", target="canary"), False)
    again = execute(live_params(platform, operation="rollback", target="canary"), False)
    assert back["changed"] and (back["version"], back["previous_version"]) == ("1", "2")
    assert running(crds, platform, "canary") == ("1", "1")
    assert again["changed"] is False
    recs = history(crds, platform)
    assert [(r["operation"], r["version"], r["result"]) for r in recs] == [
        ("promote", "2", "succeeded"),
        ("rollback", "1", "succeeded"),
    ]


def test_rollback_without_history_is_an_error(crds, platform):
    """`platform`: nothing may be written, and a live controller writes .status all the time."""
    before = snapshot(crds, platform)
    with pytest.raises(PlatformError, match="nothing to roll back in canary"):
        execute(params(platform, operation="rollback", target="canary"), False)
    assert snapshot(crds, platform) == before


def test_history_is_bounded_and_read_back(crds, live_platform):
    platform = live_platform
    for v in ("3", "4", "5"):
        execute(live_params(platform, target="staging", version=v, image_tag=v, history_size=2), False)
    read = execute(params(platform, operation="history", target="staging"), False)
    assert read["changed"] is False
    assert [r["version"] for r in read["history"]] == ["4", "5"]
    assert [r["previous_version"] for r in read["history"]] == ["3", "4"]
    assert execute(params(platform, operation="history", target="canary"), False)["history"] == []


@pytest.mark.parametrize("garbage", ["{not json", json.dumps({"a": 1}), json.dumps([{"to": 3}, "x"])])
def test_garbage_history_is_ignored_with_a_warning(crds, platform, garbage):
    """`platform`: what is tested is reading the history; three live syncs would add a minute."""
    crds.request(
        "POST",
        f"/api/v1/namespaces/{platform}/configmaps",
        body={"metadata": {"name": HISTORY}, "data": {"history.json": garbage}},
    )
    with FakeArgoCD(crds, platform):
        out = execute(params(platform, source="staging", target="canary"), False)
    assert out["changed"]
    assert any("ignored" in w and HISTORY in w for w in out["warnings"])
    recs = history(crds, platform)
    assert [(r["to"], r["version"]) for r in recs] == [("canary", "2")]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            {"source": "staging", "target": "qa"},
            "unknown target environment 'qa': the environments are staging -> canary -> production",
        ),
        ({"source": "dev", "target": "canary"}, "unknown source environment 'dev'"),
        (
            {"source": "staging", "target": "canary", "version": "latest"},
            "version 'latest' is not an MLflow model version",
        ),
        ({"source": "staging", "target": "canary", "version": "-2"}, "must be a positive integer"),
        (
            {"source": "staging", "target": "canary", "image_tag": "v2:bad"},
            "image_tag 'v2:bad' is not a valid",
        ),
        ({"source": "canary", "target": "canary"}, "source and target are both 'canary'"),
        ({"source": "production", "target": "canary"}, "goes backwards"),
        ({"target": "canary"}, "only the first environment ('staging') takes a new version directly"),
        (
            {"source": "staging", "target": "canary", "update_alias": True, "model_name": "m"},
            "mlflow_tracking_uri is missing while update_alias is on",
        ),
        (
            {
                "source": "staging",
                "target": "canary",
                "update_alias": True,
                "mlflow_tracking_uri": "http://127.0.0.1:1",
            },
            "model_name is required when update_alias is on",
        ),
        (
            {"source": "staging", "target": "canary", "environments": ["staging", "canary", "staging"]},
            "appears twice",
        ),
        ({"operation": "rollback", "target": "canary", "version": "2"}, "a rollback takes only target"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(crds, platform, extra, message):
    """`platform`: nothing may be written, and a live controller writes .status all the time."""
    before = snapshot(crds, platform)
    with pytest.raises(PlatformError) as e:
        execute(params(platform, **extra), False)
    assert message in str(e.value)
    assert snapshot(crds, platform) == before


def test_missing_application_names_it(crds, platform):
    """`platform`: only the error message is tested; no controller is needed."""
    crds.request("DELETE", app_path(platform, "model-service-production"))
    with pytest.raises(PlatformError) as e:
        execute(params(platform, source="canary", target="production"), False)
    assert (
        f"Application {platform}/model-service-production of environment 'production' does not exist"
        in str(e.value)
    )
