# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""playbooks/infra.yml and playbooks/destroy.yml end to end, on stand-in roots.

The roots are tests/fixtures/terraform/stage_{cluster,data_volume}: the same output shapes
as terraform/ and terraform/data-volume with terraform_data only, because no cloud is
reachable here (infra_preflight=false for the same reason). Everything else is real:
the shipped platform.yml, the role, terraform_stack, terraform, the inventory plugin.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from ansible_run import inventory_list

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "fixtures" / "terraform"


@pytest.fixture
def stage(tmp_path):
    cluster = tmp_path / "cluster"
    data = tmp_path / "data"
    shutil.copytree(FIXTURES / "stage_cluster", cluster)
    shutil.copytree(FIXTURES / "stage_data_volume", data)
    inv = tmp_path / "inventory"
    shutil.copytree(ROOT / "inventory" / "openstack" / "group_vars", inv / "group_vars")
    (inv / "terraform.yml").write_text(f"plugin: mlops.platform.terraform\nproject_path: {cluster}\n")
    (tmp_path / "clouds.yaml").write_text("clouds:\n  mlops:\n    auth: {}\n")
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        OS_CLIENT_CONFIG_FILE=str(tmp_path / "clouds.yaml"),
        ANSIBLE_CALLBACKS_ENABLED="",
        ANSIBLE_NOCOLOR="1",
    )
    extra = json.dumps(
        {"infra_preflight": False, "infra_terraform_dir": str(cluster), "infra_data_volume_dir": str(data)}
    )

    def play(name: str, *more: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["ansible-playbook", "-i", str(inv), f"playbooks/{name}.yml", "-e", extra, *more],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=600,
        )

    def inventory() -> dict:
        proc = inventory_list(inv, env)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)

    def managed(root: Path) -> list[str]:
        path = root / "terraform.tfstate"
        state = json.loads(path.read_text()) if path.exists() else {}
        return sorted(f"{r['type']}.{r['name']}" for r in state.get("resources", []))

    return play, inventory, managed, cluster, data


def recap(stdout: str) -> dict:
    m = re.search(r"localhost\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", stdout)
    assert m, stdout[-2000:]
    return dict(zip(("ok", "changed", "unreachable", "failed"), map(int, m.groups()), strict=True))


def test_infra_then_destroy_keeps_the_data_volume(stage):
    play, inventory, managed, cluster, data = stage
    assert inventory()["_meta"]["hostvars"] == {}

    first = play("infra")
    assert first.returncode == 0, first.stdout[-3000:]
    assert recap(first.stdout)["changed"] == 2
    inv = inventory()
    hv = inv["_meta"]["hostvars"]
    assert sorted(hv) == ["cp1", "w1", "w2"]
    volume_id = json.loads((data / "terraform.tfstate").read_text())["outputs"]["id"]["value"]
    assert hv["cp1"]["mlops_data_volume"] == {"id": volume_id, "device": "/dev/vdb"}
    assert hv["cp1"]["ansible_host"] == "203.0.113.50" and hv["cp1"]["ansible_user"] == "debian"
    assert hv["w1"]["ansible_ssh_common_args"] == "-o ProxyJump=debian@203.0.113.50"
    assert sorted(inv["etcd"]["hosts"]) == ["cp1", "w1", "w2"]

    again = play("infra")
    assert again.returncode == 0 and recap(again.stdout)["changed"] == 0, again.stdout[-3000:]

    wrong = play("destroy", "-e", "destroy_data=true", "-e", "destroy_data_confirm=mlops")
    assert wrong.returncode != 0
    assert "deletes the data volume mlops-data" in " ".join(wrong.stdout.split())
    assert "terraform_data.node" in managed(cluster)  # refused before anything was destroyed

    kept = play("destroy")
    assert kept.returncode == 0, kept.stdout[-3000:]
    assert managed(cluster) == []
    assert managed(data) == ["terraform_data.volume"]
    assert "data volume mlops-data kept" in kept.stdout

    gone = play("destroy", "-e", "destroy_data=true", "-e", "destroy_data_confirm=mlops-data")
    assert gone.returncode == 0, gone.stdout[-3000:]
    assert managed(data) == []
    assert "data volume deleted" in gone.stdout


def test_invalid_config_fails_before_terraform(stage):
    play, _, managed, cluster, data = stage
    bad = play("infra", "-e", '{"infra_nodes": {"w1": {"roles": ["worker", "etcd"], "flavor": "m1"}}}')
    assert bad.returncode != 0
    assert "infra_nodes: no node has the control_plane role" in bad.stdout
    assert managed(cluster) == [] and managed(data) == []
