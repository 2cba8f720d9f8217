#!/usr/bin/env python3
# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""Benchmark: the gitops + platform + workflows + environments stages vs kubernetes.core.k8s and kubectl.

Three sides converge the same objects, each on its own fresh local control plane (the
same kube-apiserver + etcd build, all three up at once); every stage runs on the three
sides back to back, so the machine's load hits them alike:

- ours: the stage playbooks (mlops.platform modules; release manifests through
  mlops.platform.release_manifest), one ansible-playbook run per stage;
- k8s: kubernetes.core.k8s as a user would write it: per stage, a task per release
  manifest (src), a CRD Established wait, and one task for the stage's other objects
  (definition: a list), server-side apply;
- kubectl: `kubectl apply --server-side` (the floor): per stage one apply of its CRDs,
  `kubectl wait --for condition=Established`, one apply of everything else.

Each side runs twice: the first converge, then the idempotent re-run. Then, on ours'
control plane: the whole site.yml re-run on the rehearsal target (inventory/local) and
`mlopsctl status`. API requests are counted by the API server itself
(apiserver_request_total from /metrics, read before and after each run, without the
server's own background requests).

    .cache/venv/bin/python bench/platform_converge/run.py [--keep DIR] [--repeat N]

The other objects of the k8s and kubectl sides are read back from what the stages left
in ours' cluster (stripped of server fields), stage by stage; the release manifests are
the same files the stages apply. kubectl is built from the Go module proxy (k8s.io/kubectl
at the control plane's version, bench/platform_converge/kubectl) into .cache/kubectl-<version>.

The machine is shared: absolute times are inflated by the load, the ratios (same run,
same load) much less.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / ".cache" / "collections"))
sys.path.insert(0, str(ROOT / "src"))
VENV_BIN = ROOT / ".cache" / "venv" / "bin"
STAGES = ["gitops", "platform", "workflows", "environments"]
CRD = ("apiextensions.k8s.io/v1", "CustomResourceDefinition")
# Namespaced collections listed cluster-wide, and cluster-scoped ones: every kind the stages write.
NAMESPACED = [
    ("v1", "configmaps"),
    ("v1", "secrets"),
    ("v1", "serviceaccounts"),
    ("v1", "services"),
    ("v1", "resourcequotas"),
    ("v1", "limitranges"),
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
SYSTEM_NAMESPACES = {"default", "kube-system", "kube-public", "kube-node-lease"}
INSTALL_MANAGER = "mlops-platform-install"


def env_for(kubeconfig: str) -> dict:
    return dict(
        os.environ,
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        MLOPS_KUBECONFIG=kubeconfig,
        KUBECONFIG=kubeconfig,
        ANSIBLE_CALLBACKS_ENABLED="",
        ANSIBLE_NOCOLOR="1",
    )


# The API server's own background requests: its identity lease and endpoint reconciler
# (left out), and its OpenAPI aggregation (openapi/v3, which kubectl also calls: its idle
# rate, measured per control plane, is subtracted).
BACKGROUND_RESOURCES = ("leases", "endpoints", "endpointslices")


def api_requests(client) -> tuple[int, int]:
    """Requests the API server has served: (all but the background ones, openapi/v3 ones)."""
    text = client.pool.request("GET", client.server + "/metrics", headers=client._headers(None)).data.decode()
    counted = openapi = 0.0
    for m in re.finditer(r"^apiserver_request_total\{([^}]*)\} (\S+)$", text, re.M):
        labels, value = m.group(1), float(m.group(2))
        if any(f'resource="{r}"' in labels for r in BACKGROUND_RESOURCES):
            continue
        if 'subresource="openapi/v3"' in labels and 'resource=""' in labels:
            openapi += value
        else:
            counted += value
    return int(counted), int(openapi)


def idle_openapi_rate(client, seconds: float = 20.0) -> float:
    """The API server's own openapi/v3 requests per second while no client runs."""
    before = api_requests(client)[1]
    time.sleep(seconds)
    return (api_requests(client)[1] - before) / seconds


def timed(cmd: list[str], env: dict, what: str) -> tuple[float, str]:
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    elapsed = time.monotonic() - started
    if proc.returncode != 0:
        sys.exit(f"{what} failed ({' '.join(cmd)}):\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}")
    return elapsed, proc.stdout


#: The bench's control planes run the API server alone: no pod ever runs, so the rehearsal's
#: waits for ArgoCD's Deployments and the Applications' health (inventory/local) are left out.
NO_POD_WAITS = ["-e", json.dumps({"gitops_wait_ready": False, "platform_wait": False})]


def playbook(path: str, env: dict) -> tuple[float, int]:
    cmd = [str(VENV_BIN / "ansible-playbook"), *NO_POD_WAITS, path]
    elapsed, out = timed(cmd, env, f"ansible-playbook {path}")
    changed = sum(int(c) for c in re.findall(r"changed=(\d+)", out.split("PLAY RECAP")[-1]))
    return elapsed, changed


def ref(obj: dict) -> tuple[str, str, str]:
    meta = obj["metadata"]
    return obj["kind"], meta.get("namespace") or "", meta["name"]


def managed_objects(client) -> dict[tuple, dict]:
    """Every object something other than the API server wrote, without server fields, by ref."""
    found = {}
    for version, resource in CLUSTER + NAMESPACED:
        base = f"/apis/{version}" if "/" in version else f"/api/{version}"
        listing = client.request("GET", f"{base}/{resource}", allow=(404,)) or {"items": []}
        kind = listing.get("kind", "").removesuffix("List")
        for item in listing["items"]:
            managers = {m.get("manager") for m in item["metadata"].get("managedFields") or []}
            name = item["metadata"]["name"]
            # a namespace applied with no field but its name keeps no managedFields entry
            ours = bool(managers - SYSTEM_MANAGERS) or (kind == "Namespace" and name not in SYSTEM_NAMESPACES)
            if not ours or name.startswith("system:"):
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
            obj["_managers"] = managers
            found[ref(obj)] = obj
    return found


def stage_manifests(stage: str) -> list[tuple[str, str | None]]:
    """The release manifests a stage applies on the local target: (path, default namespace)."""
    shared = ROOT.parent / "shared" / "fixtures"
    if stage == "gitops":
        return [(str(shared / "manifests" / "argocd-install.yaml"), "argocd")]
    if stage == "workflows":
        return [(str(p), "argo") for p in sorted((shared / "crds").glob("argo-workflows-*.yaml"))]
    return []


def load_manifest(path: str, namespace: str | None) -> list[dict]:
    from ansible_collections.mlops.platform.plugins.module_utils.kube.manifest import load
    from ansible_collections.mlops.platform.plugins.module_utils.kube.resources import KNOWN

    objects = load([path])
    for obj in objects:
        known = KNOWN.get((obj["apiVersion"], obj["kind"]))
        if namespace and (known is None or known.namespaced):
            obj["metadata"].setdefault("namespace", namespace)
    return objects


def clean(obj: dict) -> dict:
    return {k: v for k, v in obj.items() if k != "_managers"}


class Stage:
    """What one stage converges: its manifests and the other objects it left in the cluster."""

    def __init__(self, name: str, before: dict, after: dict):
        self.name = name
        self.manifests = stage_manifests(name)
        manifest_objects = [o for path, ns in self.manifests for o in load_manifest(path, ns)]
        in_manifest = {ref(o) for o in manifest_objects}
        # the stage's own objects, and manifest objects another manager of ours also wrote
        # (argocd-secret's admin password hash)
        self.others = [
            clean(o)
            for r, o in after.items()
            if r not in before
            and (r not in in_manifest or o["_managers"] - SYSTEM_MANAGERS - {INSTALL_MANAGER})
        ]
        self.others.sort(key=lambda o: o["kind"] != "Namespace")
        self.namespaces = sorted({ns for _, ns in self.manifests if ns})
        self.crds = [o for o in manifest_objects if (o["apiVersion"], o["kind"]) == CRD]
        self.rest = [o for o in manifest_objects if (o["apiVersion"], o["kind"]) != CRD]
        self.refs = (
            in_manifest | {ref(o) for o in self.others} | {("Namespace", "", n) for n in self.namespaces}
        )


def k8s_playbook(stage: Stage, directory: Path) -> Path:
    """kubernetes.core.k8s as a user writes it: a task per manifest, a CRD wait, one task per object list."""
    ssa = {"field_manager": "mlops-platform", "force_conflicts": True}
    tasks = [
        {"name": f"Namespace {ns}", "kubernetes.core.k8s": {"kind": "Namespace", "name": ns}}
        for ns in stage.namespaces
    ]
    for path, ns in stage.manifests:
        args = {"src": path, "apply": True, "server_side_apply": ssa}
        if ns:
            args["namespace"] = ns
        tasks.append({"name": f"Apply {Path(path).name}", "kubernetes.core.k8s": args})
    if stage.crds:
        tasks.append(
            {
                "name": "Wait for the CRDs to be Established",
                "kubernetes.core.k8s_info": {
                    "api_version": "apiextensions.k8s.io/v1",
                    "kind": "CustomResourceDefinition",
                    "name": "{{ item }}",
                    "wait": True,
                    "wait_condition": {"type": "Established", "status": "True"},
                },
                "loop": [c["metadata"]["name"] for c in stage.crds],
            }
        )
    if stage.others:
        src = directory / f"{stage.name}-others.json"
        src.write_text(json.dumps(stage.others))
        tasks.append(
            {
                "name": f"The {stage.name} stage's objects",
                "kubernetes.core.k8s": {
                    "definition": "{{ lookup('file', '" + str(src) + "') | from_json }}",
                    "apply": True,
                    "server_side_apply": ssa,
                },
            }
        )
    play = [
        {
            "name": f"{stage.name} with kubernetes.core.k8s",
            "hosts": "localhost",
            "gather_facts": False,
            "module_defaults": {"group/kubernetes.core.k8s": {"kubeconfig": "{{ mlops_kubeconfig }}"}},
            "tasks": tasks,
        }
    ]
    path = directory / f"k8s-{stage.name}.yml"
    path.write_text(json.dumps(play, indent=1))
    return path


def kubectl_files(stage: Stage, directory: Path) -> tuple[Path | None, Path]:
    """One file of the stage's CRDs (or None), one of everything else, namespaces first."""
    namespaces = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}} for n in stage.namespaces
    ]
    crds = None
    if stage.crds:
        crds = directory / f"kubectl-{stage.name}-crds.json"
        crds.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": stage.crds}))
    rest = directory / f"kubectl-{stage.name}.json"
    items = (
        namespaces
        + [o for o in stage.others if o["kind"] == "Namespace"]
        + stage.rest
        + [o for o in stage.others if o["kind"] != "Namespace"]
    )
    rest.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
    return crds, rest


