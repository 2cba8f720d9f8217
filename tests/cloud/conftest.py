"""The `cloud` tier: the real infra stage against a local OpenStack (mlops_platform.localcloud).

One cloud for the whole run, started here and stopped by its pids at the end (also when
the run is interrupted). MLOPS_LOCALCLOUD_DIR reuses a cloud that is already up there
(then it is left running). Each scenario records its apply/destroy times; the summary
prints them with the cloud's start time and memory.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ansible_run import inventory_list

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache"
TIMES: dict[str, float] = {}
CLOUD_FACTS: dict[str, object] = {}
PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBkE8yaDlWoMt3JkBDI5cZTtZCcv7tESeXuuVs2lZ4Rs cloud-tier"


@pytest.fixture(scope="session")
def cloud(tmp_path_factory):
    from mlops_platform.localcloud import LocalCloud, LocalCloudError

    reuse = os.environ.get("MLOPS_LOCALCLOUD_DIR")
    state_dir = Path(reuse) if reuse else tmp_path_factory.mktemp("localcloud")
    local = LocalCloud(state_dir, os.environ.get("MLOPS_OPENSTACK_VENV", str(CACHE / "openstack")))
    was_up = local.is_ready()
    if not was_up:
        atexit.register(local.down)  # even when the session is interrupted
        # A SIGTERM (a CI time-out) exits through atexit too, so no process outlives the run.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.monotonic()
    try:
        local.up()
    except (LocalCloudError, TimeoutError) as e:
        pytest.fail(f"the local OpenStack did not start: {e}")
    CLOUD_FACTS.update(
        start_seconds=round(time.monotonic() - started, 1),
        phases=local.timings,
        rss_mib=round(local.rss_mib()),
        processes=len(local._all_pids()),
        reused=was_up,
    )
    yield local
    if not was_up:
        local.down()


@pytest.fixture(scope="session")
def clouds_env(cloud) -> dict:
    return {"OS_CLIENT_CONFIG_FILE": str(cloud.clouds_yaml)}


def connect(cloud, name: str = "mlops"):
    import openstack.config
    import openstack.connection

    region = openstack.config.OpenStackConfig(config_files=[str(cloud.clouds_yaml)], load_envvars=False)
    return openstack.connection.Connection(config=region.get_one(cloud=name))


@pytest.fixture(scope="session")
def conn(cloud):
    return connect(cloud)


@pytest.fixture(scope="session")
def admin(cloud):
    return connect(cloud, "mlops-admin")


def leftovers(conn, prefix: str) -> dict[str, list[str]]:
    """Every project resource named after the cluster (what no plan may forget)."""

    def named(items):
        return sorted(i.name for i in items if (i.name or "").startswith(prefix))

    return {
        k: v
        for k, v in {
            "servers": named(conn.compute.servers()),
            "server_groups": named(conn.compute.server_groups()),
            "ports": named(conn.network.ports()),
            "networks": named(conn.network.networks()),
            "routers": named(conn.network.routers()),
            "security_groups": named(conn.network.security_groups()),
            "floating_ips": sorted(
                f.floating_ip_address for f in conn.network.ips() if (f.description or "").startswith(prefix)
            ),
            "volumes": named(conn.block_storage.volumes()),
        }.items()
        if v
    }


def recap(stdout: str) -> dict:
    m = re.search(r"localhost\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", stdout)
    assert m, stdout[-3000:]
    return dict(zip(("ok", "changed", "unreachable", "failed"), map(int, m.groups()), strict=True))


class Stage:
    """playbooks/*.yml on a copy of terraform/ and the shipped config, against the local cloud."""

    def __init__(self, tmp: Path, env: dict, scenario: str) -> None:
        tmp.mkdir(parents=True)
        self.tmp = tmp
        self.scenario = scenario
        self.tf = tmp / "terraform"
        shutil.copytree(
            ROOT / "terraform",
            self.tf,
            ignore=shutil.ignore_patterns(
                ".terraform", "*.tfstate*", "*.auto.tfvars.json", ".terraform.lock.hcl"
            ),
        )
        self.inv = tmp / "inventory"
        shutil.copytree(ROOT / "inventory" / "openstack" / "group_vars", self.inv / "group_vars")
        (self.inv / "terraform.yml").write_text(
            f"plugin: mlops.platform.terraform\nproject_path: {self.tf}\n"
        )
        self.env = dict(
            os.environ,
            **env,
            ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
            ANSIBLE_CALLBACKS_ENABLED="",
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_FORCE_COLOR="0",
        )
        self.vars = {
            "infra_terraform_dir": str(self.tf),
            "infra_data_volume_dir": str(self.tf / "data-volume"),
        }

    def play(self, name: str, extra: dict | None = None, *more: str, timing: str | None = None):
        vars_file = self.tmp / f"extra-{time.monotonic_ns()}.json"
        vars_file.write_text(json.dumps({**self.vars, **(extra or {})}))
        started = time.monotonic()
        proc = subprocess.run(
            ["ansible-playbook", "-i", str(self.inv), f"playbooks/{name}.yml", "-e", f"@{vars_file}", *more],
            capture_output=True,
            check=False,
            text=True,
            env=self.env,
            cwd=ROOT,
            timeout=900,
        )
        if timing:
            TIMES[f"{self.scenario}: {timing}"] = round(time.monotonic() - started, 1)
        return proc

    def popen(self, name: str, extra: dict | None = None) -> subprocess.Popen:
        vars_file = self.tmp / f"extra-{time.monotonic_ns()}.json"
        vars_file.write_text(json.dumps({**self.vars, **(extra or {})}))
        return subprocess.Popen(
            ["ansible-playbook", "-i", str(self.inv), f"playbooks/{name}.yml", "-e", f"@{vars_file}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=self.env,
            cwd=ROOT,
        )

    def inventory(self) -> dict:
        proc = inventory_list(self.inv, self.env)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)

    def state(self, root: Path | None = None) -> list[str]:
        path = (root or self.tf) / "terraform.tfstate"
        data = json.loads(path.read_text()) if path.exists() else {}
        return sorted(
            f"{r.get('module', '') + '.' if r.get('module') else ''}{r['type']}.{r['name']}"
            for r in data.get("resources", [])
            if r["mode"] == "managed" and r.get("instances")
        )

    def terraform_show_servers(self) -> list[str]:
        """IDs of the servers in the cluster's state."""
        proc = subprocess.run(
            ["terraform", "show", "-json"],
            capture_output=True,
            check=False,
            text=True,
            env=self.env,
            cwd=self.tf,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
        ids = []

        def walk(module: dict) -> None:
            for r in module.get("resources", []):
                if r["type"] == "openstack_compute_instance_v2":
                    ids.append(r["values"]["id"])
            for child in module.get("child_modules", []):
                walk(child)

        walk(json.loads(proc.stdout).get("values", {}).get("root_module", {}))
        return sorted(ids)

    def plan_is_empty(self, root: Path | None = None) -> bool:
        proc = subprocess.run(
            ["terraform", "plan", "-detailed-exitcode", "-input=false", "-no-color", "-lock=false"],
            capture_output=True,
            check=False,
            text=True,
            env=self.env,
            cwd=root or self.tf,
            timeout=300,
        )
        assert proc.returncode in (0, 2), proc.stdout[-2000:] + proc.stderr[-2000:]
        return proc.returncode == 0

    def cleanup(self) -> None:
        """Destroy whatever a failed scenario left in its states, so the next one starts clean."""
        for root in (self.tf, self.tf / "data-volume"):
            if self.state(root):
                subprocess.run(
                    ["terraform", "destroy", "-auto-approve", "-input=false", "-no-color", "-lock=false"],
                    capture_output=True,
                    check=False,
                    env=self.env,
                    cwd=root,
                    timeout=600,
                )


@pytest.fixture
def stage(tmp_path, clouds_env):
    made: list[Stage] = []

    def make(scenario: str, name: str = "") -> Stage:
        made.append(Stage(tmp_path / (name or f"s{len(made)}"), clouds_env, scenario))
        return made[-1]

    yield make
    for st in made:
        st.cleanup()


def ensure_keypair(conn, name: str) -> None:
    if conn.compute.find_keypair(name) is None:
        conn.compute.create_keypair(name=name, public_key=PUBLIC_KEY)


def pytest_terminal_summary(terminalreporter):
    if not CLOUD_FACTS and not TIMES:
        return
    tr = terminalreporter
    tr.section("local OpenStack")
    for k, v in CLOUD_FACTS.items():
        tr.write_line(f"{k:<24} {v}")
    tr.section("scenario times (s)")
    for k, v in TIMES.items():
        tr.write_line(f"{k:<60} {v}")
    report = CACHE / "cloud-tier-times.json"
    report.write_text(json.dumps({"cloud": CLOUD_FACTS, "times": TIMES}, indent=2))
