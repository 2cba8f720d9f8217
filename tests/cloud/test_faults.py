"""Faults in the middle of an apply: the re-run converges and nothing is left behind that the
next plan does not know about (every cluster resource on the cloud is in the state)."""

from __future__ import annotations

import time

import pytest
from conftest import ensure_keypair, leftovers, recap

NODES = {
    "cp1": {"roles": ["control_plane", "etcd", "worker"], "flavor": "m1.small"},
    "w1": {"roles": ["worker"], "flavor": "m1.small"},
    "w2": {"roles": ["worker"], "flavor": "m1.small"},
}


def config(name: str) -> dict:
    return {"mlops_cluster_name": name, "infra_nodes": NODES, "infra_data_volume": {}}


def assert_state_knows_everything(st, conn, name: str) -> None:
    on_cloud = leftovers(conn, f"{name}-")
    assert sorted(on_cloud["servers"]) == [f"{name}-{n}" for n in sorted(NODES)]
    assert sorted(on_cloud["ports"]) == [f"{name}-{n}" for n in sorted(NODES)]
    assert st.plan_is_empty(), "the re-run left a plan with changes"
    state = st.state()
    assert sum(a.endswith("openstack_compute_instance_v2.this") for a in state) == 1
    servers_in_state = st.terraform_show_servers()
    assert servers_in_state == sorted(s.id for s in conn.compute.servers() if s.name.startswith(f"{name}-"))


@pytest.fixture
def instances_quota(admin, conn):
    project = conn.current_project_id
    before = admin.compute.get_quota_set(project).instances

    def set_to(n: int) -> None:
        admin.set_compute_quotas(project, instances=n)

    yield set_to
    set_to(before)


def test_quota_hit_halfway(stage, conn, instances_quota):
    """Another user takes the headroom after preflight: the apply stops at the quota."""
    ensure_keypair(conn, "mlops-ops")
    st = stage("fault: quota hit halfway")
    instances_quota(2)
    # Preflight would refuse this (tests/cloud/test_preflight.py): the quota changes after it.
    hit = st.play("infra", {**config("fq"), "infra_preflight": False}, timing="apply (fails at quota)")
    out = " ".join(hit.stdout.split())
    assert hit.returncode != 0
    assert "instances quota is exceeded" in out, out[-3000:]
    # Nova's quota re-check put the server(s) over the quota into ERROR (the state keeps
    # them as tainted: the re-run replaces them).
    active = [s.name for s in conn.compute.servers() if s.name.startswith("fq-") and s.status == "ACTIVE"]
    assert len(active) <= 2
    instances_quota(10)
    rerun = st.play("infra", config("fq"), timing="re-run")
    assert rerun.returncode == 0, rerun.stdout[-4000:]
    assert_state_knows_everything(st, conn, "fq")
    gone = st.play("destroy", config("fq"), timing="destroy")
    assert gone.returncode == 0, gone.stdout[-3000:]
    assert leftovers(conn, "fq-") == {}


def test_service_stopped_mid_apply(stage, conn, cloud):
    """nova-api goes away while Neutron resources are being created."""
    ensure_keypair(conn, "mlops-ops")
    st = stage("fault: nova-api stopped")
    proc = st.popen("infra", config("fs"))
    try:
        deadline = time.monotonic() + 300
        while not list(conn.network.ports(name="fs-cp1")):
            assert proc.poll() is None, proc.stdout.read()[-3000:]
            assert time.monotonic() < deadline, "the apply never reached the ports"
            time.sleep(0.2)
        cloud.stop_service("nova")
        out = " ".join(proc.communicate(timeout=900)[0].split())
    finally:
        if proc.poll() is None:
            proc.kill()
        if "nova" not in cloud.pids():
            cloud.start_service("nova")
    assert proc.returncode != 0, out[-3000:]
    assert "terraform apply" in out and "failed" in out, out[-3000:]
    rerun = st.play("infra", config("fs"), timing="re-run")
    assert rerun.returncode == 0, rerun.stdout[-4000:]
    assert recap(rerun.stdout)["changed"] >= 1
    assert_state_knows_everything(st, conn, "fs")
    gone = st.play("destroy", config("fs"), timing="destroy")
    assert gone.returncode == 0, gone.stdout[-3000:]
    assert leftovers(conn, "fs-") == {}
