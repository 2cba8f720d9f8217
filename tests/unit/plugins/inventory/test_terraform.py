# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""The mlops.platform.terraform inventory plugin on recorded outputs for 1, 3 and 100 nodes.

Outputs were recorded from the real cluster root with the mock provider
(tests/fixtures/terraform/record_outputs.py); the plugin runs inside ansible-inventory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from ansible_collections.mlops.platform.plugins.module_utils.terraform.errors import TerraformError
from ansible_collections.mlops.platform.plugins.module_utils.terraform.inventory import (
    build,
    outputs_from_state,
)

ROOT = Path(__file__).resolve().parents[4]
# The venv's own ansible-inventory, whatever PATH says.
ANSIBLE_INVENTORY = str(Path(sys.executable).with_name("ansible-inventory"))
FIXTURES = ROOT / "tests" / "fixtures" / "terraform"


def recorded(n: int) -> dict:
    return json.loads((FIXTURES / f"outputs_{n}.json").read_text())


def write_state(path: Path, outputs: dict) -> Path:
    """A Terraform state (format 4) holding these outputs, as `terraform apply` writes it."""
    path.write_text(
        json.dumps(
            {
                "version": 4,
                "terraform_version": "1.11.4",
                "serial": 1,
                "lineage": "test",
                "outputs": {k: {"value": v, "type": "dynamic"} for k, v in outputs.items()},
                "resources": [],
            }
        )
    )
    return path


def run_ansible_inventory(config: Path, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [ANSIBLE_INVENTORY, "-i", str(config), "--list"],
        capture_output=True,
        text=True,
        env=dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), **env),
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def ansible_inventory(config: Path) -> dict:
    proc = run_ansible_inventory(config)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.parametrize(
    ("n", "control_planes", "etcd", "workers"), [(1, 1, 1, 1), (3, 1, 3, 2), (100, 3, 3, 97)]
)
def test_build_groups_and_addresses(n, control_planes, etcd, workers):
    outputs = recorded(n)
    inv = build(outputs)
    assert len(inv.hosts) == n
    assert len(inv.groups["kube_control_plane"]) == control_planes
    assert len(inv.groups["etcd"]) == etcd
    assert len(inv.groups["kube_node"]) == workers
    assert inv.children["k8s_cluster"] == ["kube_control_plane", "kube_node"]
    fip = outputs["floating_ip"]
    access = [h for h, v in inv.hosts.items() if v["ansible_host"] == fip]
    assert access == ["cp1"]
    for name, hv in inv.hosts.items():
        private = outputs["inventory"]["hosts"][name]["private_ip"]
        assert hv["ip"] == hv["access_ip"] == private
        assert hv["ansible_user"] == "debian"
        if name == "cp1":
            assert "ansible_ssh_common_args" not in hv
        else:
            assert hv["ansible_host"] == private
            assert hv["ansible_ssh_common_args"] == f"-o ProxyJump=debian@{fip}"
    assert inv.hosts["cp1"]["mlops_data_volume"] == {"id": outputs["data_volume"]["id"], "device": "/dev/vdb"}
    assert sum("mlops_data_volume" in hv for hv in inv.hosts.values()) == 1
    assert inv.all_vars == {"mlops_floating_ip": fip, "mlops_api_endpoint": f"https://{fip}:6443"}


def test_ssh_user_override():
    inv = build(recorded(3), ssh_user="ubuntu")
    assert {hv["ansible_user"] for hv in inv.hosts.values()} == {"ubuntu"}
    assert inv.hosts["w1"]["ansible_ssh_common_args"].endswith("ubuntu@203.0.113.50")


