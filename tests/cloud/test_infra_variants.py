"""The variants the config allows, on the local OpenStack, in one cluster: an existing
network, a reserved floating IP, a key pair created from a public key file, an existing
data volume, hard anti-affinity, state in an S3 bucket (moto on loopback). Then every
terraform/examples/ root on an empty project."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from conftest import PUBLIC_KEY, ROOT, TIMES, ensure_keypair, leftovers
from moto_s3 import backend_config, moto_s3
from terraform_run import terraform


@pytest.fixture
def s3_url():
    with moto_s3(timeout=60) as url:
        yield url


@pytest.fixture
def existing(conn):
    """What a project already has: a routed network, a reserved floating IP, a volume."""
    made = {}
    net = conn.network.create_network(name="shared-net")
    made["net"] = net
    subnet = conn.network.create_subnet(
        name="shared-subnet", network_id=net.id, ip_version=4, cidr="10.50.0.0/24"
    )
    public = conn.network.find_network("public")
    router = conn.network.create_router(name="shared-router", external_gateway_info={"network_id": public.id})
    conn.network.add_interface_to_router(router, subnet_id=subnet.id)
    fip = conn.network.create_ip(floating_network_id=public.id, description="reserved for var")
    volume = conn.block_storage.create_volume(name="var-old-data", size=5)
    conn.block_storage.wait_for_status(volume, "available", wait=60)
    yield {"fip": fip.floating_ip_address, "volume": volume.id}
    conn.block_storage.delete_volume(volume, ignore_missing=True)
    conn.network.delete_ip(fip, ignore_missing=True)
    conn.network.remove_interface_from_router(router, subnet_id=subnet.id)
    conn.network.delete_router(router)
    conn.network.delete_network(net)
    kp = conn.compute.find_keypair("var-new-key")
    if kp:
        conn.compute.delete_keypair(kp)


def test_variants_in_one_cluster(stage, conn, existing, s3_url, tmp_path):
    st = stage("variants (1 node, s3)")
    key_file = tmp_path / "id.pub"
    key_file.write_text(PUBLIC_KEY + "\n")
    st.env.update(AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test")  # noqa: S106 - moto's
    backend = {"type": "s3", "config": backend_config(s3_url, "var/cluster.tfstate")}
    config = {
        "mlops_cluster_name": "var",
        "infra_nodes": {"cp1": {"roles": ["control_plane", "etcd", "worker"], "flavor": "m1.medium"}},
        "infra_network": {"existing_network": "shared-net", "existing_subnet": "shared-subnet"},
        "infra_floating_ip": {"address": existing["fip"]},
        "infra_keypair": {"name": "var-new-key", "public_key_file": str(key_file)},
        "infra_data_volume": {"name": "var-old-data", "existing": True},
        # One compute host here: hard anti-affinity fits one node (a second is refused by Nova).
        "infra_server_group_policy": "anti-affinity",
        "infra_terraform_backend": backend,
    }
    applied = st.play("infra", config, timing="apply")
    assert applied.returncode == 0, applied.stdout[-4000:]
    hv = st.inventory()  # the plugin reads `terraform output` through the s3 backend
    assert hv["_meta"]["hostvars"]["cp1"]["ansible_host"] == existing["fip"]
    assert hv["_meta"]["hostvars"]["cp1"]["mlops_data_volume"]["id"] == existing["volume"]
    server = conn.compute.find_server("var-cp1")
    assert server.key_name == "var-new-key"
    group = next(g for g in conn.compute.server_groups() if g.name == "var")
    assert group.policy == "anti-affinity" and group.member_ids == [server.id]
    assert conn.block_storage.get_volume(existing["volume"]).status == "in-use"
    assert not (st.tf / "terraform.tfstate").exists(), "the state went to the bucket"
    assert st.plan_is_empty(), "re-plan (s3 backend) shows changes"

    gone = st.play("destroy", config, timing="destroy")
    assert gone.returncode == 0, gone.stdout[-4000:]
    assert leftovers(conn, "var-") == {"volumes": ["var-old-data"]}
    assert conn.block_storage.get_volume(existing["volume"]).status == "available"
    fip = next(iter(conn.network.ips(floating_ip_address=existing["fip"])))
    assert fip.port_id is None  # disassociated, still reserved by the project
    assert conn.network.find_network("shared-net") is not None


def test_examples_apply_on_an_empty_project_and_destroy(conn, clouds_env, tmp_path):
    ensure_keypair(conn, "example-ops")
    tree = tmp_path / "terraform"
    shutil.copytree(ROOT / "terraform", tree, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"))
    env = dict(os.environ, **clouds_env, TF_VAR_cloud="mlops", TF_IN_AUTOMATION="1")
    examples = sorted(p for p in (tree / "examples").iterdir() if p.is_dir())
    assert examples
    for example in examples:

        def tf(*args: str, root: Path = example) -> subprocess.CompletedProcess:
            return terraform(*args, "-input=false", "-no-color", cwd=root, env=env, timeout=900)

        assert tf("init").returncode == 0
        started = time.monotonic()
        applied = tf("apply", "-auto-approve")
        TIMES[f"example {example.name}: apply"] = round(time.monotonic() - started, 1)
        try:
            assert applied.returncode == 0, applied.stdout[-3000:] + applied.stderr[-3000:]
            assert tf("plan", "-detailed-exitcode").returncode == 0, "re-plan shows changes"
        finally:
            started = time.monotonic()
            destroyed = tf("destroy", "-auto-approve")
            TIMES[f"example {example.name}: destroy"] = round(time.monotonic() - started, 1)
        assert destroyed.returncode == 0, destroyed.stderr[-3000:]
        assert leftovers(conn, "example") == {}
