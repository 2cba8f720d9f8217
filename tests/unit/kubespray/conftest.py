# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""Kubespray's release tree, read in place from the vendored fixture (never copied here)."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]


def versions_env() -> dict[str, str]:
    lines = (ROOT / "versions.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))


@pytest.fixture(scope="session")
def kubespray_version() -> str:
    return versions_env()["KUBESPRAY_VERSION"]


@pytest.fixture(scope="session")
def kubespray_tarball(shared_fixtures, kubespray_version) -> Path:
    path = shared_fixtures / "src" / f"kubespray-v{kubespray_version}.tar.gz"
    assert path.is_file(), f"versions.env pins Kubespray {kubespray_version}; the fixture {path} is missing"
    return path


@pytest.fixture(scope="session")
def kubespray_text(kubespray_tarball) -> dict[str, str]:
    """The text of every file Ansible reads in the tree (roles, playbooks, sample inventory)."""
    texts = {}
    with tarfile.open(kubespray_tarball) as tar:
        for member in tar:
            path = member.name.split("/", 1)[1] if "/" in member.name else ""
            wanted = path.startswith(("roles/", "playbooks/", "inventory/sample/"))
            if member.isfile() and wanted and path.endswith((".yml", ".yaml", ".j2")):
                texts[path] = tar.extractfile(member).read().decode()
    return texts


@pytest.fixture(scope="session")
def kubespray_yaml(kubespray_text) -> dict[str, object]:
    """Every YAML file of the tree outside templates, parsed."""
    return {
        path: yaml.safe_load(text)
        for path, text in kubespray_text.items()
        if path.endswith((".yml", ".yaml")) and "/templates/" not in path
    }
