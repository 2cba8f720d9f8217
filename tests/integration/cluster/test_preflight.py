# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""Bad inputs of the cluster stage: each fails with a clear error and changes nothing.

Runs the real roles with ansible-playbook against hosts on this machine (local
connection): the checks under test are read-only and run before any change, and
the recap must show changed=0. Kubespray is the real collection, installed from the
fixture by `scripts/kubespray.sh fixture` (its checks are in test_kubespray.py).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
VERSION = re.search(r"^KUBESPRAY_VERSION=(.+)$", (ROOT / "versions.env").read_text(), re.M).group(1)
KUBESPRAY = ROOT / ".cache" / f"kubespray-{VERSION}" / "collections"
COLLECTIONS = ROOT / ".cache" / "collections"

PREFLIGHT_PLAY = [
    {
        "name": "Kubespray preflight",
        "hosts": "k8s_cluster",
        "gather_facts": False,
        "roles": [{"role": "cluster_preflight"}],
    }
]
NODE_PREP_PLAY = [
    {
        "name": "Node preparation preflight",
        "hosts": "k8s_cluster",
        "gather_facts": False,
        "tasks": [
            {
                "name": "Run the read-only preflight of node_prep",
                "ansible.builtin.include_role": {"name": "node_prep", "tasks_from": "preflight"},
            }
        ],
    }
]
GOOD_VARS = {
    "mlops_kubernetes_version": "1.35.1",
    "mlops_pod_cidr": "10.233.64.0/18",
    "mlops_service_cidr": "10.233.0.0/18",
}


def inventory(groups: dict[str, list[str]], host_vars: dict | None = None, **all_vars) -> dict:
    hosts = sorted({h for members in groups.values() for h in members})
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    return {
        "all": {
            "vars": {**GOOD_VARS, **all_vars},
            "hosts": {h: {**local, **(host_vars or {}).get(h, {})} for h in hosts},
            "children": {
                "k8s_cluster": {"hosts": {h: None for h in hosts}},
                **{g: {"hosts": {h: None for h in members}} for g, members in groups.items()},
            },
        }
    }


