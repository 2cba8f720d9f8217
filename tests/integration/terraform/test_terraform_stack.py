# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""terraform_stack end to end: ansible-playbook -> the module -> python-terraform -> real terraform.

The root is tests/fixtures/terraform/local_stack (terraform_data only: no provider download).
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
import yaml
from ansible_run import inventory_list
from terraform_run import mirror_env, terraform

ROOT = Path(__file__).resolve().parents[3]
FIXTURE = ROOT / "tests" / "fixtures" / "terraform" / "local_stack"
NODES3 = {
    "cp1": {"roles": ["control_plane", "etcd"]},
    "w1": {"roles": ["worker"]},
    "w2": {"roles": ["worker"]},
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    if shutil.which("terraform") is None:
        pytest.fail("terraform is not on PATH: run `make test-deps` (scripts/build-go.sh terraform)")
    dest = tmp_path / "stack"
    shutil.copytree(FIXTURE, dest)
    return dest


def run_module(tmp_path: Path, args: dict, *, check: bool = False, diff: bool = False) -> dict:
    """Run one terraform_stack task through ansible-playbook; return the task's result."""
    play = [
        {
            "name": "terraform_stack",
            "hosts": "localhost",
            "gather_facts": False,
            "tasks": [{"name": "stack", "mlops.platform.terraform_stack": args, "ignore_errors": True}],
        }
    ]
    book = tmp_path / "play.yml"
    book.write_text(yaml.safe_dump(play))
    env = dict(
        os.environ,
        ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
        ANSIBLE_CALLBACKS_ENABLED="",
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        ANSIBLE_LOCALHOST_WARNING="false",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
    )
    cmd = ["ansible-playbook", "-i", "localhost,", "-c", "local", str(book)]
    if check:
        cmd.append("--check")
    if diff:
        cmd.append("--diff")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        pytest.fail(f"ansible-playbook gave no JSON (rc {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return report["plays"][0]["tasks"][0]["hosts"]["localhost"]


def state_resources(project: Path) -> list[str]:
    path = project / "terraform.tfstate"
    if not path.exists():
        return []
    state = json.loads(path.read_text())
    return sorted(f"{r['type']}.{r['name']}" for r in state.get("resources", []) if r["mode"] == "managed")


def test_check_mode_creates_nothing_and_summarizes(project, tmp_path):
    result = run_module(
        tmp_path, {"project_path": str(project), "variables": {"nodes": NODES3}}, check=True, diff=True
    )
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is True
    assert result["plan"]["add"] == 5 and result["plan"]["destroy"] == 0
    assert 'terraform_data.node["cp1"]' in result["plan"]["addresses"]["add"]
    assert "terraform_data.volume" in result["diff"]["prepared"]
    assert state_resources(project) == []
    assert not (project / "terraform_stack.auto.tfvars.json").exists()


def test_apply_idempotent_outputs_protect_destroy(project, tmp_path):
    args = {
        "project_path": str(project),
        "protect": ["terraform_data.volume"],
        "variables": {"nodes": NODES3},
        "sensitive_variables": {"secret_token": "s3cr3t-value"},
    }
    first = run_module(tmp_path, args)
    assert not first.get("failed"), first.get("msg")
    assert first["changed"] is True
    assert sorted(first["outputs"]["inventory"]) == ["cp1", "w1", "w2"]
    assert first["outputs"]["inventory"]["cp1"]["roles"] == ["control_plane", "etcd"]
    assert first["outputs"]["data_volume"]["name"] == "data"
    assert "s3cr3t-value" not in json.dumps(first)
    vars_file = project / "terraform_stack.auto.tfvars.json"
    assert stat.S_IMODE(vars_file.stat().st_mode) == 0o600

    second = run_module(tmp_path, args)
    assert second["changed"] is False
    assert second["plan"]["add"] == second["plan"]["change"] == second["plan"]["destroy"] == 0
    assert second["outputs"] == first["outputs"]

    # Growing the node map adds, it replaces nothing.
    grown = dict(args, variables={"nodes": {**NODES3, "w3": {"roles": ["worker"]}}})
    third = run_module(tmp_path, grown)
    assert third["changed"] is True and third["plan"]["add"] == 1 and third["plan"]["destroy"] == 0
    assert third["outputs"]["inventory"]["cp1"]["id"] == first["outputs"]["inventory"]["cp1"]["id"]

    # Replacing the protected volume is refused and changes nothing.
    renamed = dict(grown, variables={**grown["variables"], "volume_name": "other"})
    refused = run_module(tmp_path, renamed)
    assert refused.get("failed") is True
    assert "terraform_data.volume" in refused["msg"] and "protected" in refused["msg"]
    assert run_module(tmp_path, grown)["changed"] is False

    # Destroying with the volume protected is refused, the state keeps everything.
    refused = run_module(tmp_path, dict(grown, state="absent"))
    assert refused.get("failed") is True and "terraform_data.volume" in refused["msg"]
    assert "terraform_data.volume" in state_resources(project)

    # Check mode of a destroy shows it and removes nothing.
    preview = run_module(tmp_path, dict(grown, state="absent", protect=[]), check=True)
    assert preview["changed"] is True and preview["plan"]["destroy"] == 6
    assert "terraform_data.volume" in state_resources(project)

    gone = run_module(tmp_path, dict(grown, state="absent", protect=[]))
    assert not gone.get("failed"), gone.get("msg")
    assert gone["changed"] is True and gone["outputs"] == {}
    assert state_resources(project) == []
    again = run_module(tmp_path, dict(grown, state="absent", protect=[]))
    assert again["changed"] is False


def test_workspace_keeps_separate_state(project, tmp_path):
    args = {"project_path": str(project), "workspace": "staging", "variables": {"nodes": {}}}
    result = run_module(tmp_path, args)
    assert not result.get("failed"), result.get("msg")
    assert result["workspace"] == "staging"
    assert (project / "terraform.tfstate.d" / "staging" / "terraform.tfstate").exists()
    assert state_resources(project) == []


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"binary": "no-such-terraform"}, "no 'no-such-terraform' binary on PATH"),
        ({"cloud": "nowhere"}, "cloud 'nowhere'"),
        ({"project_path": "/nonexistent/stack"}, "is not a directory"),
    ],
)
def test_clear_errors(project, tmp_path, monkeypatch, args, expected):
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(tmp_path / "clouds.yaml"))
    (tmp_path / "clouds.yaml").write_text("clouds:\n  mlops:\n    auth: {}\n")
    result = run_module(tmp_path, {"project_path": str(project), **args})
    assert result.get("failed") is True
    assert expected in result["msg"]


