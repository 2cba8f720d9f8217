#!/usr/bin/env python3
"""Benchmark of mlopsctl and the Python API, printed side by side with the alternatives.

1. `mlopsctl --help` wall time (goal <= 300 ms) next to `python -c pass` (the
   interpreter's floor) and `ansible-playbook --help`.
2. The API's overhead over plain `ansible-playbook` on the same playbook (goal
   <= 10 %): Platform.run() (ansible-runner, events, result) versus
   `ansible-playbook -i INVENTORY PLAYBOOK`, alternating, median of N.

    python bench/cli/bench.py                     # a generated 30-task playbook on localhost
    python bench/cli/bench.py --playbook site.yml --inventory inventory/local --runs 3
        (the real stages: needs the control plane, MLOPS_KUBECONFIG=...)
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def wall(argv: list[str], env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - started


def median_of(n: int, fn) -> tuple[float, float, float]:
    samples = [fn() for _ in range(n)]
    return statistics.median(samples), min(samples), max(samples)


def synthetic_playbook(tasks: int) -> Path:
    """Tasks in three stage-named plays: copies (changed on the first run only) and debugs."""
    workdir = Path(tempfile.mkdtemp(prefix="mlops-bench-"))
    lines = ["---"]
    for stage in ("gitops", "platform", "workflows"):
        lines += [
            f"- name: {stage.capitalize()} stage",
            "  hosts: localhost",
            "  gather_facts: false",
            "  tasks:",
        ]
        for i in range(tasks // 3):
            if i % 2:
                lines += [
                    f"    - name: Note {stage} {i}",
                    "      ansible.builtin.debug:",
                    f"        msg: {i}",
                ]
            else:
                lines += [
                    f"    - name: Write {stage} {i}",
                    "      ansible.builtin.copy:",
                    f"        content: '{i}'",
                    f"        dest: {workdir}/{stage}-{i}",
                    "        mode: '0644'",
                ]
    playbook = workdir / "bench.yml"
    playbook.write_text("\n".join(lines) + "\n")
    inventory = workdir / "hosts.yml"
    inventory.write_text(
        f"all:\n  hosts:\n    localhost:\n      ansible_connection: local\n"
        f"      ansible_python_interpreter: {sys.executable}\n"
    )
    return playbook


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tasks", type=int, default=30)
    parser.add_argument("--playbook", help="a playbook of the checkout (default: a generated one)")
    parser.add_argument("--inventory", help="inventory for --playbook (default inventory/local)")
    args = parser.parse_args()
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
    }

    print("== mlopsctl --help (wall time, median of 10; min..max)")
    rows = [
        ("python -c pass", [sys.executable, "-c", "pass"]),
        ("mlopsctl --help", [str(BIN / "mlopsctl"), "--help"]),
        ("ansible-playbook --help", [str(BIN / "ansible-playbook"), "--help"]),
    ]
    for label, argv in rows:
        med, lo, hi = median_of(10, lambda argv=argv: wall(argv, env))
        goal = "  (goal <= 300 ms)" if label.startswith("mlopsctl") else ""
        print(f"  {label:<26} {med * 1000:7.0f} ms   ({lo * 1000:.0f}..{hi * 1000:.0f}){goal}")

    if args.playbook:
        playbook = (ROOT / args.playbook).resolve()
        inventory = (ROOT / (args.inventory or "inventory/local")).resolve()
    else:
        playbook = synthetic_playbook(args.tasks)
        inventory = playbook.parent / "hosts.yml"
    sys.path.insert(0, str(ROOT / "src"))
    from mlops_platform.api import Platform

    platform = Platform(ROOT, inventory)
    plain_argv = [str(BIN / "ansible-playbook"), "-i", str(inventory), str(playbook)]
    wall(plain_argv, env)  # warm the caches (and make the copies converge) before measuring
    plain, api = [], []

    def api_run() -> float:
        started = time.perf_counter()
        result = platform.run(str(playbook))
        elapsed = time.perf_counter() - started
        if not result.ok:
            raise SystemExit(f"the API run failed: {result.failures}; see {result.artifacts}")
        return elapsed

    for _ in range(args.runs):  # alternate, so that machine load hits both alike
        plain.append(wall(plain_argv, env))
        api.append(api_run())
    p, a = statistics.median(plain), statistics.median(api)
    print(f"\n== API overhead on {playbook.name} ({inventory.name}), median of {args.runs} runs")
    print(f"  {'ansible-playbook':<26} {p:7.2f} s   ({min(plain):.2f}..{max(plain):.2f})")
    print(f"  {'Platform.run (API)':<26} {a:7.2f} s   ({min(api):.2f}..{max(api):.2f})")
    print(f"  {'overhead':<26} {(a - p) / p * 100:+6.1f} %   (goal <= 10 %)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