def run(tmp_path: Path, play: list, inv: dict, *, kubespray: bool = True) -> tuple[int, str]:
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play, sort_keys=False))
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(inv, sort_keys=False))
    paths = ([str(KUBESPRAY)] if kubespray else []) + [str(COLLECTIONS)]
    env = {
        **os.environ,
        "PATH": f"{ROOT / '.cache' / 'venv' / 'bin'}:{os.environ.get('PATH', '')}",
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": ":".join(paths),
        "ANSIBLE_ROLES_PATH": str(ROOT / "roles"),
        "ANSIBLE_CALLBACK_RESULT_FORMAT": "json",  # one message per line
        "ANSIBLE_CACHE_PLUGIN": "memory",
        "ANSIBLE_NOCOLOR": "1",
    }
    result = subprocess.run(
        [str(ROOT / ".cache" / "venv" / "bin" / "ansible-playbook"), "-i", "hosts.yml", "play.yml"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    # JSON results keep each message on one line; unescape its quotes for matching.
    return result.returncode, (result.stdout + result.stderr).replace('\\"', '"')


def changed_counts(output: str) -> list[int]:
    return [int(n) for n in re.findall(r"changed=(\d+)", output)]


def test_valid_inventory_passes(tmp_path):
    one_node = {"kube_control_plane": ["cp1"], "etcd": ["cp1"], "kube_node": ["cp1"]}
    rc, out = run(tmp_path, PREFLIGHT_PLAY, inventory(one_node))
    assert rc == 0, out
    assert "inventory and variables OK for 1 hosts" in out
    assert changed_counts(out) == [0]


@pytest.mark.parametrize(
    ("groups", "extra", "expected"),
    [
        pytest.param(
            {"kube_control_plane": ["cp1"], "etcd": ["cp1", "w1"], "kube_node": ["w1"]},
            {},
            "etcd needs an odd number of members for quorum, got 2 (cp1, w1)",
            id="even-etcd-count",
        ),
        pytest.param(
            # Three hosts on this one machine all report its hostname.
            {"kube_control_plane": ["cp1"], "etcd": ["cp1", "w1", "w2"], "kube_node": ["w1", "w2"]},
            {},
            "duplicate hostname",
            id="duplicate-hostnames",
        ),
        pytest.param(
            {"kube_control_plane": ["cp1"], "etcd": ["cp1"], "kube_node": ["cp1"]},
            {"mlops_kubernetes_version": "v1.35"},
            'mlops_kubernetes_version must look like 1.35.1 (major.minor.patch, no leading "v"), got "v1.35"',
            id="kubernetes-version-format",
        ),
        pytest.param(
            {"kube_control_plane": ["CP_1"], "etcd": ["CP_1"], "kube_node": ["CP_1"]},
            {},
            'hostname "CP_1" is not a valid Kubernetes node name',
            id="bad-node-name",
        ),
        pytest.param(
            {"kube_control_plane": ["cp1"], "etcd": ["cp1"], "kube_node": ["cp1"]},
            {"mlops_service_cidr": "10.233.64.0/24"},
            "mlops_pod_cidr 10.233.64.0/18 and mlops_service_cidr 10.233.64.0/24 overlap",
            id="overlapping-cidrs",
        ),
        pytest.param(
            {"kube_control_plane": [], "etcd": ["cp1"], "kube_node": ["cp1"]},
            {},
            "group kube_control_plane is empty",
            id="no-control-plane",
        ),
        pytest.param(
            {"kube_control_plane": ["cp1"], "etcd": ["cp1"], "kube_node": ["cp1"]},
            {"argocd_version": "v3.1.8", "argocd_namespace": "argocd"},
            "argocd_namespace was renamed to gitops_namespace (Kubespray defines its own argocd_* variables)",
            id="old-gitops-variable-name",
        ),
    ],
)
def test_bad_inventory_fails_before_any_change(tmp_path, groups, extra, expected):
    rc, out = run(tmp_path, PREFLIGHT_PLAY, inventory(groups, **extra))
    assert rc != 0
    assert "Kubespray preflight found" in out
    assert expected in out, out
    assert set(changed_counts(out)) == {0}


def test_kubespray_not_installed_names_the_install_command(tmp_path):
    inv = inventory({"kube_control_plane": ["cp1"], "etcd": ["cp1"], "kube_node": ["cp1"]})
    rc, out = run(tmp_path, PREFLIGHT_PLAY, inv, kubespray=False)
    assert rc != 0
    assert "Kubespray is not installed" in out
    assert "make kubespray" in out
    assert "ansible-galaxy collection install -r requirements.yml -p .cache/collections" in out
    assert set(changed_counts(out)) == {0}


@pytest.mark.parametrize(
    ("host_vars", "expected"),
    [
        pytest.param(
            {"node_prep_data_mount": "srv/mlops-data"},
            "mlops_data_mount (node_prep_data_mount) must be an absolute path other than a system"
            ' directory, got "srv/mlops-data"',
            id="mount-path-not-absolute",
        ),
        pytest.param(
            {"node_prep_data_mount": "/etc"},
            'must be an absolute path other than a system directory, got "/etc"',
            id="mount-path-system-dir",
        ),
        pytest.param(
            {
                "mlops_data_volume": {"id": "5e4d3c2b-1a09-4f8e-8d7c-6b5a4f3e2d1c", "device": "/dev/vdz"},
                "node_prep_data_device_timeout": 2,
            },
            "data volume 5e4d3c2b-1a09-4f8e-8d7c-6b5a4f3e2d1c is not attached to node1",
            id="volume-not-attached",
        ),
        pytest.param(
            {"mlops_data_volume": {"id": "../../sda"}},
            'mlops_data_volume.id on node1 must be an OpenStack volume ID, got "../../sda"',
            id="volume-id-malformed",
        ),
    ],
)
def test_node_prep_bad_input_fails_before_any_change(tmp_path, host_vars, expected):
    inv = inventory({"kube_node": ["node1"]}, host_vars={"node1": host_vars})
    rc, out = run(tmp_path, NODE_PREP_PLAY, inv)
    assert rc != 0
    assert expected in out, out
    assert set(changed_counts(out)) == {0}
