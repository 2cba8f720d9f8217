# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""Our inventories and group_vars through the real Kubespray, installed from the fixture.

Kubespray v2.31.0 is installed from the vendored release tree by `scripts/kubespray.sh
fixture` (`ansible-galaxy collection install` of a local source, as `make kubespray`
does from GitHub). Its own code gives every verdict here: the asserts its cluster.yml
runs first (playbooks/boilerplate.yml: the Ansible version, dynamic_groups,
validate_inventory; the two roles through our preflight, as the wrappers run them) and
the downloads table each node computes (kubespray_defaults, evaluated as its download
role does), on the inventories the inventory plugin builds from the recorded Terraform
outputs (tests/fixtures/terraform/outputs_<n>.json) with inventory/openstack/group_vars.
Nothing runs on a node: every task here runs on the controller, so the hosts use the
local connection and the facts a Debian 12 amd64 VM reports are given as host vars
(the Molecule `cluster` scenario gathers real ones).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
VENV_BIN = ROOT / ".cache" / "venv" / "bin"
VERSION = re.search(r"^KUBESPRAY_VERSION=(.+)$", (ROOT / "versions.env").read_text(), re.M).group(1)
KUBESPRAY = ROOT / ".cache" / f"kubespray-{VERSION}" / "collections"
RECORDED = ROOT / "tests" / "fixtures" / "terraform"
# What a Debian 12 amd64 VM reports (the facts Kubespray's defaults read).
VM_FACTS = {"ansible_architecture": "x86_64", "ansible_system": "Linux", "ansible_os_family": "Debian"}

# What Kubespray's cluster.yml runs first (its boilerplate.yml: the Ansible version
# asserts, then the dynamic_groups and validate_inventory roles), the last two through
# our preflight's Kubespray part, which adds its defaults, our version check against
# its checksums and the downloads table.
PLAYBOOK = [
    {
        "name": "Kubespray's Ansible checks",
        "ansible.builtin.import_playbook": "kubernetes_sigs.kubespray.ansible_version",
    },
    {
        "name": "Kubespray preflight",
        "hosts": "k8s_cluster",
        "gather_facts": False,
        "any_errors_fatal": True,
        "tasks": [
            {
                "name": "Run Kubespray's checks as the cluster preflight does",
                "ansible.builtin.include_role": {"name": "cluster_preflight", "tasks_from": "kubespray"},
            }
        ],
    },
]

pytestmark = pytest.mark.skipif(
    not (KUBESPRAY / "ansible_collections/kubernetes_sigs/kubespray/MANIFEST.json").is_file(),
    reason=f"Kubespray {VERSION} from the fixture is missing: make test-deps (scripts/kubespray.sh fixture)",
)


# Every host runs on the controller (local connection) with a Debian 12 VM's facts.
LOCAL_HOST = {
    "ansible_connection": "local",
    "ansible_python_interpreter": str(VENV_BIN / "python"),
    **VM_FACTS,
}


def with_group_vars(tmp_path: Path, **all_vars) -> Path:
    """tmp_path/inventory with our group_vars (inventory/openstack's) linked in; all_vars as extra vars."""
    inv = tmp_path / "inventory"
    (inv / "group_vars").mkdir(parents=True)
    for group in ("all", "k8s_cluster"):
        (inv / "group_vars" / group).symlink_to(ROOT / "inventory" / "openstack" / "group_vars" / group)
    (tmp_path / "extra.json").write_text(json.dumps(all_vars))
    return inv


def inventory_dir(tmp_path: Path, n: int, **all_vars) -> Path:
    """The plugin's inventory for the recorded n-node outputs, with our group_vars."""
    inv = with_group_vars(tmp_path, **all_vars)
    outputs = json.loads((RECORDED / f"outputs_{n}.json").read_text())
    state = {"version": 4, "serial": 1, "lineage": "test", "resources": []}  # as `terraform apply` writes it
    state["outputs"] = {k: {"value": v, "type": "dynamic"} for k, v in outputs.items()}
    (inv / "terraform.tfstate").write_text(json.dumps(state))
    (inv / "terraform.yml").write_text("plugin: mlops.platform.terraform\nstate_file: terraform.tfstate\n")
    (inv / "zz-test.yml").write_text(yaml.safe_dump({"all": {"vars": LOCAL_HOST}}))
    return inv


