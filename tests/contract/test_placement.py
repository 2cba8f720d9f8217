"""Data on the data volume: every stateful pod of the platform runs on the node that carries it.

The nodes are the OpenStack target's as the inventory plugin builds them from recorded
Terraform outputs (3 nodes), labelled by Kubespray's `node_labels` from our
inventory/openstack/group_vars/k8s_cluster/kubespray.yml (templated by Ansible with each
host's variables), the control plane tainted as Kubespray's kubeadm leaves it. The pods are
the rendered ones (and those the operators run for a CloudNativePG Cluster and a Prometheus).
Where each pod may run is the kube-scheduler's answer: schedcheck runs its node filters.
"""

from __future__ import annotations

import json
import subprocess

import pytest
import yaml

from . import references as refs
from .conftest import OPENSTACK_CONFIG, ROOT, count

pytestmark = pytest.mark.controlplane

KUBESPRAY_VARS = ROOT / "inventory/openstack/group_vars/k8s_cluster/kubespray.yml"
OUTPUTS = ROOT / "tests/fixtures/terraform/outputs_3.json"
CONTROL_PLANE_TAINT = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}


def _template(expr: str, variables: dict):
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar

    return Templar(loader=DataLoader(), variables=variables).template(expr)


@pytest.fixture(scope="session")
def cluster():
    """(nodes as the API would list them, data-volume host, Kubespray's local-path settings)."""
    from ansible_collections.mlops.platform.plugins.module_utils.terraform.inventory import build

    inv = build(json.loads(OUTPUTS.read_text()))
    config = yaml.safe_load(OPENSTACK_CONFIG.read_text())
    kubespray = yaml.safe_load(KUBESPRAY_VARS.read_text())
    base = {
        **kubespray,
        "mlops_storage_class": config["mlops_storage_class"],
        "mlops_data_mount": config["mlops_data_mount"],
    }
    nodes, data_host = [], None
    for name, hostvars in sorted(inv.hosts.items()):
        variables = {**base, **hostvars}
        labels = {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux"}
        labels.update({k: str(v) for k, v in (_template("{{ node_labels }}", variables) or {}).items()})
        taints = []
        if name in inv.groups.get("kube_control_plane", []):
            labels["node-role.kubernetes.io/control-plane"] = ""
            if name not in inv.groups.get("kube_node", []):
                taints.append(CONTROL_PLANE_TAINT)
        if "mlops_data_volume" in hostvars:
            data_host = name
        nodes.append(
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {"name": name, "labels": labels},
                "spec": {"taints": taints},
            }
        )
    storage = {
        k: _template("{{ " + k + " }}", base)
        for k in ("local_path_provisioner_storage_class", "local_path_provisioner_claim_root")
    }
    assert data_host, f"no host of {OUTPUTS.name} carries the data volume"
    return nodes, data_host, storage, config


def _schedcheck(nodes: list[dict], pods: list[dict]) -> dict:
    binary = ROOT / ".cache/bin/schedcheck"
    if not binary.exists():
        pytest.fail(f"{binary} is missing: `make test-deps` builds it (scripts/build-go.sh schedcheck)")
    proc = subprocess.run(
        [str(binary)],
        input=json.dumps({"nodes": nodes, "pods": pods}),  # noqa: S603
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _claims_a_volume(shape: refs.PodShape) -> bool:
    return any(v.get("persistentVolumeClaim") for v in shape.spec.get("volumes") or [])


def _binds_host_ports(shape: refs.PodShape) -> bool:
    return any(p.get("hostPort") for c in shape.spec.get("containers") or [] for p in c.get("ports") or [])


def stateful_pods(rendered) -> list[refs.PodShape]:
    """Pods holding data (a PersistentVolumeClaim) or the floating IP's ports (Traefik)."""
    out = []
    for shape in refs.pods(rendered):
        if _claims_a_volume(shape) or _binds_host_ports(shape):
            out.append(shape)
    for obj in rendered.of_kind("StatefulSet"):
        if (obj.body.get("spec") or {}).get("volumeClaimTemplates"):
            out += [s for s in refs.pods(rendered) if s.ref == obj.ref and s not in out]
    return out


@pytest.mark.parametrize("run", ["shipped", "options"])
def test_every_stateful_pod_runs_only_on_the_data_volume_node(platform, cluster, run):
    nodes, data_host, _storage, _config = cluster
    shapes = stateful_pods(platform[run])
    apps = {s.app for s in shapes}
    expected = (
        {"minio", "postgresql", "monitoring", "label-studio", "traefik"}
        if run == "shipped"
        else {"postgresql", "monitoring", "traefik"}
    )
    assert expected <= apps, f"stateful apps found: {sorted(apps)}; expected at least {sorted(expected)}"
    pods = [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": s.ref}, "spec": s.spec} for s in shapes]
    verdict = _schedcheck(nodes, pods)
    problems = []
    for shape in shapes:
        fits = {node for node, why in verdict[shape.ref].items() if not why}
        if fits != {data_host}:
            reasons = "; ".join(f"{n}: {w or 'fits'}" for n, w in sorted(verdict[shape.ref].items()))
            problems.append(
                f"{shape.ref} -> Node {data_host} (the data volume's): it may run on "
                f"{sorted(fits) or 'no node'} ({reasons})"
            )
    count(f"stateful pods placed by the scheduler's filters ({run})", len(shapes))
    assert not problems, "\n".join(problems)


def test_the_volumes_storage_class_provisions_on_the_data_volume(cluster):
    """The class our PVCs ask for is the one Kubespray's local-path provisioner serves, whose
    claim root is on the data volume's mount."""
    _nodes, _host, storage, config = cluster
    klass = storage["local_path_provisioner_storage_class"]
    assert klass == config["mlops_storage_class"], (
        f"kubespray.yml local_path_provisioner_storage_class {klass!r} "
        f"-> {OPENSTACK_CONFIG.name} mlops_storage_class {config['mlops_storage_class']!r}"
    )
    root = str(storage["local_path_provisioner_claim_root"])
    assert root.startswith(config["mlops_data_mount"].rstrip("/") + "/"), (
        f"kubespray.yml local_path_provisioner_claim_root {root!r} "
        f"-> mlops_data_mount {config['mlops_data_mount']!r}"
    )
