# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""Plan summaries and the protect rule, on `terraform show -json` plan shapes."""

from __future__ import annotations

import json
import stat

import pytest
from ansible_collections.mlops.platform.plugins.module_utils.terraform.errors import TerraformError
from ansible_collections.mlops.platform.plugins.module_utils.terraform.stack import (
    Stack,
    StackSpec,
    _is_protected,
    _write_private,
    summarize,
)


def change(address, *actions):
    return {"address": address, "change": {"actions": list(actions)}}


PLAN = {
    "resource_changes": [
        change('module.nodes.openstack_compute_instance_v2.this["w3"]', "create"),
        change("module.security.openstack_networking_secgroup_v2.this", "update"),
        change('module.nodes.openstack_compute_instance_v2.this["old"]', "delete"),
        change("openstack_blockstorage_volume_v3.this[0]", "delete", "create"),
        change("data.openstack_networking_network_v2.external[0]", "read"),
        change("module.network.openstack_networking_network_v2.this[0]", "no-op"),
    ],
    "output_changes": {"inventory": {"actions": ["update"]}, "floating_ip": {"actions": ["no-op"]}},
}


def test_summary_counts_and_addresses():
    s = summarize(PLAN, ["openstack_blockstorage_volume_v3.this"])
    assert (s["add"], s["change"], s["destroy"]) == (2, 1, 2)
    assert s["addresses"]["replace"] == ["openstack_blockstorage_volume_v3.this[0]"]
    assert s["outputs_changed"] == ["inventory"]
    assert s["protected_at_risk"] == ["openstack_blockstorage_volume_v3.this[0]"]


@pytest.mark.parametrize(
    ("address", "protect", "expected"),
    [
        ("openstack_blockstorage_volume_v3.this", ["openstack_blockstorage_volume_v3.this"], True),
        ('openstack_blockstorage_volume_v3.this["k"]', ["openstack_blockstorage_volume_v3.this"], True),
        ("openstack_blockstorage_volume_v3.this_other", ["openstack_blockstorage_volume_v3.this"], False),
        ("module.storage.openstack_compute_volume_attach_v2.data[0]", ["module.storage"], True),
        ("module.storage_x.thing.this", ["module.storage"], False),
        ("module.nodes.openstack_compute_instance_v2.this", [], False),
    ],
)
def test_protect_matching(address, protect, expected):
    assert _is_protected(address, protect) is expected


def test_private_file_mode_and_change_detection(tmp_path):
    path = tmp_path / "x.auto.tfvars.json"
    assert _write_private(path, json.dumps({"a": 1})) is True
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert _write_private(path, json.dumps({"a": 1})) is False


def test_project_must_be_a_terraform_root(tmp_path):
    with pytest.raises(TerraformError, match="holds no \\*.tf file"):
        Stack(StackSpec(project=str(tmp_path)))
