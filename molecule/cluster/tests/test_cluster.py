# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""Testinfra checks of the cluster scenario: the nodes, and the operator's kubeconfig.

node_prep and Kubespray's preinstall both ran on every node; each one's settings must
still be there, and where both set the same sysctl they must agree.
"""

import json
import os
import stat
from pathlib import Path

import pytest
import yaml

EPHEMERAL = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])
KUBECONFIG = EPHEMERAL / "artifacts" / "mlops" / "kubeconfig"


def _server() -> str:
    state = json.loads((EPHEMERAL / "controlplane" / "state.json").read_text())
    return f"https://127.0.0.1:{state['api_port']}"


def _sysctl_file(host, path: str) -> dict[str, str]:
    lines = host.file(path).content_string.splitlines()
    pairs = (line.split("=", 1) for line in lines if "=" in line and not line.lstrip().startswith("#"))
    return {k.strip(): v.strip() for k, v in pairs}


def test_admin_conf_on_first_control_plane(host):
    if host.backend.get_hostname() != "cl-cp1":
        pytest.skip("admin.conf is on the first control plane only")
    conf = host.file("/etc/kubernetes/admin.conf")
    assert conf.exists
    assert conf.mode == 0o600
    assert "server: https://10.88.210.10:6443" in conf.content_string


def test_data_volume_mounted(host):
    if host.backend.get_hostname() != "cl-cp1":
        pytest.skip("the data volume is on the first control plane only")
    assert host.mount_point("/srv/mlops-data").device == "/dev/vdb"
    assert host.file("/srv/mlops-data/local-path").is_directory


def test_node_prep_and_kubespray_preinstall_agree(host):
    ours = _sysctl_file(host, "/etc/sysctl.d/99-kubernetes.conf")
    kubespray = _sysctl_file(host, "/etc/sysctl.d/99-sysctl.conf")
    assert ours["net.ipv4.ip_forward"] == "1"
    assert kubespray["net.ipv4.ip_forward"] == "1"
    disagree = {k: (ours[k], kubespray[k]) for k in ours.keys() & kubespray.keys() if ours[k] != kubespray[k]}
    assert disagree == {}, f"node_prep and Kubespray set these sysctls differently: {disagree}"
    # Swap off in both: node_prep comments it out of fstab, Kubespray masks swap.target.
    assert not any(
        " swap " in line and not line.startswith("#")
        for line in host.file("/etc/fstab").content_string.splitlines()
    )
    assert host.file("/etc/systemd/system/swap.target").linked_to == "/dev/null"
    # Kubespray's bootstrap_os installed its packages from Debian; node_prep's modules file stays.
    assert host.package("curl").is_installed
    assert host.file("/etc/modules-load.d/kubernetes.conf").contains("br_netfilter")
    assert host.user("kube").exists


def test_operator_kubeconfig_file():
    assert KUBECONFIG.is_file(), f"{KUBECONFIG} was not written"
    assert stat.S_IMODE(KUBECONFIG.stat().st_mode) == 0o600
    doc = yaml.safe_load(KUBECONFIG.read_text())
    assert doc["current-context"] == "mlops"
    assert doc["clusters"][0]["name"] == "mlops"
    assert doc["clusters"][0]["cluster"]["server"] == _server()
    assert "certificate-authority-data" in doc["clusters"][0]["cluster"]


def test_operator_kubeconfig_reaches_the_api_server():
    from kubernetes import client, config

    api = config.new_client_from_config(config_file=str(KUBECONFIG))
    version = client.VersionApi(api).get_code()
    assert version.git_version  # the test apiserver is built without a release tag
    assert version.platform.startswith("linux/")
