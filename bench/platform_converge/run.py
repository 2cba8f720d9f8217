#!/usr/bin/env python3
# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""Benchmark: the gitops + platform + workflows stages vs one kubernetes.core.k8s task per object.

Both run on their own fresh local control plane (kube-apiserver + etcd), on this machine, in
this run, twice each (first converge, then the idempotent re-run). API requests are counted
by the API server itself (apiserver_request_total from /metrics, before/after each run).

    .cache/venv/bin/python bench/platform_converge/run.py [--keep DIR]

The baseline playbook is generated from what the stages left in the cluster: every object
they manage, read back, stripped of server fields, one kubernetes.core.k8s task each
(server-side apply, same field manager), so both sides converge the same objects.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / ".cache" / "collections"))
sys.path.insert(0, str(ROOT / "src"))
VENV_BIN = ROOT / ".cache" / "venv" / "bin"
STAGES = ["gitops", "platform", "workflows"]
NAMESPACES = ["argocd", "platform", "monitoring", "argo"]
NAMESPACED = [
    ("v1", "configmaps"),
    ("v1", "secrets"),
    ("v1", "serviceaccounts"),
    ("v1", "services"),
    ("apps/v1", "deployments"),
    ("apps/v1", "statefulsets"),
    ("rbac.authorization.k8s.io/v1", "roles"),
    ("rbac.authorization.k8s.io/v1", "rolebindings"),
    ("networking.k8s.io/v1", "networkpolicies"),
    ("argoproj.io/v1alpha1", "applications"),
    ("argoproj.io/v1alpha1", "appprojects"),
    ("argoproj.io/v1alpha1", "workflowtemplates"),
    ("argoproj.io/v1alpha1", "cronworkflows"),
]
CLUSTER = [
    ("v1", "namespaces"),
    ("apiextensions.k8s.io/v1", "customresourcedefinitions"),
    ("rbac.authorization.k8s.io/v1", "clusterroles"),
    ("rbac.authorization.k8s.io/v1", "clusterrolebindings"),
]
SYSTEM_MANAGERS = {"kube-apiserver", "kube-controller-manager"}


def api_requests(client) -> int:
    """Total requests the API server has served (all verbs, all resources)."""
    text = client.pool.request("GET", client.server + "/metrics", headers=client._headers(None)).data.decode()
    return int(
        sum(float(m.group(1)) for m in re.finditer(r"^apiserver_request_total\{[^}]*\} (\S+)$", text, re.M))
    )


