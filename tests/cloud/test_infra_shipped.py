"""The shipped platform.yml through playbooks/infra.yml and destroy.yml on the local OpenStack.

Real Keystone/Nova/Neutron/Cinder/Glance/Placement, the real provider, our
terraform_stack and openstack_preflight, the inventory plugin on the real outputs.
"""

from __future__ import annotations

import re

from conftest import ensure_keypair, leftovers, recap


def usage(conn) -> dict:
    """What the project uses, by the quota names openstack_preflight checks."""
    project = conn.current_project_id
    lim = conn.compute.get_limits().absolute
    out = {"instances": lim.instances_used, "cores": lim.total_cores_used, "ram": lim.total_ram_used}
    net = conn.network.get_quota(project, details=True)
    for name in ("floating_ips", "security_groups", "security_group_rules", "ports"):
        out[name] = getattr(net, name)["used"]
    vol = conn.block_storage.get_quota_set(project, usage=True)
    out.update(volumes=vol.usage["volumes"], gigabytes=vol.usage["gigabytes"])
    return out


def preflight_needs(stdout: str) -> dict:
    m = re.search(r"preflight: needs \{([^}]*)\}", " ".join(stdout.split()))
    assert m, stdout[-3000:]
    return {k: int(v) for k, v in re.findall(r"(\w+)'*: (\d+)", m.group(1))}


def test_shipped_config_lifecycle(stage, conn):
    st = stage("shipped config (3 nodes)")
    ensure_keypair(conn, "mlops-ops")  # the shipped config names an existing key pair

    checked = st.play("infra", None, "--check", "--diff", timing="check mode")
    assert checked.returncode == 0, checked.stdout[-4000:]
    assert re.search(r"plan \+\d+ ~0 -0", " ".join(checked.stdout.split())), checked.stdout[-3000:]
    assert leftovers(conn, "mlops-") == {} and st.state() == [], "check mode created something"

    before = usage(conn)
    first = st.play("infra", timing="apply")
    assert first.returncode == 0, first.stdout[-4000:]
    assert recap(first.stdout)["changed"] == 2  # the data volume root, then the cluster root
    # What preflight said the plan needs is what the apply took from the quotas.
    after = usage(conn)
    taken = {k: after[k] - before[k] for k in after if after[k] != before[k]}
    needs = preflight_needs(first.stdout)
    # Preflight also counts the subnet's DHCP port, which only a DHCP agent creates
    # (a real cloud has one; this one has no agents).
    assert needs.pop("ports") == taken.pop("ports") + 1
    assert needs == taken

    inv = st.inventory()
    hv = inv["_meta"]["hostvars"]
    assert sorted(hv) == ["cp1", "w1", "w2"]
    servers = {s.name: s for s in conn.compute.servers() if s.name.startswith("mlops-")}
    assert sorted(servers) == ["mlops-cp1", "mlops-w1", "mlops-w2"]
    assert all(s.status == "ACTIVE" for s in servers.values())
    fip = next(iter(conn.network.ips(port_id=next(iter(conn.network.ports(name="mlops-cp1"))).id)))
    assert hv["cp1"]["ansible_host"] == fip.floating_ip_address
    assert hv["w1"]["ansible_ssh_common_args"] == f"-o ProxyJump=debian@{fip.floating_ip_address}"
    assert (
        hv["w1"]["ansible_host"] == next(iter(conn.network.ports(name="mlops-w1"))).fixed_ips[0]["ip_address"]
    )
    assert sorted(inv["kube_control_plane"]["hosts"]) == ["cp1"]
    assert sorted(inv["etcd"]["hosts"]) == ["cp1", "w1", "w2"]
    volume = conn.block_storage.find_volume("mlops-data")
    assert volume.status == "in-use" and volume.size == 100
    assert volume.attachments[0]["server_id"] == servers["mlops-cp1"].id
    assert hv["cp1"]["mlops_data_volume"]["id"] == volume.id

    assert st.plan_is_empty(), "re-plan after apply shows changes"
    assert st.plan_is_empty(st.tf / "data-volume")
    again = st.play("infra", timing="second run")
    assert again.returncode == 0 and recap(again.stdout)["changed"] == 0, again.stdout[-4000:]

    grown = st.play(
        "infra",
        {
            "infra_nodes": {
                "cp1": {"roles": ["control_plane", "etcd"], "flavor": "m1.large"},
                "w1": {"roles": ["worker", "etcd"], "flavor": "m1.xlarge"},
                "w2": {"roles": ["worker", "etcd"], "flavor": "m1.xlarge"},
                "w3": {"roles": ["worker"], "flavor": "m1.xlarge"},
            }
        },
        timing="grow 3 -> 4",
    )
    assert grown.returncode == 0, grown.stdout[-4000:]
    assert "plan +2 ~0 -0" in grown.stdout  # the new node and its port; nothing else
    after = {s.name: s.id for s in conn.compute.servers() if s.name.startswith("mlops-")}
    assert {k: v.id for k, v in servers.items()}.items() <= after.items(), "a node was replaced"
    assert sorted(st.inventory()["_meta"]["hostvars"]) == ["cp1", "w1", "w2", "w3"]

    kept = st.play("destroy", timing="destroy (volume kept)")
    assert kept.returncode == 0, kept.stdout[-4000:]
    assert "data volume mlops-data kept" in kept.stdout
    assert st.state() == []
    assert leftovers(conn, "mlops-") == {"volumes": ["mlops-data"]}
    assert conn.block_storage.get_volume(volume.id).status == "available"

    wrong = st.play("destroy", {"destroy_data": True, "destroy_data_confirm": "mlops"})
    assert wrong.returncode != 0
    assert conn.block_storage.find_volume("mlops-data") is not None

    gone = st.play(
        "destroy", {"destroy_data": True, "destroy_data_confirm": "mlops-data"}, timing="destroy data volume"
    )
    assert gone.returncode == 0, gone.stdout[-4000:]
    assert leftovers(conn, "mlops-") == {}
    assert st.state(st.tf / "data-volume") == []