def write_hosts(inv: Path, control_plane: dict, etcd: dict, nodes: dict) -> None:
    """A hand-written hosts.yml: each group maps its host names to their vars (or None)."""
    groups = {"kube_control_plane": control_plane, "etcd": etcd, "kube_node": nodes}
    doc = {
        "all": {
            "vars": {**LOCAL_HOST, "mlops_floating_ip": "203.0.113.10"},
            "children": {
                **{group: {"hosts": hosts} for group, hosts in groups.items()},
                "k8s_cluster": {"children": {"kube_control_plane": None, "kube_node": None}},
            },
        }
    }
    (inv / "hosts.yml").write_text(yaml.safe_dump(doc))


def run(tmp_path: Path, inv: Path, playbook: list | None = None, *args: str) -> tuple[int, str]:
    (tmp_path / "play.yml").write_text(yaml.safe_dump(playbook or PLAYBOOK, sort_keys=False))
    env = {
        **os.environ,
        "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '')}",
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": f"{KUBESPRAY}:{ROOT / '.cache' / 'collections'}",
        "ANSIBLE_ROLES_PATH": str(ROOT / "roles"),
        "ANSIBLE_CALLBACK_RESULT_FORMAT": "json",  # one message per line
        "ANSIBLE_CALLBACKS_ENABLED": "",
        "ANSIBLE_CACHE_PLUGIN": "memory",
        "ANSIBLE_NOCOLOR": "1",
    }
    result = subprocess.run(
        [str(VENV_BIN / "ansible-playbook"), "-i", str(inv), "-e", "@extra.json", *args, "play.yml"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    return result.returncode, (result.stdout + result.stderr).replace('\\"', '"')


def recorded_sizes() -> list[int]:
    return sorted(int(p.stem.split("_")[1]) for p in RECORDED.glob("outputs_*.json"))


@pytest.mark.parametrize("n", recorded_sizes())
def test_generated_inventory_passes_kubesprays_checks(tmp_path, n):
    rc, out = run(tmp_path, inventory_dir(tmp_path, n))
    assert rc == 0, out[-6000:]
    assert re.search(r"failed=[1-9]", out) is None
    assert "Evaluate the downloads table of each node" in out
    assert not re.search(r"changed=[1-9]", out)


# Where the former stand-in and the real Kubespray disagreed: now the real one decides.
@pytest.mark.parametrize(
    ("extra", "verdict"),
    [
        pytest.param(
            {"mlops_kubernetes_version": "1.35.9"},
            "Kubernetes v1.35.9 is not supported for amd64",
            id="unknown-patch-version",
        ),
        pytest.param(
            {"kubelet_static_pod_path": "/etc/kubernetes/manifests"},
            "Removed variables present: kubelet_static_pod_path",
            id="removed-variable",
        ),
        pytest.param({"dns_mode": "bogus"}, "The selected choice is not supported", id="bad-dns-mode"),
        pytest.param(
            {"argocd_version": "v3.1.8"},
            "Kubespray cannot evaluate its downloads table on cp1",
            id="platform-variable-in-kubesprays-namespace",
        ),
    ],
)
def test_kubespray_rejects(tmp_path, extra, verdict):
    # Kubespray's boilerplate.yml itself first, so its verdict comes before any of ours.
    playbook = [{"ansible.builtin.import_playbook": "kubernetes_sigs.kubespray.boilerplate"}, *PLAYBOOK[1:]]
    rc, out = run(tmp_path, inventory_dir(tmp_path, 1, **extra), playbook)
    assert rc != 0
    assert verdict in out, out[-6000:]


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        pytest.param(
            {"kube_network_plugin": "none"}, "`kube_network_plugin` is set to `none`", id="no-network-plugin"
        ),
    ],
)
def test_kubespray_accepts(tmp_path, extra, expected):
    rc, out = run(tmp_path, inventory_dir(tmp_path, 1, **extra))
    assert rc == 0, out[-6000:]
    assert expected in out


