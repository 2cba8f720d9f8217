# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""openstack_preflight logic: openstacksdk's real client against recorded HTTP responses."""

from __future__ import annotations

import pytest
import requests_mock
from ansible_collections.mlops.platform.plugins.module_utils.openstack.clouds import CloudsYamlError
from ansible_collections.mlops.platform.plugins.module_utils.openstack.preflight import (
    Preflight,
    PreflightError,
    Request,
    connect,
)
from fakecloud import CLOUDS_YAML, FakeCloud


@pytest.fixture
def cloud(tmp_path, monkeypatch):
    (tmp_path / "clouds.yaml").write_text(CLOUDS_YAML)
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(tmp_path / "clouds.yaml"))
    monkeypatch.chdir(tmp_path)
    fake = FakeCloud()
    with requests_mock.Mocker() as m:
        fake.install(m)
        yield fake


def request(**overrides) -> Request:
    base = dict(
        cloud="mlops",
        cluster_name="mlops",
        image="Debian 12",
        nodes={"cp1": {"flavor": "m1.large"}, "w1": {"flavor": "m1.xlarge"}, "w2": {"flavor": "m1.xlarge"}},
        keypair_name="ops",
        external_network="public",
        data_volume={"name": "mlops-data", "size": 100},
        security_group_rules=5,
    )
    base.update(overrides)
    return Request(**base)


def run(req: Request) -> dict:
    return Preflight(connect(req.cloud), req).run()


def problems_of(req: Request) -> list[tuple[str, str]]:
    with pytest.raises(PreflightError) as e:
        run(req)
    return [(p.field, p.message) for p in e.value.problems]


def test_ready_cloud_reports_needs_and_quotas(cloud):
    report = run(request())
    assert report["needs"] == {
        "instances": 3,
        "cores": 20,
        "ram": 40960,
        "floating_ips": 1,
        "volumes": 1,
        "gigabytes": 100,
        "security_groups": 1,
        "security_group_rules": 7,  # 5 ingress + the 2 egress rules of a new group
        "ports": 5,
    }
    assert report["quotas"]["cores"] == {"limit": 40, "used": 8}
    assert report["quotas"]["gigabytes"] == {"limit": 1000, "used": 100}
    assert report["quotas"]["floating_ips"] == {"limit": 5, "used": 2}
    assert report["create_data_volume"] is True
    assert report["existing_nodes"] == []


def test_bad_credentials(cloud):
    cloud.reject_credentials = True
    with pytest.raises(PreflightError) as e:
        run(request())
    assert e.value.problems[0].field == "infra_cloud"
    assert "rejected the credentials" in str(e.value) and "clouds.yaml" in str(e.value)


def test_unknown_cloud_names_the_file(cloud, tmp_path):
    with pytest.raises(
        CloudsYamlError, match=r"cloud 'other' is not in .*clouds.yaml; clouds defined: mlops"
    ):
        connect("other")


def test_no_clouds_yaml(tmp_path, monkeypatch):
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(tmp_path / "absent.yaml"))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CloudsYamlError, match="no clouds.yaml found"):
        connect("mlops")


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"image": "Ubuntu 24.04"}, "infra_image", "image 'Ubuntu 24.04' does not exist"),
        ({"image": "Debian 11"}, "infra_image", "image 'Debian 11' is queued, not active"),
        (
            {"nodes": {"cp1": {"flavor": "m1.huge"}}},
            "infra_nodes.cp1.flavor",
            "flavor 'm1.huge' does not exist",
        ),
        (
            {"external_network": "internet"},
            "infra_network.external_network",
            "network 'internet' does not exist",
        ),
        ({"external_network": "sharednet1"}, "infra_network.external_network", "is not external"),
        (
            {"existing_network": "nope-net"},
            "infra_network.existing_network",
            "network 'nope-net' does not exist",
        ),
        ({"keypair_name": "nobody"}, "infra_keypair.name", "key pair 'nobody' does not exist"),
        (
            {"floating_ip_address": "198.51.100.99"},
            "infra_floating_ip.address",
            "floating IP 198.51.100.99 is not allocated to this project",
        ),
        (
            {"floating_ip_address": "198.51.100.78"},
            "infra_floating_ip.address",
            "already associated with port p-other",
        ),
        (
            {"data_volume": {"name": "gone", "existing": True}},
            "infra_data_volume.name",
            "volume 'gone' does not exist",
        ),
        (
            {"data_volume": {"existing_id": "00000000-dead-4000-8000-000000000000"}},
            "infra_data_volume.existing_id",
            "does not exist",
        ),
    ],
)
def test_each_missing_resource_is_named(cloud, overrides, field, message):
    problems = problems_of(request(**overrides))
    assert len(problems) == 1, problems
    assert problems[0][0] == field
    assert message in problems[0][1]


