# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""Reading what an Application runs and reports, and the patch that promotes it."""

from __future__ import annotations

import pytest
from ansible_collections.mlops.platform.plugins.module_utils.promotion import application as appl


def app(values=None, params=None, status=None, automated=True):
    helm = {}
    if values is not None:
        helm["valuesObject"] = values
    if params is not None:
        helm["parameters"] = params
    spec = {"source": {"repoURL": "https://g/r.git", "path": "charts/model-service", "helm": helm}}
    if automated:
        spec["syncPolicy"] = {"automated": {}}
    return {"metadata": {"name": "model-service-canary"}, "spec": spec, "status": status or {}}


VALUES = {"image": {"tag": "1"}, "model": {"version": 1}}
PARAMS = [{"name": "image.tag", "value": "2"}, {"name": "model.version", "value": "2"}]


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (app(VALUES), ("1", "1")),
        (app(VALUES, PARAMS), ("2", "2")),
        (app(None, PARAMS), ("2", "2")),
        (app({}), (None, None)),
        (app(VALUES, [{"name": "image.tag", "value": "5"}]), ("1", "5")),
    ],
)
def test_deployed_prefers_parameters_over_values(obj, expected):
    assert appl.deployed(appl.source_of(obj)) == expected


def test_with_version_keeps_other_parameters():
    out = appl.with_version([{"name": "replicaCount", "value": "3"}] + PARAMS, "7", "7b")
    assert out == [
        {"name": "replicaCount", "value": "3"},
        {"name": "image.tag", "value": "7b", "forceString": True},
        {"name": "model.version", "value": "7", "forceString": True},
    ]


def test_deploy_patch_requests_refresh_and_sync_only_without_automation():
    auto = appl.deploy_patch(app(VALUES), PARAMS)
    assert auto["metadata"]["annotations"] == {"argocd.argoproj.io/refresh": "normal"}
    assert auto["spec"]["source"]["helm"]["parameters"] == PARAMS
    assert "operation" not in auto
    manual = appl.deploy_patch(app(VALUES, automated=False), None)
    assert manual["operation"]["sync"] == {"syncStrategy": {"hook": {}}}
    assert manual["spec"]["source"]["helm"]["parameters"] is None  # merge patch: removes them
    disabled = app(VALUES)
    disabled["spec"]["syncPolicy"]["automated"] = {"enabled": False}
    assert "operation" in appl.deploy_patch(disabled, PARAMS)


def status(source, sync="Synced", health="Healthy", phase=None):
    out = {"sync": {"status": sync, "comparedTo": {"source": source}}, "health": {"status": health}}
    if phase:
        out["operationState"] = {"phase": phase, "message": "one or more objects failed to apply"}
    return out


NEW = {"helm": {"parameters": PARAMS}}
OLD = {"helm": {"valuesObject": VALUES}}


@pytest.mark.parametrize(
    ("st", "expected"),
    [
        (status(NEW), "healthy"),
        (status(OLD), "pending"),  # the controller has not compared the new source yet
        (status(NEW, health="Progressing"), "pending"),
        (status(NEW, sync="OutOfSync"), "pending"),
        (status(NEW, health="Degraded"), "failed"),
        (status(NEW, health="Progressing", phase="Failed"), "failed"),
        ({}, "pending"),
    ],
)
def test_evaluate(st, expected):
    assert appl.evaluate(app(VALUES, PARAMS, st), "2", "2") == expected


def test_runs_healthy_needs_the_declared_version_observed():
    assert appl.runs_healthy(app(VALUES, PARAMS, status(NEW)))
    assert not appl.runs_healthy(app(VALUES, PARAMS, status(OLD)))


def test_failure_detail_names_the_unhealthy_resources():
    st = status(NEW, health="Degraded", phase="Failed")
    st["health"]["message"] = "1 of 2 pods crash"
    st["resources"] = [
        {
            "kind": "Deployment",
            "namespace": "ms-canary",
            "name": "ms",
            "health": {"status": "Degraded", "message": "CrashLoopBackOff"},
        },
        {"kind": "Service", "namespace": "ms-canary", "name": "ms", "health": {"status": "Healthy"}},
    ]
    text = appl.failure_detail(app(VALUES, PARAMS, st))
    assert text.startswith("sync Synced, health Degraded; 1 of 2 pods crash")
    assert "sync operation Failed: one or more objects failed to apply" in text
    assert "Deployment ms-canary/ms Degraded (CrashLoopBackOff)" in text
    assert "Service" not in text
