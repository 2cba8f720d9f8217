# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""The shipped platform.yml, through the config module, planned by the real cluster root.

The derived variables go to `terraform test` (mock provider, real terraform, real
provider schema from the mirror), so the config module and the root's variable types
and validations cannot drift apart.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tests" / "unit" / "plugins" / "module_utils" / "config"))

from ansible_collections.mlops.platform.plugins.module_utils.config import infra  # noqa: E402
from terraform_run import mirror_env, terraform  # noqa: E402
from test_infra import shipped_config  # noqa: E402


def test_shipped_config_plans_on_the_real_root(tmp_path):
    root = tmp_path / "terraform"
    shutil.copytree(
        ROOT / "terraform",
        root,
        ignore=shutil.ignore_patterns(
            ".terraform*", "*.tfstate*", "tests", "examples", "data-volume", "*.auto.tfvars.json"
        ),
    )
    variables = infra.cluster_variables(shipped_config(), "6f1c7e52-8d0b-4b7e-9a35-0d5c1f1e2a77")
    (root / "shipped.tfvars.json").write_text(json.dumps(variables))
    (root / "tests").mkdir()
    (root / "tests" / "shipped.tftest.hcl").write_text("""
mock_provider "openstack" {
  mock_resource "openstack_networking_port_v2" {
    defaults = { all_fixed_ips = ["10.42.0.10"] }
  }
  mock_resource "openstack_networking_floatingip_v2" {
    defaults = { address = "203.0.113.50" }
  }
}
run "shipped" {
  assert {
    condition     = jsonencode(sort(keys(output.inventory.hosts))) == jsonencode(["cp1", "w1", "w2"])
    error_message = "the shipped nodes must all be in the inventory output"
  }
  assert {
    condition     = output.data_volume.node == "cp1" && output.api_endpoint == "https://203.0.113.50:6443"
    error_message = "cp1 carries the data volume and the floating IP"
  }
  assert {
    condition     = output.security_group_rules == 5
    error_message = "1 internal + 2 admin + 2 ingress rules expected"
  }
}
""")
    env = mirror_env()
    init = terraform("init", "-backend=false", "-input=false", "-no-color", cwd=root, env=env)
    assert init.returncode == 0, init.stderr
    test = terraform("test", "-no-color", "-var-file=shipped.tfvars.json", cwd=root, env=env)
    assert test.returncode == 0, test.stdout + test.stderr
    assert "1 passed, 0 failed" in test.stdout
    assert infra.ingress_rule_count(shipped_config()) == 5


def test_provider_missing_is_named(tmp_path):
    """An empty provider mirror: terraform init fails and the module says which provider and what to do."""
    project = tmp_path / "stack"
    shutil.copytree(
        ROOT / "terraform" / "data-volume", project, ignore=shutil.ignore_patterns(".terraform*", "tests")
    )
    (tmp_path / "mirror").mkdir()
    rc = tmp_path / "terraformrc"
    rc.write_text(
        f'provider_installation {{\n  filesystem_mirror {{\n    path = "{tmp_path / "mirror"}"\n'
        '    include = ["registry.terraform.io/*/*"]\n  }\n}\n'
    )
    from ansible_collections.mlops.platform.plugins.module_utils.terraform.errors import TerraformError
    from ansible_collections.mlops.platform.plugins.module_utils.terraform.stack import Stack, StackSpec

    old = os.environ.get("TF_CLI_CONFIG_FILE")
    os.environ["TF_CLI_CONFIG_FILE"] = str(rc)
    try:
        with pytest.raises(TerraformError) as e:
            Stack(StackSpec(project=str(project), variables={"cloud": "x", "name": "d"})).run(check_mode=True)
    finally:
        if old is None:
            os.environ.pop("TF_CLI_CONFIG_FILE")
        else:
            os.environ["TF_CLI_CONFIG_FILE"] = old
    assert e.value.kind == "provider"
    assert "terraform-provider-openstack/openstack is not installed" in str(e.value)


def test_too_old_binary_is_refused(tmp_path, monkeypatch):
    """A stand-in `terraform` that reports 1.5.7: only the version check can be exercised this way."""
    fake = tmp_path / "bin" / "terraform"
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\necho \'{"terraform_version":"1.5.7","platform":"linux_amd64"}\'\n')
    fake.chmod(0o755)
    (tmp_path / "main.tf").write_text("")
    monkeypatch.setenv("PATH", f"{fake.parent}:{os.environ['PATH']}")
    from ansible_collections.mlops.platform.plugins.module_utils.terraform.cli import TerraformCli
    from ansible_collections.mlops.platform.plugins.module_utils.terraform.errors import TerraformError

    with pytest.raises(TerraformError, match=r"terraform 1.5.7 is too old: the platform needs >= 1.10.0"):
        TerraformCli(str(tmp_path))