def ansible(args: list[str], kubeconfig: str) -> float:
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        MLOPS_KUBECONFIG=kubeconfig,
        ANSIBLE_CALLBACKS_ENABLED="",
        ANSIBLE_NOCOLOR="1",
    )
    started = time.monotonic()
    proc = subprocess.run(
        [str(VENV_BIN / "ansible-playbook"), *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    elapsed = time.monotonic() - started
    if proc.returncode != 0:
        sys.exit(f"ansible-playbook {' '.join(args)} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}")
    recap = re.search(r"changed=(\d+)", proc.stdout)
    return elapsed, int(recap.group(1)) if recap else -1


def managed_objects(client) -> list[dict]:
    """Every object something other than the API server itself wrote, without server fields."""
    found = []
    lists = [(v, r, None) for v, r in CLUSTER] + [(v, r, ns) for ns in NAMESPACES for v, r in NAMESPACED]
    for version, resource, ns in lists:
        base = f"/apis/{version}" if "/" in version else f"/api/{version}"
        path = f"{base}/namespaces/{ns}/{resource}" if ns else f"{base}/{resource}"
        listing = client.request("GET", path, allow=(404,)) or {"items": []}
        kind = listing.get("kind", "").removesuffix("List")
        for item in listing["items"]:
            managers = {m.get("manager") for m in item["metadata"].get("managedFields") or []}
            if not managers - SYSTEM_MANAGERS or item["metadata"]["name"].startswith("system:"):
                continue
            meta = {
                k: v
                for k, v in item["metadata"].items()
                if k in ("name", "namespace", "labels", "annotations", "finalizers")
            }
            obj = {"apiVersion": version, "kind": kind, "metadata": meta}
            obj.update(
                {k: v for k, v in item.items() if k not in ("apiVersion", "kind", "metadata", "status")}
            )
            if kind == "Namespace":
                obj.pop("spec", None)
            found.append(obj)
    return found


def baseline_playbook(objects: list[dict], directory: Path) -> Path:
    """One kubernetes.core.k8s task per object (large ones through src files)."""
    tasks = []
    for i, obj in enumerate(objects):
        ref = f"{obj['kind']} {obj['metadata'].get('namespace', '')}/{obj['metadata']['name']}"
        src = directory / f"obj-{i:03d}.json"
        src.write_text(json.dumps(obj))
        tasks.append(
            {
                "name": f"Apply {ref}",
                "kubernetes.core.k8s": {
                    "src": str(src),
                    "apply": True,
                    "server_side_apply": {"field_manager": "mlops-platform", "force_conflicts": True},
                },
            }
        )
    play = [
        {
            "name": "Baseline: one kubernetes.core.k8s task per object",
            "hosts": "localhost",
            "gather_facts": False,
            "module_defaults": {"group/kubernetes.core.k8s": {"kubeconfig": "{{ mlops_kubeconfig }}"}},
            "tasks": tasks,
        }
    ]
    path = directory / "baseline.yml"
    path.write_text(json.dumps(play, indent=1))
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", help="keep the control planes' state in this directory")
    args = parser.parse_args()

    from ansible_collections.mlops.platform.plugins.module_utils.kube import KubeClient

    from mlops_platform.controlplane import ControlPlane

    work = Path(args.keep or tempfile.mkdtemp(prefix="bench-platform-"))
    bin_dir = os.environ.get("MLOPS_ENVTEST_BIN", str(ROOT / ".cache" / "envtest" / "current"))
    figures = {}
    planes = []
    try:
        # -- ours: the stage playbooks ------------------------------------------------
        ours = ControlPlane(bin_dir, work / "ours")
        planes.append(ours)
        kubeconfig = str(ours.up())
        client = KubeClient.from_params({"kubeconfig": kubeconfig})
        for run in ("first", "rerun"):
            before, total, changed = api_requests(client), 0.0, 0
            for stage in STAGES:
                elapsed, ch = ansible([f"playbooks/{stage}.yml"], kubeconfig)
                total += elapsed
                changed += ch
                print(f"  ours     {run:5s} {stage:9s} {elapsed:6.1f}s changed={ch}", flush=True)
            figures[("ours", run)] = (total, api_requests(client) - before - 1, changed)
        objects = managed_objects(client)

        # -- baseline: one kubernetes.core.k8s task per object ---------------------------
        base = ControlPlane(bin_dir, work / "baseline")
        planes.append(base)
        kubeconfig_b = str(base.up())
        client_b = KubeClient.from_params({"kubeconfig": kubeconfig_b})
        playbook = baseline_playbook(objects, work)
        for run in ("first", "rerun"):
            before = api_requests(client_b)
            elapsed, changed = ansible([str(playbook)], kubeconfig_b)
            print(f"  baseline {run:5s} {len(objects)} tasks {elapsed:6.1f}s changed={changed}", flush=True)
            figures[("baseline", run)] = (elapsed, api_requests(client_b) - before - 1, changed)
    finally:
        for plane in planes:
            plane.down()

    n = len(objects)
    print(f"\nmanaged objects: {n} (same objects on both sides)\n")
    print(f"{'':22s}{'stages (ours)':>16s}{'k8s per object':>18s}{'ratio':>10s}")
    for run, label in (("first", "first converge"), ("rerun", "idempotent re-run")):
        (t_o, r_o, _), (t_b, r_b, _) = figures[("ours", run)], figures[("baseline", run)]
        print(f"{label + ' time':22s}{t_o:15.1f}s{t_b:17.1f}s{t_b / t_o:9.1f}x")
        print(f"{label + ' requests':22s}{r_o:16d}{r_b:18d}{r_b / max(r_o, 1):9.1f}x")
    rerun_requests = figures[("ours", "rerun")][1]
    print(f"\nre-run API requests per managed object (ours): {rerun_requests / n:.2f} (goal <= 1.5)")
    print("goals: re-run >= 5x faster, first converge >= 3x faster than the per-object baseline")
    return 0


if __name__ == "__main__":
    sys.exit(main())