def test_empty_kube_node_and_empty_etcd_get_kubesprays_verdict(tmp_path):
    """An inventory without workers passes Kubespray; one without etcd members fails it."""
    inv = with_group_vars(tmp_path)
    host = {"ip": "10.42.0.10", "access_ip": "10.42.0.10"}
    write_hosts(inv, {"cp1": host}, {"cp1": None}, {})
    rc, out = run(tmp_path, inv)
    assert rc == 0, out[-6000:]

    write_hosts(inv, {"cp1": host}, {}, {})
    rc, out = run(tmp_path, inv)
    assert rc != 0
    assert "Group 'etcd' cannot be empty in external etcd mode" in out, out[-6000:]


VERSIONS = {"v1": "1.33.0", "v2": "1.35.4", "v3": "1.35.9", "v4": "1.36.0", "v5": "1.32.9"}


def test_preflight_accepts_exactly_the_versions_kubespray_has_checksums_for(tmp_path, kubespray_supported):
    """One host per version; our check runs per host, before Kubespray's own."""
    inv = with_group_vars(tmp_path)
    hosts = {
        h: {"ip": f"10.42.0.{i + 10}", "access_ip": f"10.42.0.{i + 10}", "mlops_kubernetes_version": v}
        for i, (h, v) in enumerate(VERSIONS.items())
    }
    write_hosts(inv, {"v1": None}, {"v1": None}, hosts)
    play = [{**PLAYBOOK[1], "any_errors_fatal": False}]
    play[0]["tasks"] = [
        {
            "name": "Check the version as the cluster preflight does",
            "ansible.builtin.include_role": {"name": "cluster_preflight", "tasks_from": "kubespray"},
        }
    ]
    rc, out = run(tmp_path, inv, play)
    assert rc != 0
    for host, version in VERSIONS.items():
        refused = (
            f'mlops_kubernetes_version "{version}" is not one the pinned Kubespray installs on {host} (amd64)'
        )
        assert (refused in out) is (version not in kubespray_supported), out[-6000:]
    assert f"it has checksums for {', '.join(kubespray_supported)} (" in out


@pytest.fixture(scope="module")
def kubespray_supported() -> list[str]:
    """The versions with kubeadm, kubelet and kubectl checksums in the installed tree, oldest first."""
    path = (
        KUBESPRAY
        / "ansible_collections/kubernetes_sigs/kubespray/roles/kubespray_defaults/vars/main/checksums.yml"
    )
    tables = yaml.safe_load(path.read_text())
    versions = set.intersection(
        *(set(tables[f"{k}_checksums"]["amd64"]) for k in ("kubeadm", "kubelet", "kubectl"))
    )
    return sorted(versions, key=lambda v: tuple(int(p) for p in v.split(".")))


@pytest.mark.parametrize("mode", ["--syntax-check", "--list-tasks"])
def test_wrappers_parse_against_the_installed_kubespray(tmp_path, mode):
    inv = inventory_dir(tmp_path, 3)
    wrappers = [str(ROOT / "playbooks" / f"{w}.yml") for w in ("cluster", "scale", "upgrade", "reset")]
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": f"{KUBESPRAY}:{ROOT / '.cache' / 'collections'}",
        "ANSIBLE_NOCOLOR": "1",
    }
    cmd = [
        str(VENV_BIN / "ansible-playbook"),
        "-i",
        str(inv),
        mode,
        "-e",
        "mlops_reset_confirm=mlops",
        *wrappers,
    ]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    assert "Kubespray is not installed" not in out
    if mode == "--list-tasks":
        # Kubespray's own plays and roles, from the installed collection.
        for task in (
            "kubernetes/preinstall : Disable swap",
            "kubernetes/control-plane :",
            "reset : Reset | stop services",
        ):
            assert task in out, f"{task!r} not listed"
