# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""The converge again: node_prep and Kubespray's real plays change nothing the second time.

Molecule's own `idempotence` step fails on any change, and two kinds are expected here,
so this runs the second converge itself, with the JSON callback, and names every other
change: Kubespray's preinstall has one task that reports a change on every run by design
(read from its tree below); and a sysctl the container cannot apply (its /proc/sys is
read-only) stays different from the value in the file, which ansible.posix.sysctl
reports again; on a VM the first run applies it. Each such change is checked: the
node's live value differs and the file holds the value. It also proves that neither
role undoes the other: node_prep runs before Kubespray's preinstall, so a setting one
reverted the other would set again, and report it, on this run.
Prints how many of Kubespray's tasks ran and how long each part took (timings file in
.cache/molecule-logs/).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

PROJECT = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"])
SCENARIO = Path(os.environ["MOLECULE_SCENARIO_DIRECTORY"])
INVENTORY = Path(os.environ["MOLECULE_INVENTORY_FILE"]).parent
KUBESPRAY = (
    PROJECT
    / ".cache"
    / f"kubespray-{os.environ['KUBESPRAY_VERSION']}"
    / "collections/ansible_collections/kubernetes_sigs/kubespray"
)
PREFIX = "kubernetes_sigs.kubespray."
LOGS = PROJECT / ".cache" / "molecule-logs"
# Kubespray tasks that report a change on every run (upstream), with the file that holds them.
ALWAYS_CHANGED = {
    f"{PREFIX}kubernetes/preinstall : Disable swap": "roles/kubernetes/preinstall/tasks/0010-swapoff.yml",
}


@pytest.fixture(scope="module")
def second_run() -> dict:
    env = dict(
        os.environ,
        ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
        ANSIBLE_CALLBACKS_ENABLED="",
        ANSIBLE_NOCOLOR="1",
    )
    proc = subprocess.run(
        [
            "ansible-playbook",
            "--inventory",
            str(INVENTORY),
            "--skip-tags",
            "molecule-notest,notest",
            str(SCENARIO / "converge.yml"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    LOGS.mkdir(parents=True, exist_ok=True)
    (LOGS / "cluster-second-run.log").write_text(proc.stdout + proc.stderr)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return json.loads(proc.stdout[proc.stdout.index("{") :])


def _seconds(duration: dict) -> float:
    """Seconds between start and end (a play that ran no task has no end: 0)."""
    from datetime import datetime

    if not {"start", "end"} <= set(duration):
        return 0.0
    start, end = (datetime.fromisoformat(duration[k].replace("Z", "+00:00")) for k in ("start", "end"))
    return (end - start).total_seconds()


def test_always_changed_tasks_are_upstream_commands_without_changed_when():
    for name, path in ALWAYS_CHANGED.items():
        tasks = yaml.safe_load((KUBESPRAY / path).read_text())
        task = next(t for t in tasks if t["name"] == name.split(" : ", 1)[1])
        assert "command" in task and "changed_when" not in task, f"{name} in {path} no longer always changes"


def _live_sysctl(host: str, key: str) -> str:
    cmd = ["podman", "exec", host, "/usr/sbin/sysctl", "-n", key]
    return subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=60).stdout.strip()


def _unexplained(task: str, host: str, result: dict) -> list[str]:
    """The changes of one task on one host that neither of the expected kinds explains."""
    if not result.get("changed") or task in ALWAYS_CHANGED:
        return []
    if result.get("action") != "ansible.posix.sysctl":
        return [f"{task} on {host}"]
    problems = []
    for item in result.get("results", [result]):
        if not item.get("changed"):
            continue
        args = item["invocation"]["module_args"]
        live = _live_sysctl(host, args["name"])
        if live == str(args["value"]):
            problems.append(f"{task} on {host}: {args['name']} is already {live}")
        elif f"{args['name']}={args['value']}" not in _sysctl_file(host, args["sysctl_file"]):
            problems.append(
                f"{task} on {host}: {args['name']}={args['value']} is not in {args['sysctl_file']}"
            )
    return problems


def _sysctl_file(host: str, path: str) -> str:
    cmd = ["podman", "exec", host, "cat", path]
    text = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=60).stdout
    return text.replace(" = ", "=")


def test_second_run_changes_nothing_unexplained(second_run):
    changed = [
        problem
        for play in second_run["plays"]
        for task in play["tasks"]
        for host, result in task["hosts"].items()
        for problem in _unexplained(task["task"]["name"], host, result)
    ]
    assert changed == [], "second run changed:\n" + "\n".join(changed)


def kubespray_plays() -> set[str]:
    """Names of the plays of Kubespray's playbooks that the stand-in's cluster.yml runs."""
    names = set()
    for playbook in ("ansible_version.yml", "boilerplate.yml", "internal_facts.yml", "cluster.yml"):
        names |= {
            p["name"]
            for p in yaml.safe_load((KUBESPRAY / "playbooks" / playbook).read_text())
            if "hosts" in p
        }
    return names


def test_report_kubespray_tasks_and_timings(second_run):
    ran = skipped = 0
    plays = {}
    ours = kubespray_plays()
    for play in second_run["plays"]:
        name = play["play"]["name"]
        plays[name] = round(plays.get(name, 0) + _seconds(play["play"]["duration"]), 1)
        for task in play["tasks"]:
            if not (task["task"]["name"].startswith(PREFIX) or play["play"]["name"] in ours):
                continue
            if all(r.get("skipped") for r in task["hosts"].values()):
                skipped += 1
            else:
                ran += 1
    assert ran > 0
    report = {"kubespray_tasks_run": ran, "kubespray_tasks_skipped": skipped, "play_seconds": plays}
    (LOGS / "cluster-second-run.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