def test_lock_held_is_reported(project, tmp_path):
    """A second run while the state is locked names the lock and its holder."""
    run_module(tmp_path, {"project_path": str(project)})
    holder = subprocess.Popen(
        ["python3", "-c", LOCK_HOLDER, str(project / "terraform.tfstate")], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        result = run_module(
            tmp_path, {"project_path": str(project), "variables": {"volume_name": "x"}, "protect": []}
        )
    finally:
        holder.terminate()
        holder.wait()
    assert result.get("failed") is True
    assert "state lock is held" in result["msg"], result["msg"]


# Terraform's local backend locks the state file with fcntl; holding that lock is
# exactly what another terraform run does.
LOCK_HOLDER = """
import fcntl, sys, time
f = open(sys.argv[1], 'r+')
fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
print('locked', flush=True)
time.sleep(120)
"""


def test_real_modules_validate_with_the_provider_schema(tmp_path):
    """terraform validate of terraform/ and terraform/data-volume with the real OpenStack provider."""
    env = mirror_env()
    for rel in ("terraform", "terraform/data-volume"):
        src = ROOT / rel
        dest = tmp_path / rel.replace("/", "_")
        shutil.copytree(src, dest, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"))
        if rel == "terraform":
            dest_modules = dest / "modules"
            assert dest_modules.is_dir()
        init = terraform("init", "-backend=false", "-input=false", "-no-color", cwd=dest, env=env)
        assert init.returncode == 0, f"{rel}: init failed:\n{init.stdout}\n{init.stderr}"
        val = terraform("validate", "-json", cwd=dest, env=env)
        report = json.loads(val.stdout)
        assert report["valid"], f"{rel}: {report['diagnostics']}"


def test_inventory_plugin_reads_terraform_output(tmp_path):
    """The plugin runs `terraform output` through the wrapper (project_path mode), per workspace."""
    root = tmp_path / "cluster"
    root.mkdir()
    shutil.copy(ROOT / "tests" / "fixtures" / "terraform" / "outputs_3.json", root / "recorded.json")
    (root / "main.tf").write_text(
        'locals {\n  rec = jsondecode(file("${path.module}/recorded.json"))\n}\n'
        + "".join(
            f'output "{k}" {{\n  value = local.rec.{k}\n}}\n'
            for k in ("inventory", "floating_ip", "api_endpoint", "data_volume")
        )
    )
    result = run_module(tmp_path, {"project_path": str(root), "workspace": "blue"})
    assert not result.get("failed"), result.get("msg")
    config = tmp_path / "terraform.yml"
    config.write_text("plugin: mlops.platform.terraform\nproject_path: cluster\nworkspace: blue\n")
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    proc = inventory_list(config, env)
    assert proc.returncode == 0, proc.stderr
    inv = json.loads(proc.stdout)
    assert sorted(inv["_meta"]["hostvars"]) == ["cp1", "w1", "w2"]
    assert inv["_meta"]["hostvars"]["w2"]["ansible_ssh_common_args"] == "-o ProxyJump=debian@203.0.113.50"
    # The default workspace has no outputs yet: one warning and an empty inventory.
    config.write_text("plugin: mlops.platform.terraform\nproject_path: cluster\n")
    proc = inventory_list(config, env)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["_meta"]["hostvars"] == {}
    assert "no Terraform outputs yet" in " ".join(proc.stderr.split())
