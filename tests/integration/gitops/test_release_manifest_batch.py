"""Batched apply on the real API server: one LIST per collection, no wait for Established CRDs.

And release_manifest's inline objects through ansible-playbook: a second run is unchanged,
check mode writes nothing, --diff shows the change, Secret values stay hidden.
"""

from __future__ import annotations

import json

import pytest
from ansible_collections.mlops.platform.plugins.module_utils.kube import KubeClient, apply, get, service
from ansible_collections.mlops.platform.plugins.module_utils.kube.manifest import apply_release

pytestmark = pytest.mark.controlplane

WORKFLOW_CRDS = [
    "argo-workflows-argoproj.io_workflows.yaml",
    "argo-workflows-argoproj.io_workflowtemplates.yaml",
    "argo-workflows-argoproj.io_cronworkflows.yaml",
]


def cms(ns, count, **data):
    return [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": f"c{i}", "namespace": ns},
            "data": data,
        }
        for i in range(count)
    ]


def test_an_unchanged_collection_costs_one_list(kubeconfig, namespace):
    client = KubeClient.from_params({"kubeconfig": kubeconfig})
    first = apply(client, cms(namespace, 5, a="1"))
    assert [r.action for r in first] == ["created"] * 5
    before = client.requests
    again = apply(client, cms(namespace, 5, a="1"))
    assert [r.changed for r in again] == [False] * 5
    assert client.requests - before == 1, "one LIST for five objects, no PATCH"

    desired = cms(namespace, 5, a="1")
    desired[3]["data"] = {"a": "2"}
    before = client.requests
    results = apply(client, desired)
    assert [r.action for r in results] == ["unchanged"] * 3 + ["updated", "unchanged"]
    assert results[3].diff["before"]["data"] == {"a": "1"} and results[3].diff["after"]["data"] == {"a": "2"}
    assert client.requests - before == 2, "one LIST, one PATCH for the changed object"


def test_a_list_is_paged(kubeconfig, namespace, monkeypatch):
    client = KubeClient.from_params({"kubeconfig": kubeconfig})
    apply(client, cms(namespace, 5, a="1"))
    monkeypatch.setattr(service, "LIST_PAGE", 2)
    before = client.requests
    assert not any(r.changed for r in apply(client, cms(namespace, 5, a="1")))
    assert client.requests - before == 3, "five objects in pages of two"


def test_check_mode_in_a_namespace_to_be_created_writes_nothing(kube):
    objects = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "batch-not-yet"}}] + cms(
        "batch-not-yet", 3, a="1"
    )
    results = apply(kube, objects, check_mode=True)
    assert [r.action for r in results] == ["created"] * 4
    assert get(kube, "v1", "Namespace", "batch-not-yet") is None
    assert get(kube, "v1", "ConfigMap", "c0", "batch-not-yet") is None


def test_crds_read_back_established_need_no_wait(kubeconfig, shared_fixtures, namespace):
    params = {
        "src": [str(shared_fixtures / "crds" / name) for name in WORKFLOW_CRDS],
        "definition": [],
        "namespace": namespace,
        "create_namespace": True,
        "field_manager": "mlops-platform-tests-batch",
        "wait_timeout": 60.0,
    }
    apply_release(KubeClient.from_params({"kubeconfig": kubeconfig}), params, check_mode=False)
    client = KubeClient.from_params({"kubeconfig": kubeconfig})
    result = apply_release(client, params, check_mode=False)
    assert result["changed"] is False
    # the namespace's GET and one LIST of the CRDs: no GET per CRD, no wait
    assert result["api_requests"] == 2


def test_release_manifest_inline_objects(play, kube, namespace):
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s", "namespace": namespace},
        "stringData": {"token": "do-not-show-me"},
    }
    args = {"field_manager": "mlops-platform", "definition": [*cms(namespace, 2, a="1"), secret]}

    r = play.one("release_manifest", args, check=True)
    assert not r.get("failed"), r.get("msg")
    assert r["changed"] is True and r["counts"] == {"created": 3}
    assert get(kube, "v1", "ConfigMap", "c0", namespace) is None, "check mode must write nothing"

    r = play.one("release_manifest", args)
    assert r["changed"] is True and r["counts"] == {"created": 3}
    r = play.one("release_manifest", args)
    assert r["changed"] is False and r["counts"] == {"unchanged": 3}

    changed = {
        "field_manager": "mlops-platform",
        "definition": [*cms(namespace, 2, a="2"), {**secret, "stringData": {"token": "new-value"}}],
    }
    r = play.one("release_manifest", changed, check=True, diff=True)
    assert r["changed"] is True
    assert get(kube, "v1", "ConfigMap", "c0", namespace)["data"] == {"a": "1"}
    shown = {d["before_header"]: d for d in r["diff"]}
    assert shown[f"ConfigMap {namespace}/c0"]["after"]["data"] == {"a": "2"}
    # (the task's own arguments show like any option: a task with secret values sets no_log)
    shown_values = json.dumps([r["diff"], r["objects"]])
    assert "do-not-show-me" not in shown_values and "new-value" not in shown_values

    r = play.one("release_manifest", {"definition": [{"kind": "ConfigMap", "metadata": {"name": "x"}}]})
    assert r["failed"] and "definition[0]" in r["msg"] and "apiVersion" in r["msg"]


def test_release_manifest_state_absent_deletes_what_exists(play, kube, namespace):
    objects = cms(namespace, 2, a="1")
    play.one("release_manifest", {"definition": objects})
    absent = {"definition": [*objects, *cms(namespace + "-none", 1)], "state": "absent"}

    r = play.one("release_manifest", absent, check=True)
    assert r["changed"] is True and r["counts"] == {"deleted": 2, "absent": 1}
    assert get(kube, "v1", "ConfigMap", "c0", namespace) is not None, "check mode deletes nothing"

    r = play.one("release_manifest", absent)
    assert r["changed"] is True and r["counts"] == {"deleted": 2, "absent": 1}
    assert get(kube, "v1", "ConfigMap", "c0", namespace) is None
    r = play.one("release_manifest", absent)
    assert r["changed"] is False and r["counts"] == {"absent": 3}
