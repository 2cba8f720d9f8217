"""The simulated nodes' shape and the failing-image Stage (pure functions of mlops_platform.kwok)."""

from __future__ import annotations

from pathlib import Path

import yaml

from mlops_platform import kwok
from mlops_platform.controlplane import local_nodes

ROOT = Path(__file__).resolve().parents[3]


def test_nodes_follow_the_inventory_shape():
    nodes = {n["metadata"]["name"]: n for n in kwok.node_objects(local_nodes())}
    assert set(nodes) == {"cp1", "w1", "w2"}
    cp1 = nodes["cp1"]
    assert cp1["spec"]["taints"] == [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]
    assert "node-role.kubernetes.io/control-plane" in cp1["metadata"]["labels"]
    # the first control plane carries the data volume, as infra_nodes says
    assert cp1["metadata"]["labels"][kwok.DATA_VOLUME_LABEL] == "true"
    assert kwok.DATA_VOLUME_LABEL not in nodes["w1"]["metadata"]["labels"]
    assert nodes["w1"]["spec"]["taints"] == []
    assert nodes["w1"]["status"]["allocatable"]["memory"] == "16Gi"
    assert all(n["metadata"]["annotations"] == kwok.MANAGED_ANNOTATION for n in nodes.values())


def test_local_nodes_match_the_openstack_inventory_names_and_roles():
    openstack = yaml.safe_load((ROOT / "inventory/openstack/group_vars/all/platform.yml").read_text())
    local = local_nodes()
    assert {n: sorted(s["roles"]) for n, s in local.items()} == {
        n: sorted(s["roles"]) for n, s in openstack["infra_nodes"].items()
    }


def test_fail_stage_matches_only_that_image_where_pod_ready_does():
    ready = {
        "metadata": {"name": "pod-ready"},
        "spec": {
            "selector": {
                "matchExpressions": [{"key": ".status.phase", "operator": "In", "values": ["Pending"]}]
            }
        },
    }
    stage = kwok.fail_stage("registry.local/mlops/model-service:3", ready)
    exprs = stage["spec"]["selector"]["matchExpressions"]
    assert exprs[0] == {"key": ".status.phase", "operator": "In", "values": ["Pending"]}
    assert exprs[-1] == {
        "key": ".spec.containers.[].image",
        "operator": "In",
        "values": ["registry.local/mlops/model-service:3"],
    }
    assert ready["spec"]["selector"]["matchExpressions"] == exprs[:1]  # the original is left alone
    assert stage["metadata"]["name"].startswith(kwok.FAIL_STAGE_PREFIX)
    assert stage["spec"]["weight"] == kwok.FAIL_STAGE_WEIGHT
    assert "CrashLoopBackOff" in stage["spec"]["next"]["statusTemplate"]
