#!/usr/bin/env python3
# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""Wall time of the nodes stage (playbooks/nodes.yml) on 3, 6 and 12 podman nodes.

Each size gets fresh Debian 12 containers (systemd as PID 1, the Molecule image),
forks set to the host count and pipelining on, as an operator's run would be.
Prints first-run and second-run (idempotent) times per size, the per-node cost, and
the ratio 12/3 of the first runs (goal <= 1.3: the stage runs on all hosts at once).
`--serial` adds the alternative the role avoids: the same run with forks=1.

Usage: bench/node_prep_scale/bench.py [--sizes 3 6 12] [--serial] [--keep]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".cache" / "venv" / "bin"
IMAGE = "localhost/mlops-node:bookworm"
PREFIX = "bench-np"


def podman(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["podman", *args], check=check, capture_output=True, text=True)


def start_nodes(names: list[str]) -> None:
    for name in names:
        podman("rm", "-f", name, check=False)
        podman(
            "run", "-d", "--name", name, "--hostname", name, "--systemd=always", IMAGE, "/lib/systemd/systemd"
        )
    for name in names:
        podman("exec", name, "systemctl", "is-system-running", "--wait", check=False)


def remove_nodes(names: list[str]) -> None:
    for name in names:
        podman("rm", "-f", name, check=False)


def write_inventory(directory: Path, names: list[str]) -> Path:
    hosts = "\n".join(f"        {n}:" for n in names)
    inventory = directory / "hosts.yml"
    inventory.write_text(
        f"""all:
  vars:
    ansible_connection: containers.podman.podman
    mlops_target: openstack
    mlops_pod_cidr: 10.233.64.0/18
    mlops_service_cidr: 10.233.0.0/18
  children:
    k8s_cluster:
      hosts:
{hosts}
"""
    )
    return inventory


def run_stage(inventory: Path, forks: int) -> float:
    env = dict(os.environ)
    env.update(
        PATH=f"{VENV_BIN}:{env.get('PATH', '')}",
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        ANSIBLE_FORKS=str(forks),
        ANSIBLE_PIPELINING="true",
        ANSIBLE_CALLBACKS_ENABLED="",
        ANSIBLE_GATHERING="explicit",
        ANSIBLE_CACHE_PLUGIN="memory",
    )
    started = time.monotonic()
    result = subprocess.run(
        [str(VENV_BIN / "ansible-playbook"), "-i", str(inventory), str(ROOT / "playbooks" / "nodes.yml")],
        env=env,
        capture_output=True,
        text=True,
    )
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        sys.exit(f"nodes stage failed (forks={forks}):\n{result.stdout[-3000:]}\n{result.stderr[-2000:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[3, 6, 12])
    parser.add_argument("--serial", action="store_true", help="also time forks=1 (the serial alternative)")
    parser.add_argument("--keep", action="store_true", help="keep the containers of the last size")
    args = parser.parse_args()
    if podman("image", "exists", IMAGE, check=False).returncode != 0:
        sys.exit(f"podman image {IMAGE} is missing: make test-deps builds it")

    rows = []
    for size in args.sizes:
        names = [f"{PREFIX}-{i}" for i in range(1, size + 1)]
        with tempfile.TemporaryDirectory(prefix="bench-np-") as tmp:
            inventory = write_inventory(Path(tmp), names)
            start_nodes(names)
            try:
                first = run_stage(inventory, forks=size)
                second = run_stage(inventory, forks=size)
                serial = None
                if args.serial:
                    start_nodes(names)
                    serial = run_stage(inventory, forks=1)
            finally:
                if not (args.keep and size == args.sizes[-1]):
                    remove_nodes(names)
        rows.append((size, first, second, serial))
        print(f"  {size:>2} nodes: first run {first:6.1f}s, second run {second:6.1f}s", flush=True)

    print()
    header = ("nodes", "forks", "first run", "per node", "second run", "forks=1 (serial)")
    print("{:>5}  {:>5}  {:>10}  {:>9}  {:>10}  {:>16}".format(*header))
    for size, first, second, serial in rows:
        serial_text = f"{serial:15.1f}s" if serial is not None else f"{'-':>16}"
        print(f"{size:>5}  {size:>5}  {first:9.1f}s  {first / size:8.2f}s  {second:9.1f}s  {serial_text}")
    by_size = {size: first for size, first, _, _ in rows}
    if 3 in by_size and 12 in by_size:
        ratio = by_size[12] / by_size[3]
        print(f"\nratio 12/3 (first runs): {ratio:.2f}  (goal <= 1.3; a serial run would be ~4.0)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
