# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""Testinfra checks of the cluster scenario: the node, and the operator's kubeconfig."""

import json
import os
import stat
from pathlib import Path

import yaml

EPHEMERAL = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])
KUBECONFIG = EPHEMERAL / "artifacts" / "mlops" / "kubeconfig"


def _server() -> str:
    state = json.loads((EPHEMERAL / "controlplane" / "state.json").read_text())
    return f"https://127.0.0.1:{state['api_port']}"


def test_admin_conf_on_first_control_plane(host):
    conf = host.file("/etc/kubernetes/admin.conf")
    assert conf.exists
    assert conf.mode == 0o600
    assert "server: https://10.42.0.10:6443" in conf.content_string


def test_node_prepared_and_data_volume_mounted(host):
    assert host.file("/etc/sysctl.d/99-kubernetes.conf").contains("net.ipv4.ip_forward=1")
    assert host.mount_point("/srv/mlops-data").device == "/dev/vdb"
    assert host.file("/srv/mlops-data/local-path").is_directory


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
