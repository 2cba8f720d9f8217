"""openstack_preflight against the real APIs: every problem named before anything is created."""

from __future__ import annotations

import json

import pytest
from conftest import ensure_keypair, leftovers

NODES5 = {
    "cp1": {"roles": ["control_plane", "etcd"], "flavor": "m1.xlarge"},
    **{f"w{i}": {"roles": ["worker"], "flavor": "m1.xlarge"} for i in range(1, 5)},
}


def failed_problems(proc) -> str:
    assert proc.returncode != 0, proc.stdout[-3000:]
    return " ".join(proc.stdout.split())


def assert_nothing_created(st, conn):
    assert leftovers(conn, "pf-") == {}
    assert st.state() == [] and st.state(st.tf / "data-volume") == []


def test_named_resources_are_checked(stage, conn):
    st = stage("preflight")
    out = failed_problems(
        st.play(
            "infra",
            {
                "mlops_cluster_name": "pf",
                "infra_image": "Ubuntu 99.04",
                "infra_keypair": {"name": "nobody-key"},
                "infra_network": {"cidr": "10.42.0.0/24", "external_network": "internet"},
                "infra_floating_ip": {"address": "203.0.113.254"},
                "infra_data_volume": {"name": "pf-gone", "existing": True},
                "infra_nodes": {"cp1": {"roles": ["control_plane", "etcd", "worker"], "flavor": "m1.huge"}},
            },
            timing="named resources refused",
        )
    )
    for where, what in [
        ("infra_image", "image 'Ubuntu 99.04' does not exist"),
        ("infra_nodes.cp1.flavor", "flavor 'm1.huge' does not exist"),
        ("infra_network.external_network", "network 'internet' does not exist"),
        ("infra_keypair.name", "key pair 'nobody-key' does not exist"),
        ("infra_floating_ip.address", "floating IP 203.0.113.254 is not allocated to this project"),
        ("infra_data_volume.name", "volume 'pf-gone' does not exist"),
    ]:
        assert f"{where}: {what}" in out, out[-3000:]
    assert_nothing_created(st, conn)


@pytest.fixture
def tight_quotas(admin, conn):
    """The project's floating IPs and volumes all taken (set by the cloud's admin), restored after."""
    project = conn.current_project_id
    before_net = admin.network.get_quota(project)
    before_vol = admin.block_storage.get_quota_set(project)
    admin.set_network_quotas(project, floating_ips=0)
    admin.set_volume_quotas(project, volumes=0)
    yield
    admin.set_network_quotas(project, floating_ips=before_net.floating_ips)
    admin.set_volume_quotas(project, volumes=before_vol.volumes)


def test_quota_shortfalls_are_refused_before_anything_is_created(stage, conn, tight_quotas):
    ensure_keypair(conn, "mlops-ops")
    st = stage("preflight")
    out = failed_problems(
        st.play(
            "infra",
            {
                "mlops_cluster_name": "pf",
                "infra_nodes": NODES5,
                "infra_data_volume": {"name": "pf-data", "size": 600},
            },
            timing="quotas refused",
        )
    )
    for quota, text in [
        ("cores", "the plan needs 40 (vCPUs of the new nodes' flavors) but only 32 of 32 are free"),
        ("ram", "the plan needs 81920 (MB of RAM of the new nodes' flavors) but only 65536 of 65536"),
        ("gigabytes", "the plan needs 600 (GB of the new volumes) but only 500 of 500"),
        ("volumes", "the plan needs 1 (extra volumes and the data volume) but only 0 of 0"),
        ("floating_ips", "the plan needs 1 (the access node's floating IP) but only 0 of 0"),
    ]:
        assert f"quota {quota}: {text}" in out, out[-3000:]
    assert_nothing_created(st, conn)


def test_rejected_credentials(stage, conn, cloud, tmp_path):
    clouds = json.loads(cloud.clouds_yaml.read_text())
    clouds["clouds"]["mlops"]["auth"]["password"] = "wrong"  # noqa: S105 - a deliberately bad one
    bad = tmp_path / "clouds.yaml"
    bad.write_text(json.dumps(clouds))
    st = stage("preflight")
    st.env["OS_CLIENT_CONFIG_FILE"] = str(bad)
    out = failed_problems(st.play("infra", {"mlops_cluster_name": "pf"}))
    assert "infra_cloud: cloud 'mlops'" in out and "rejected the credentials" in out, out[-3000:]
    assert_nothing_created(st, conn)
