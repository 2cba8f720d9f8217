"""plugins/module_utils/kube against the real API server: apply, change detection, errors."""

from __future__ import annotations

import pytest
from ansible_collections.mlops.platform.plugins.module_utils.kube import (
    KubeClient,
    KubeError,
    apply,
    delete,
    get,
)

pytestmark = pytest.mark.controlplane


def cm(ns, **data):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": ns}, "data": data}


def test_apply_is_one_get_when_nothing_changed(kubeconfig, namespace):
    client = KubeClient.from_params({"kubeconfig": kubeconfig})
    [created] = apply(client, [cm(namespace, a="1")])
    assert created.action == "created"
    before = client.requests
    [again] = apply(client, [cm(namespace, a="1")])
    assert again.action == "unchanged" and client.requests - before == 1


def test_defaults_and_other_managers_do_not_count(kube, namespace):
    apply(kube, [cm(namespace, a="1")])
    # another manager adds a key: not ours, not a change for us
    kube.request(
        "PATCH",
        kube.path_of(cm(namespace)),
        body={"data": {"other": "x"}},
        content_type="application/merge-patch+json",
        query={"fieldManager": "someone-else"},
    )
    [r] = apply(kube, [cm(namespace, a="1")])
    assert r.changed is False
    # a key we stop setting is removed (we owned it): a change with a diff
    [r] = apply(kube, [cm(namespace, b="2")])
    assert r.changed is True
    assert r.diff["before"]["data"] == {"a": "1"} and r.diff["after"]["data"] == {"b": "2"}
    assert get(kube, "v1", "ConfigMap", "c", namespace)["data"] == {"b": "2", "other": "x"}


def test_check_mode_uses_server_dry_run(kube, namespace):
    [r] = apply(kube, [cm(namespace, a="1")], check_mode=True)
    assert r.action == "created" and get(kube, "v1", "ConfigMap", "c", namespace) is None
    with pytest.raises(KubeError, match="422"):
        apply(
            kube,
            [{**cm(namespace, a="1"), "metadata": {"name": "Bad_Name", "namespace": namespace}}],
            check_mode=True,
        )


def test_conflict_without_force_names_the_other_manager(kube, namespace):
    kube.request(
        "PATCH",
        kube.path_of(cm(namespace)),
        body=cm(namespace, a="theirs"),
        content_type="application/apply-patch+yaml",
        query={"fieldManager": "helm"},
    )
    with pytest.raises(KubeError) as info:
        apply(kube, [cm(namespace, a="ours")], force=False)
    assert info.value.status == 409
    assert "another field manager" in str(info.value) and "helm" in str(info.value)
    [r] = apply(kube, [cm(namespace, a="ours")])  # force takes ownership
    assert r.changed is True


def test_unknown_kind_and_missing_namespace(kube, namespace):
    with pytest.raises(KubeError, match="does not serve example.com/v1"):
        apply(kube, [{"apiVersion": "example.com/v1", "kind": "Thing", "metadata": {"name": "x"}}])
    with pytest.raises(KubeError, match='namespaces "nope-ns" not found. create the namespace first'):
        apply(kube, [cm("nope-ns", a="1")])


def test_delete(kube, namespace):
    apply(kube, [cm(namespace, a="1")])
    [r] = delete(kube, [cm(namespace)], check_mode=True)
    assert r.changed and get(kube, "v1", "ConfigMap", "c", namespace) is not None
    [r] = delete(kube, [cm(namespace)])
    assert r.changed and get(kube, "v1", "ConfigMap", "c", namespace) is None
    [r] = delete(kube, [cm(namespace)])
    assert r.action == "absent" and not r.changed
