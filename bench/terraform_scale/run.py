#!/usr/bin/env python3
# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""How the infra stage scales with the node count (a benchmark, not a test).

For 3, 30 and 100 nodes it prints, side by side:
  - `terraform test` plan and apply time of the real cluster root on the mock provider,
    and the resources planned;
  - inventory time: the mlops.platform.terraform plugin inside `ansible-inventory`
    vs. the alternative, a hand-written static YAML inventory of the same hosts;
  - security group rules per cluster (goal: at most 15; the provider creates them one
    API call at a time).

  TF_CLI_CONFIG_FILE=.cache/terraformrc python bench/terraform_scale/run.py [N ...]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "fixtures" / "terraform"))
sys.path.insert(0, str(ROOT / ".cache" / "collections"))

from ansible_collections.mlops.platform.plugins.module_utils.terraform.inventory import build  # noqa: E402
from record_outputs import run_mock  # noqa: E402


def ansible_inventory_seconds(source: Path, repeat: int = 3) -> float:
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(
            ["ansible-inventory", "-i", str(source), "--list"],
            check=True,
            capture_output=True,
            env=env,
            cwd=ROOT,
        )
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def static_yaml(outputs: dict) -> str:
    """The alternative: the same hosts typed into a YAML inventory by hand."""
    inv = build(outputs)
    groups = {g: {"hosts": {h: None for h in hosts}} for g, hosts in inv.groups.items()}
    doc = {
        "all": {
            "vars": inv.all_vars,
            "hosts": inv.hosts,
            "children": {
                **groups,
                "k8s_cluster": {"children": {"kube_control_plane": None, "kube_node": None}},
            },
        }
    }
    return json.dumps(doc)  # JSON is YAML


def main(argv: list[str]) -> int:
    sizes = [int(a) for a in argv] or [3, 30, 100]
    work = Path(tempfile.mkdtemp(prefix="bench-tf-"))
    rows = []
    for n in sizes:
        _, plan_s, resources = run_mock(n, command="plan", workdir=work)
        outputs, apply_s, _ = run_mock(n, command="apply", workdir=work)
        state = work / f"state_{n}.tfstate"
        state.write_text(json.dumps({"version": 4, "outputs": {k: {"value": v} for k, v in outputs.items()}}))
        plugin_cfg = work / f"n{n}.terraform.yml"
        plugin_cfg.write_text(f"plugin: mlops.platform.terraform\nstate_file: {state.name}\n")
        static = work / f"n{n}.yml"
        static.write_text(static_yaml(outputs))
        start = time.perf_counter()
        for _ in range(100):
            build(outputs)
        build_ms = (time.perf_counter() - start) * 10
        rows.append(
            (
                n,
                resources,
                plan_s,
                apply_s,
                build_ms,
                ansible_inventory_seconds(plugin_cfg),
                ansible_inventory_seconds(static),
                outputs["security_group_rules"],
            )
        )

    print(
        f"{'nodes':>5} {'planned':>8} {'plan s':>7} {'apply s':>8} {'build ms':>9} "
        f"{'plugin inv s':>13} {'static yaml s':>14} {'sg rules':>9}"
    )
    for n, res, plan_s, apply_s, build_ms, plug, stat, rules in rows:
        print(
            f"{n:>5} {res:>8} {plan_s:>7.2f} {apply_s:>8.2f} {build_ms:>9.2f} {plug:>13.2f} {stat:>14.2f} "
            f"{rules:>9}"
        )
    first, last = rows[0], rows[-1]
    growth = last[0] / first[0]
    print(
        f"\n{growth:.0f}x the nodes: plan {last[2] / first[2]:.1f}x, apply {last[3] / first[3]:.1f}x, "
        f"inventory build {last[4] / first[4]:.1f}x, ansible-inventory with the plugin "
        f"{last[5] / first[5]:.2f}x (static YAML {last[6] / first[6]:.2f}x)"
    )
    print(
        f"security group rules per cluster: {last[7]} (goal <= 15; 1 internal + 2 per admin CIDR + "
        "1 per ingress CIDR and port range, independent of the node count)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