def test_no_floating_ip_means_private_addresses_and_no_jump():
    outputs = recorded(3)
    outputs["floating_ip"] = None
    outputs["api_endpoint"] = None
    outputs["inventory"]["floating_ip"] = None
    inv = build(outputs)
    assert inv.hosts["cp1"]["ansible_host"] == outputs["inventory"]["hosts"]["cp1"]["private_ip"]
    assert not any("ansible_ssh_common_args" in hv for hv in inv.hosts.values())
    assert inv.all_vars["mlops_api_endpoint"] is None


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda o: o.pop("inventory"), "no `inventory` output"),
        (
            lambda o: o["inventory"]["hosts"]["w1"].pop("private_ip"),
            "host w1 in the `inventory` output has no private_ip",
        ),
        (lambda o: o["inventory"]["hosts"]["w1"].update(groups=["masters"]), "unknown group 'masters'"),
        (lambda o: o["data_volume"].update(node="gone"), "attached to 'gone'"),
    ],
)
def test_bad_outputs_are_named(mutate, message):
    outputs = recorded(3)
    mutate(outputs)
    with pytest.raises(TerraformError, match=message):
        build(outputs)


def test_outputs_from_state_file(tmp_path):
    state = write_state(tmp_path / "terraform.tfstate", recorded(3))
    assert outputs_from_state(state) == recorded(3)
    with pytest.raises(TerraformError, match="cannot read Terraform state"):
        outputs_from_state(tmp_path / "missing.tfstate")


@pytest.mark.parametrize("n", [1, 3, 100])
def test_plugin_in_ansible_inventory(tmp_path, n):
    write_state(tmp_path / "terraform.tfstate", recorded(n))
    config = tmp_path / "terraform.yml"
    config.write_text("plugin: mlops.platform.terraform\nstate_file: terraform.tfstate\n")
    inv = ansible_inventory(config)
    hostvars = inv["_meta"]["hostvars"]
    assert len(hostvars) == n
    assert sorted(inv["k8s_cluster"]["children"]) == ["kube_control_plane", "kube_node"]
    assert "cp1" in inv["kube_control_plane"]["hosts"]
    assert hostvars["cp1"]["ansible_host"] == "203.0.113.50"
    assert hostvars["cp1"]["mlops_api_endpoint"] == "https://203.0.113.50:6443"
    assert hostvars["cp1"]["mlops_data_volume"]["device"] == "/dev/vdb"
    if n > 1:
        assert hostvars["w1"]["ansible_ssh_common_args"] == "-o ProxyJump=debian@203.0.113.50"
        assert hostvars["w1"]["mlops_floating_ip"] == "203.0.113.50"


def test_plugin_cache_serves_without_the_state(tmp_path):
    state = write_state(tmp_path / "terraform.tfstate", recorded(3))
    config = tmp_path / "terraform.yml"
    config.write_text(
        "plugin: mlops.platform.terraform\nstate_file: terraform.tfstate\ncache: true\n"
        f"cache_plugin: ansible.builtin.jsonfile\ncache_connection: {tmp_path / 'cache'}\n"
    )
    first = ansible_inventory(config)
    state.unlink()
    second = ansible_inventory(config)
    assert second["_meta"]["hostvars"] == first["_meta"]["hostvars"]


def test_plugin_warns_once_before_anything_is_applied(tmp_path):
    write_state(tmp_path / "terraform.tfstate", {})
    config = tmp_path / "terraform.yml"
    config.write_text("plugin: mlops.platform.terraform\nstate_file: terraform.tfstate\n")
    proc = run_ansible_inventory(config)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["_meta"]["hostvars"] == {}
    assert "no Terraform outputs yet" in " ".join(proc.stderr.split())
    assert "Failed to parse" not in proc.stderr


def test_plugin_reports_outputs_without_inventory(tmp_path):
    write_state(tmp_path / "terraform.tfstate", {"floating_ip": "203.0.113.50"})
    config = tmp_path / "terraform.yml"
    config.write_text("plugin: mlops.platform.terraform\nstate_file: terraform.tfstate\n")
    proc = run_ansible_inventory(config, ANSIBLE_INVENTORY_UNPARSED_FAILED="true")
    assert proc.returncode != 0
    assert "has the infra stage been applied" in " ".join(proc.stderr.split())