def kubectl_binary() -> Path:
    """kubectl at the control plane's version, built once from the Go module proxy."""
    versions = dict(
        line.split("=", 1) for line in (ROOT / "versions.env").read_text().splitlines() if "=" in line
    )
    version = versions["KUBERNETES_VERSION"].strip()
    binary = ROOT / ".cache" / f"kubectl-{version}" / "kubectl"
    if binary.exists():
        return binary
    print(f"building kubectl {version} (k8s.io/kubectl v0.{version.split('.', 1)[1]}) ...", flush=True)
    binary.parent.mkdir(parents=True, exist_ok=True)
    ldflags = f"-X k8s.io/component-base/version.gitVersion=v{version}"
    subprocess.run(
        ["go", "build", "-trimpath", "-ldflags", ldflags, "-o", str(binary) + ".tmp", "."],
        cwd=Path(__file__).parent / "kubectl",
        check=True,
    )
    os.replace(str(binary) + ".tmp", binary)
    return binary


def run_kubectl(kubectl: Path, stage: Stage, files, env: dict) -> float:
    crds, rest = files
    apply = [str(kubectl), "apply", "--server-side", "--force-conflicts", "--field-manager=mlops-platform"]
    total = 0.0
    if crds:
        total += timed([*apply, "-f", str(crds)], env, "kubectl apply (CRDs)")[0]
        names = [f"crd/{c['metadata']['name']}" for c in stage.crds]
        wait = [str(kubectl), "wait", "--for", "condition=Established", "--timeout=60s", *names]
        started = time.monotonic()
        # kubectl wait fails at once on a CRD whose status has no conditions yet: try again
        while subprocess.run(wait, env=env, capture_output=True).returncode != 0:
            if time.monotonic() - started > 60:
                sys.exit(f"kubectl wait: the CRDs of {stage.name} did not become Established")
            time.sleep(0.1)
        total += time.monotonic() - started
    total += timed([*apply, "-f", str(rest)], env, "kubectl apply")[0]
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--keep", help="keep the control planes' state and the generated files in this directory"
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="idempotent re-runs per side (the fastest counts)"
    )
    args = parser.parse_args()

    from ansible_collections.mlops.platform.plugins.module_utils.kube import KubeClient

    from mlops_platform.controlplane import ControlPlane

    kubectl = kubectl_binary()
    work = Path(args.keep or tempfile.mkdtemp(prefix="bench-platform-"))
    bin_dir = os.environ.get("MLOPS_ENVTEST_BIN", str(ROOT / ".cache" / "envtest" / "current"))
    # figures[(side, run)][stage] = (seconds, requests, changed)
    figures: dict[tuple[str, str], dict[str, tuple[float, int, int]]] = {}
    planes = []

    idle_rate = {}

    def measure(side, run, stage, client, action):
        before, openapi_before = api_requests(client)
        seconds, changed = action()
        after, openapi_after = api_requests(client)
        background = idle_rate[id(client)] * seconds
        requests = after - before + max(0, round(openapi_after - openapi_before - background))
        previous = figures.setdefault((side, run), {}).get(stage)
        if previous is None or seconds < previous[0]:  # repeated re-runs: the fastest
            figures[(side, run)][stage] = (seconds, requests, changed)
        print(
            f"  {side:8s} {run:6s} {stage:13s} {seconds:6.1f}s {requests:5d} requests changed={changed}",
            flush=True,
        )

    def plane(name):
        cp = ControlPlane(bin_dir, work / name)
        planes.append(cp)
        kubeconfig = str(cp.up())
        return kubeconfig, KubeClient.from_params({"kubeconfig": kubeconfig}), env_for(kubeconfig)

    try:
        # Three control planes side by side; each stage runs on the three sides back to back,
        # so a change in the machine's load hits them alike.
        kubeconfig, client, env = plane("ours")
        env["MLOPS_MANIFEST_CACHE"] = str(work / "manifest-cache")  # cold: the first converge parses
        kubeconfig_k, client_k, env_k = plane("k8s")
        kubeconfig_c, client_c, env_c = plane("kubectl")
        env_c["KUBECACHEDIR"] = str(work / "kubectl-cache")
        for c in (client, client_k, client_c):
            idle_rate[id(c)] = idle_openapi_rate(c)
        print(
            "idle openapi/v3 requests/s (subtracted):", [round(r, 2) for r in idle_rate.values()], flush=True
        )

        def ours(s):
            return lambda: playbook(f"playbooks/{s}.yml", env)

        def k8s(s):
            return lambda: playbook(str(k8s_playbook(s, work)), env_k)

        def kubectl_side(s):
            return lambda: (run_kubectl(kubectl, s, kubectl_files(s, work), env_c), 0)

        stages = []
        snapshot = managed_objects(client)
        for name in STAGES:
            measure("ours", "first", name, client, ours(name))
            after = managed_objects(client)
            stage = Stage(name, snapshot, after)
            stages.append(stage)
            snapshot = after
            measure("k8s", "first", name, client_k, k8s(stage))
            measure("kubectl", "first", name, client_c, kubectl_side(stage))
        for _ in range(args.repeat):
            for stage in stages:
                measure("ours", "rerun", stage.name, client, ours(stage.name))
                measure("k8s", "rerun", stage.name, client_k, k8s(stage))
                measure("kubectl", "rerun", stage.name, client_c, kubectl_side(stage))
        measure("ours", "site", "site.yml", client, lambda: playbook("site.yml", env))
        measure(
            "kubectl",
            "site",
            "all objects",
            client_c,
            lambda: (sum(run_kubectl(kubectl, s, kubectl_files(s, work), env_c) for s in stages), 0),
        )
        status_cmd = [str(VENV_BIN / "mlopsctl"), "status", "--kubeconfig", kubeconfig]
        timed(status_cmd, env, "mlopsctl status")  # warm the file cache once
        measure(
            "ours",
            "status",
            "mlopsctl status",
            client,
            lambda: (timed(status_cmd, env, "mlopsctl status")[0], 0),
        )
    finally:
        for cp in planes:
            cp.down()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    n = len(set().union(*(s.refs for s in stages)))
    print(f"\nobjects converged by the four stages: {n} (the same objects on every side)")
    print("per stage:", ", ".join(f"{s.name} {len(s.refs)}" for s in stages))

    def total(side, run):
        rows = figures[(side, run)].values()
        return sum(r[0] for r in rows), sum(r[1] for r in rows), sum(r[2] for r in rows)

    print(f"\n{'':28s}{'ours':>10s}{'k8s':>10s}{'kubectl':>10s}{'ours/kubectl':>14s}{'goal':>8s}")
    goals = {"first": 2.0, "rerun": 1.5}
    for run, label in (("first", "first converge"), ("rerun", "idempotent re-run")):
        (t_o, r_o, c_o), (t_k, r_k, _), (t_c, r_c, _) = (total(s, run) for s in ("ours", "k8s", "kubectl"))
        print(
            f"{label + ' time (s)':28s}{t_o:10.1f}{t_k:10.1f}{t_c:10.1f}{t_o / t_c:13.2f}x{goals[run]:7.1f}x"
        )
        print(f"{label + ' requests':28s}{r_o:10d}{r_k:10d}{r_c:10d}{r_o / max(r_c, 1):13.2f}x")
        print(f"{label + ' requests/object':28s}{r_o / n:10.2f}{r_k / n:10.2f}{r_c / n:10.2f}")
        if run == "rerun":
            print(f"{label + ' changed (ours)':28s}{c_o:10d}")
        for stage in STAGES:
            row = [figures[(side, run)][stage] for side in ("ours", "k8s", "kubectl")]
            print(
                f"  {stage + ' (s)':26s}{row[0][0]:10.1f}{row[1][0]:10.1f}{row[2][0]:10.1f}"
                f"{row[0][0] / max(row[2][0], 1e-9):13.2f}x"
            )
    t_site, r_site, c_site = figures[("ours", "site")]["site.yml"]
    t_c = figures[("kubectl", "site")]["all objects"][0]
    print(
        f"\nsite.yml re-run (local inventory, Ansible included): {t_site:.1f}s, {r_site} requests, "
        f"changed={c_site}; kubectl re-run of all its objects {t_c:.1f}s: {t_site / t_c:.2f}x (goal <= 3x)"
    )
    t_status, r_status, _ = figures[("ours", "status")]["mlopsctl status"]
    print(f"mlopsctl status: {t_status:.2f}s, {r_status} requests (goal < 1 s, one round of list calls)")
    r_rerun = total("ours", "rerun")[1]
    print(f"idempotent re-run requests per object (ours): {r_rerun / n:.2f} (goal <= 1.2)")
    print("(shared machine: absolute times include the load; the ratios are of this run)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
