# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""Hosts, groups and variables from the cluster root's outputs (inventory plugin logic)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ansible_collections.mlops.platform.plugins.module_utils.terraform.errors import TerraformError

KUBESPRAY_GROUPS = ("kube_control_plane", "etcd", "kube_node")
PARENT_GROUP = "k8s_cluster"  # children: kube_control_plane, kube_node (Kubespray's layout)


@dataclass
class Inventory:
    hosts: dict[str, dict] = field(default_factory=dict)  # host => host vars
    groups: dict[str, list[str]] = field(default_factory=dict)  # group => hosts
    children: dict[str, list[str]] = field(default_factory=dict)  # group => child groups
    all_vars: dict = field(default_factory=dict)


def outputs_from_state(path: str | Path) -> dict:
    """The output values of a Terraform state file (format version 4)."""
    try:
        state = json.loads(Path(path).read_text())
    except (OSError, ValueError) as e:
        raise TerraformError(f"cannot read Terraform state {path}: {e}", kind="state") from e
    return {name: item.get("value") for name, item in (state.get("outputs") or {}).items()}


def build(outputs: dict, *, ssh_user: str | None = None) -> Inventory:
    """The inventory from the root's `inventory`, `floating_ip`, `api_endpoint`, `data_volume` outputs."""
    inv_out = outputs.get("inventory")
    if not isinstance(inv_out, dict) or not isinstance(inv_out.get("hosts"), dict):
        raise TerraformError(
            "the Terraform outputs have no `inventory` output with `hosts`: has the infra stage been applied "
            "(ansible-playbook playbooks/infra.yml)?",
            kind="outputs",
        )
    user = ssh_user or inv_out.get("ssh_user") or "debian"
    fip = outputs.get("floating_ip", inv_out.get("floating_ip"))
    api = outputs.get("api_endpoint") or (f"https://{fip}:6443" if fip else None)
    volume = outputs.get("data_volume") or None

    inv = Inventory()
    inv.children[PARENT_GROUP] = ["kube_control_plane", "kube_node"]
    for group in KUBESPRAY_GROUPS:
        inv.groups[group] = []
    inv.all_vars = {"mlops_floating_ip": fip, "mlops_api_endpoint": api}

    for name in sorted(inv_out["hosts"]):
        h = inv_out["hosts"][name]
        private = h.get("private_ip")
        if not private:
            raise TerraformError(f"host {name} in the `inventory` output has no private_ip", kind="outputs")
        has_fip = bool(h.get("floating_ip")) and fip is not None
        hv = {
            "ansible_host": fip if has_fip else private,
            "ip": private,
            "access_ip": private,
            "ansible_user": user,
        }
        if fip and not has_fip:
            hv["ansible_ssh_common_args"] = f"-o ProxyJump={user}@{fip}"
        if volume and volume.get("node") == name:
            hv["mlops_data_volume"] = {"id": volume["id"], "device": volume.get("device") or "/dev/vdb"}
        inv.hosts[name] = hv
        for group in h.get("groups", []):
            if group not in KUBESPRAY_GROUPS:
                raise TerraformError(
                    f"host {name} has unknown group {group!r} in the `inventory` output; "
                    f"expected {', '.join(KUBESPRAY_GROUPS)}",
                    kind="outputs",
                )
            inv.groups[group].append(name)
    if volume and volume.get("node") not in inv.hosts:
        raise TerraformError(
            f"the data volume is attached to {volume.get('node')!r}, which is not in the inventory",
            kind="outputs",
        )
    return inv
