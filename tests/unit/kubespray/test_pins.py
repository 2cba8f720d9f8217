# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""Bumping Kubespray is one change: versions.env, requirements.yml and the fixture agree.

The Kubernetes version of the platform config is one the pinned Kubespray has
checksums for, read from its tree (the preflight reads the same tables at run time).
"""

from __future__ import annotations

import tarfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]


def test_requirements_pin_the_version_of_versions_env(kubespray_version):
    entries = yaml.safe_load((ROOT / "requirements.yml").read_text())["collections"]
    kubespray = [e for e in entries if "kubespray" in e["name"]]
    assert len(kubespray) == 1, kubespray
    assert kubespray[0]["version"] == f"v{kubespray_version}", (
        f"requirements.yml pins {kubespray[0]['version']}, versions.env KUBESPRAY_VERSION={kubespray_version}"
    )


def test_fixture_is_the_pinned_release(kubespray_tarball, kubespray_version):
    with tarfile.open(kubespray_tarball) as tar:
        galaxy = yaml.safe_load(tar.extractfile(f"kubespray-{kubespray_version}/galaxy.yml"))
    assert galaxy["version"] == kubespray_version
    assert (galaxy["namespace"], galaxy["name"]) == ("kubernetes_sigs", "kubespray")


def supported(kubespray_yaml, arch: str = "amd64") -> list[str]:
    tables = kubespray_yaml["roles/kubespray_defaults/vars/main/checksums.yml"]
    kinds = ("kubeadm_checksums", "kubelet_checksums", "kubectl_checksums")
    return sorted(set.intersection(*(set(tables[k][arch]) for k in kinds)))


def test_platform_kubernetes_version_is_one_kubespray_installs(kubespray_yaml):
    config = yaml.safe_load((ROOT / "inventory/openstack/group_vars/all/platform.yml").read_text())
    assert config["mlops_kubernetes_version"] in supported(kubespray_yaml), (
        f"mlops_kubernetes_version {config['mlops_kubernetes_version']} is not in the pinned Kubespray's "
        f"checksums: {supported(kubespray_yaml)}"
    )


def test_kubespray_ansible_core_range_is_ours(kubespray_yaml):
    play = kubespray_yaml["playbooks/ansible_version.yml"][0]
    pyproject = (ROOT / "pyproject.toml").read_text()
    low, high = play["vars"]["minimal_ansible_version"], play["vars"]["maximal_ansible_version"]
    assert f'"ansible-core>={low.rsplit(".", 1)[0]},<{high.rsplit(".", 1)[0]}"' in pyproject
