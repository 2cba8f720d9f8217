# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""Cross-field checks of the infra config, on the shipped platform.yml and on each bad value."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from ansible_collections.mlops.platform.plugins.module_utils.config import infra

ROOT = Path(__file__).resolve().parents[5]
PLATFORM = ROOT / "inventory" / "openstack" / "group_vars" / "all" / "platform.yml"


def shipped_config() -> dict:
    """The infra settings of the shipped example, shaped as roles/infra/vars/main.yml shapes them."""
    v = yaml.safe_load(PLATFORM.read_text())
    return {
        "cloud": v["infra_cloud"],
        "cluster_name": v["mlops_cluster_name"],
        "image": v["infra_image"],
        "ssh_user": v["infra_ssh_user"],
        "keypair": v["infra_keypair"],
        "nodes": v["infra_nodes"],
        "network": v["infra_network"],
        "pod_cidr": v["mlops_pod_cidr"],
        "service_cidr": v["mlops_service_cidr"],
        "admin_cidrs": v["infra_admin_cidrs"],
        "ingress_cidrs": v["infra_ingress_cidrs"],
        "ingress_ports": v["infra_ingress_ports"],
        "floating_ip": v["infra_floating_ip"],
        "data_volume": v["infra_data_volume"],
        "server_group_policy": v["infra_server_group_policy"],
        "terraform_backend": v["infra_terraform_backend"],
    }


def test_shipped_example_is_valid():
    assert infra.validate(shipped_config()) == []


def test_shipped_example_derives_the_terraform_variables():
    cfg = shipped_config()
    tf = infra.cluster_variables(cfg, "vol-1")
    assert tf["cluster_name"] == "mlops" and tf["cloud"] == "mlops"
    assert tf["nodes"]["cp1"] == {"roles": ["control_plane", "etcd"], "flavor": "m1.large"}
    assert tf["data_volume"] == {"id": "vol-1", "device": "/dev/vdb"}
    assert tf["floating_ip"] == {"pool": "public"}
    assert tf["keypair"] == {"name": "mlops-ops"}
    assert infra.data_volume_variables(cfg) == {
        "cloud": "mlops",
        "name": "mlops-data",
        "existing": False,
        "size": 100,
    }
    assert infra.ingress_rule_count(cfg) == 1 + 2 + 2


def test_public_key_file_is_read(tmp_path):
    key = tmp_path / "id.pub"
    key.write_text("ssh-ed25519 AAAA ops\n")
    cfg = shipped_config()
    cfg["keypair"] = {"name": "new", "public_key_file": str(key)}
    assert infra.validate(cfg) == []
    assert infra.cluster_variables(cfg)["keypair"] == {"name": "new", "public_key": "ssh-ed25519 AAAA ops"}


def _set(cfg, dotted, value):
    keys = dotted.split(".")
    target = cfg
    for k in keys[:-1]:
        target = target[k]
    target[keys[-1]] = value


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("cluster_name", "MLOps", "mlops_cluster_name: 'MLOps' is not DNS-safe"),
        ("cloud", "", "infra_cloud: empty"),
        ("nodes", {}, "infra_nodes: empty"),
        (
            "nodes",
            {"w1": {"roles": ["worker", "etcd"], "flavor": "m1"}},
            "no node has the control_plane role",
        ),
        (
            "nodes",
            {
                "a": {"roles": ["control_plane", "etcd"], "flavor": "m"},
                "b": {"roles": ["etcd"], "flavor": "m"},
            },
            "2 etcd members (a, b); the number must be odd",
        ),
        (
            "nodes",
            {
                "cp1": {"roles": ["control_plane", "etcd"], "flavor": "m"},
                "CP1": {"roles": ["worker"], "flavor": "m"},
            },
            "same host name as",
        ),
        ("nodes.cp1.roles", ["master", "etcd"], "infra_nodes.cp1.roles: ['master', 'etcd']; allowed"),
        ("nodes.cp1.flavor", "", "infra_nodes.cp1.flavor: empty"),
        ("nodes.cp1.fixed_ip", "10.99.0.5", "infra_nodes.cp1.fixed_ip: 10.99.0.5 is not a host address of"),
        ("nodes.cp1.fixed_ip", "10.42.0.0", "is not a host address of infra_network.cidr"),
        ("nodes.cp1.fixed_ip", "ten", "infra_nodes.cp1.fixed_ip: 'ten' is not an IPv4 address"),
        ("network.cidr", "10.42.0.1/24", "infra_network.cidr: '10.42.0.1/24' is not a CIDR"),
        ("pod_cidr", "10.42.0.0/16", "mlops_pod_cidr: 10.42.0.0/16 overlaps infra_network.cidr"),
        ("service_cidr", "10.233.64.0/20", "mlops_service_cidr: 10.233.64.0/20 overlaps mlops_pod_cidr"),
        ("admin_cidrs", [], "infra_admin_cidrs: empty"),
        ("admin_cidrs", ["198.51.100.0/33"], "infra_admin_cidrs[0]: '198.51.100.0/33' is not a CIDR"),
        ("ingress_cidrs", ["everyone"], "infra_ingress_cidrs[0]: 'everyone' is not a CIDR"),
        ("ingress_ports", ["443", "70000"], "infra_ingress_ports[1]: '70000'"),
        ("ingress_ports", ["9000-8000"], "infra_ingress_ports[0]: '9000-8000'"),
        ("floating_ip", {"address": "public"}, "infra_floating_ip.address: 'public' is not an IPv4 address"),
        ("keypair", {}, "infra_keypair.name: empty"),
        (
            "keypair",
            {"name": "k", "public_key_file": "/nonexistent/id.pub"},
            "/nonexistent/id.pub does not exist",
        ),
        ("data_volume", {"name": "bad name"}, "infra_data_volume.name: 'bad name'"),
        ("data_volume", {"name": "d", "size": 0}, "infra_data_volume.size: 0"),
        (
            "data_volume",
            {"name": "d", "existing_id": "vol-1"},
            "infra_data_volume.existing_id: 'vol-1' is not",
        ),
        ("terraform_backend", {"type": "s3", "config": {"bucket": "b"}}, "the s3 backend needs key"),
    ],
)
def test_each_bad_value_names_its_field(path, value, expected):
    cfg = copy.deepcopy(shipped_config())
    _set(cfg, path, value)
    problems = infra.validate(cfg)
    assert any(expected in p for p in problems), problems
    with pytest.raises(infra.ConfigError, match="invalid infra config"):
        infra.check(cfg)


def test_no_way_in_is_refused():
    cfg = shipped_config()
    cfg["floating_ip"] = {}
    cfg["network"] = {"cidr": "10.42.0.0/24"}
    assert any(p.startswith("infra_floating_ip: no address, no pool") for p in infra.validate(cfg))


def test_existing_network_skips_the_subnet_cidr():
    cfg = shipped_config()
    cfg["network"] = {"existing_network": "sharednet1", "cidr": "not-used"}
    assert infra.validate(cfg) == []
