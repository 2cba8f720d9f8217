# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""Testinfra checks of the node_prep scenario: what an operator would find on the nodes."""

import subprocess

import pytest

DIRECTORIES = [
    ("local-path", 0, 0, 0o755),
    ("minio", 1000, 1000, 0o750),
    ("postgresql", 1001, 1001, 0o700),
    ("prometheus", 65534, 65534, 0o750),
    ("grafana", 472, 472, 0o750),
    ("label-studio", 1001, 0, 0o750),
]


@pytest.mark.parametrize(
    "line",
    [
        "net.ipv4.ip_forward=1",
        "net.ipv6.conf.all.forwarding=1",
        "net.bridge.bridge-nf-call-iptables=1",
        "net.bridge.bridge-nf-call-ip6tables=1",
    ],
)
def test_sysctls_persisted(host, line):
    conf = host.file("/etc/sysctl.d/99-kubernetes.conf")
    assert conf.exists and conf.mode == 0o644
    assert line in conf.content_string.splitlines()


def test_kernel_modules_load_at_boot(host):
    lines = host.file("/etc/modules-load.d/kubernetes.conf").content_string.splitlines()
    assert "overlay" in lines
    assert "br_netfilter" in lines


def test_swap_commented_out_of_fstab(host):
    lines = host.file("/etc/fstab").content_string.splitlines()
    swap = [line for line in lines if " swap " in line]
    assert swap, "the prepare step added a swap line"
    assert all(line.lstrip().startswith("#") for line in swap), swap


def test_data_volume_mounted_by_uuid(host):
    uuid = host.check_output("blkid -p -o value -s UUID /dev/vdb").strip()
    assert uuid
    fstab = host.file("/etc/fstab").content_string.splitlines()
    entries = [line.split() for line in fstab if "/srv/mlops-data" in line]
    assert len(entries) == 1, entries
    assert entries[0][0] == f"UUID={uuid}"
    assert entries[0][2] == "ext4"
    mount = host.mount_point("/srv/mlops-data")
    assert mount.exists
    assert mount.device == "/dev/vdb"


@pytest.mark.parametrize(("path", "uid", "gid", "mode"), DIRECTORIES)
def test_app_directories(host, path, uid, gid, mode):
    d = host.file(f"/srv/mlops-data/{path}")
    assert d.is_directory
    assert (d.uid, d.gid, d.mode) == (uid, gid, mode)


def test_existing_filesystem_kept(host):
    """np-node-2's volume held data before: same filesystem, marker still there."""
    if host.backend.get_hostname() != "np-node-2":
        assert not host.file("/srv/mlops-data/MARKER").exists
        assert host.check_output("blkid -p -o value -s LABEL /dev/vdb").strip() == ""
        return
    assert host.file("/srv/mlops-data/MARKER").content_string == "model weights from the last cluster\n"
    uuid_before = host.file("/root/seed-uuid").content_string.strip()
    assert host.check_output("blkid -p -o value -s UUID /dev/vdb").strip() == uuid_before
    assert host.check_output("blkid -p -o value -s LABEL /dev/vdb").strip() == "olddata"


def test_time_sync_enabled(host):
    name = "chrony" if host.backend.get_hostname() == "np-node-2" else "systemd-timesyncd"
    assert host.service(name).is_enabled
    if name == "chrony":
        conf = host.file("/etc/chrony/conf.d/mlops.conf").content_string
        assert "server ntp1.example.invalid iburst" in conf


def test_firewall(host):
    if host.backend.get_hostname() == "np-node-2":
        rules = host.file("/etc/nftables.mlops-host-firewall.nft").content_string
        assert "elements = { 10.42.0.0/24, 10.233.64.0/18, 10.233.0.0/18 }" in rules
        assert "policy drop;" in rules
        assert "flush ruleset" not in rules
        assert host.service("mlops-host-firewall").is_enabled
        # nft parses and checks the rules without loading them; --check still needs
        # netlink, which only a privileged exec gets in the container.
        check = subprocess.run(
            [
                "podman",
                "exec",
                "--privileged",
                "np-node-2",
                "nft",
                "--check",
                "--file",
                "/etc/nftables.mlops-host-firewall.nft",
            ],
            capture_output=True,
            text=True,
        )
        assert check.returncode == 0, check.stderr
    else:
        assert not host.file("/etc/nftables.mlops-host-firewall.nft").exists