def test_problems_are_collected_into_one_report(cloud):
    problems = problems_of(request(image="nope", keypair_name="nobody", external_network="internet"))
    assert [p[0] for p in problems] == ["infra_image", "infra_network.external_network", "infra_keypair.name"]


def test_keypair_created_from_public_key_is_fine(cloud):
    assert run(request(keypair_name="new-key", keypair_create=True))["needs"]["instances"] == 3


def test_existing_volume_and_reserved_fip_need_no_quota(cloud):
    report = run(
        request(data_volume={"name": "mlops-data-old", "existing": True}, floating_ip_address="198.51.100.77")
    )
    assert "volumes" not in report["needs"] and "floating_ips" not in report["needs"]
    assert report["create_data_volume"] is False


@pytest.mark.parametrize(
    ("quota", "edit", "message"),
    [
        (
            "instances",
            lambda d: d["limits"]["limits"]["absolute"].update(totalInstancesUsed=8),
            "needs 3 (3 new node(s)) but only 2 of 10 are free (8 used)",
        ),
        (
            "cores",
            lambda d: d["limits"]["limits"]["absolute"].update(totalCoresUsed=30),
            "needs 20 (vCPUs of the new nodes' flavors) but only 10 of 40",
        ),
        (
            "ram",
            lambda d: d["limits"]["limits"]["absolute"].update(maxTotalRAMSize=51200),
            "needs 40960 (MB of RAM of the new nodes' flavors) but only 34816 of 51200",
        ),
        (
            "floating_ips",
            lambda d: d["network_quota_details"]["quota"]["floatingip"].update(used=5),
            "needs 1 (the access node's floating IP) but only 0 of 5",
        ),
        (
            "volumes",
            lambda d: d["volume_quota_set"]["quota_set"]["volumes"].update(in_use=10),
            "but only 0 of 10",
        ),
        (
            "gigabytes",
            lambda d: d["volume_quota_set"]["quota_set"]["gigabytes"].update(in_use=950),
            "needs 100 (GB of the new volumes) but only 50 of 1000",
        ),
        (
            "security_groups",
            lambda d: d["network_quota_details"]["quota"]["security_group"].update(used=10),
            "but only 0 of 10",
        ),
        (
            "security_group_rules",
            lambda d: d["network_quota_details"]["quota"]["security_group_rule"].update(used=98),
            "needs 7 (the cluster's rules) but only 2 of 100",
        ),
        (
            "ports",
            lambda d: d["network_quota_details"]["quota"]["port"].update(reserved=42),
            "needs 5 (one port per new node (+ router and DHCP)) but only 2 of 50",
        ),
    ],
)
def test_each_quota_shortfall_is_named(cloud, quota, edit, message):
    edit(cloud.data)
    problems = problems_of(request())
    assert problems == [(f"quota {quota}", problems[0][1])]
    assert message in problems[0][1]


def test_unlimited_quota_never_fails(cloud):
    cloud.data["limits"]["limits"]["absolute"].update(maxTotalCores=-1, totalCoresUsed=10_000)
    assert run(request())["quotas"]["cores"]["limit"] == -1


def test_existing_nodes_add_nothing(cloud):
    cloud.data["servers"]["servers"] = [
        {
            "id": f"s{i}",
            "name": f"mlops-{n}",
            "status": "ACTIVE",
            "flavor": {"original_name": "m1.large"},
            "addresses": {},
            "links": [],
            "metadata": {},
        }
        for i, n in enumerate(["cp1", "w1"])
    ]
    cloud.data["security_groups"]["security_groups"] = [
        {"id": "sg1", "name": "mlops", "description": "", "security_group_rules": [], "tenant_id": "p"}
    ]
    cloud.data["security_group_rules"]["security_group_rules"] = [
        {"id": f"r{i}", "security_group_id": "sg1", "direction": "ingress", "ethertype": "IPv4"}
        for i in range(5)
    ]
    report = run(request())
    assert report["existing_nodes"] == ["cp1", "w1"]
    assert report["needs"] == {
        "instances": 1,
        "cores": 8,
        "ram": 16384,
        "volumes": 1,
        "gigabytes": 100,
        "ports": 1,
    }
