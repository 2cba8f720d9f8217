"""Values pinned in one place and repeated where another language needs them agree."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def versions_env() -> dict[str, str]:
    pairs = (line.split("=", 1) for line in (ROOT / "versions.env").read_text().splitlines())
    return {k.strip(): v.strip() for k, v in (p for p in pairs if len(p) == 2 and not p[0].startswith("#"))}


def test_the_terraform_minimum_is_one_version_everywhere():
    from ansible_collections.mlops.platform.plugins.module_utils.terraform.cli import MIN_VERSION

    pinned = versions_env()["TERRAFORM_MIN_VERSION"]
    assert ".".join(map(str, MIN_VERSION)) == pinned
    roots = [p for p in (ROOT / "terraform").rglob("*.tf") if ".terraform" not in p.parts]
    required = {
        str(p.relative_to(ROOT)): m[1]
        for p in roots
        if (m := re.search(r'required_version\s*=\s*"([^"]+)"', p.read_text()))
    }
    assert required and set(required.values()) == {f">= {pinned}"}, required


def test_the_applications_mlflow_client_is_the_servers_version():
    constraints = (ROOT / "apps" / "digits" / "constraints.txt").read_text()
    client = re.search(r"^mlflow-skinny==(\S+)$", constraints, re.M)
    assert client and client[1] == versions_env()["MLFLOW_VERSION"]


def test_status_knows_the_platform_roles_default_apps():
    """mlopsctl status lists the URLs of the apps the platform role installs by default."""
    import yaml

    from mlops_platform.urls import DEFAULT_APPS

    defaults = yaml.safe_load((ROOT / "roles" / "platform" / "defaults" / "main.yml").read_text())
    assert defaults["platform_apps"] == DEFAULT_APPS
