#!/usr/bin/env python3
# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""Promotion latency: from the module's start to the target Application carrying the new
version and a refresh request, against ArgoCD's periodic reconcile that a plain spec
update (without the refresh annotation) would wait for.

    .cache/venv/bin/python bench/promotion/bench_promotion.py [--runs 20] [--ansible-runs 3]

Uses the local control plane (MLOPS_KUBECONFIG, or starts its own in a temporary state
directory and stops it). An observer thread polls the target Application every 5 ms and
records when it first carries the new image tag and the refresh annotation.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / ".cache" / "collections"))
SHARED = Path(os.environ.get("MLOPS_SHARED_DIR", ROOT.parent / "shared"))

from ansible_collections.mlops.platform.plugins.module_utils.kube import KUBE_ARGSPEC, KubeClient  # noqa: E402
from ansible_collections.mlops.platform.plugins.module_utils.promotion import application as appl  # noqa: E402
from ansible_collections.mlops.platform.plugins.module_utils.promotion.runner import (  # noqa: E402
    OPTIONS,
)
from ansible_collections.mlops.platform.plugins.module_utils.promotion.runner import (  # noqa: E402
    run as execute,
)

ENVS = ["staging", "canary", "production"]


def install_crds(kube):
    import yaml

    for name in ("argocd-application-crd.yaml", "argocd-appproject-crd.yaml"):
        for crd in yaml.safe_load_all((SHARED / "fixtures" / "crds" / name).read_text()):
            kube.request(
                "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", body=crd, allow=(409,)
            )
    path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/applications.argoproj.io"
    for _ in range(100):
        conds = kube.request("GET", path).get("status", {}).get("conditions") or []
        if any(c["type"] == "Established" and c["status"] == "True" for c in conds):
            return
        time.sleep(0.1)


def app_path(ns, name=""):
    return f"/apis/argoproj.io/v1alpha1/namespaces/{ns}/applications" + (f"/{name}" if name else "")


def set_running(kube, ns, env, version):
    """Make `env` run `version`, Synced and Healthy (what ArgoCD would report)."""
    app = kube.request("GET", app_path(ns, f"model-service-{env}"))
    app["spec"]["source"]["helm"]["parameters"] = appl.with_version(None, version, version)
    app["status"] = {
        "sync": {
            "status": "Synced",
            "comparedTo": {"source": app["spec"]["source"], "destination": app["spec"]["destination"]},
        },
        "health": {"status": "Healthy"},
    }
    app["metadata"].get("annotations", {}).pop(appl.REFRESH_ANNOTATION, None)
    kube.request("PUT", app_path(ns, app["metadata"]["name"]), body=app)


def setup(kube) -> str:
    ns = f"bench-{uuid.uuid4().hex[:6]}"
    kube.request("POST", "/api/v1/namespaces", body={"metadata": {"name": ns}}, allow=(409,))
    for env in ENVS:
        kube.request(
            "POST",
            app_path(ns),
            body={
                "apiVersion": "argoproj.io/v1alpha1",
                "kind": "Application",
                "metadata": {"name": f"model-service-{env}"},
                "spec": {
                    "project": "default",
                    "source": {
                        "repoURL": "https://git.example.invalid/r.git",
                        "path": "charts/model-service",
                        "helm": {"valuesObject": {"image": {"tag": "1"}, "model": {"version": "1"}}},
                    },
                    "destination": {"server": "https://kubernetes.default.svc", "namespace": env},
                    "syncPolicy": {"automated": {}},
                },
            },
        )
        set_running(kube, ns, env, "1")
    return ns


class Observer(threading.Thread):
    """Records the first time the target carries `image` and the refresh annotation."""

    def __init__(self, kube, ns, env, image):
        super().__init__(daemon=True)
        self.kube, self.path, self.image = kube, app_path(ns, f"model-service-{env}"), image
        self.seen_at = None
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            app = self.kube.request("GET", self.path)
            if appl.deployed(app["spec"]["source"])[1] == self.image and appl.REFRESH_ANNOTATION in (
                app["metadata"].get("annotations") or {}
            ):
                self.seen_at = time.monotonic()
                return
            time.sleep(0.005)


def module_params(kubeconfig, ns):
    out = {k: v.get("default") for k, v in {**KUBE_ARGSPEC, **OPTIONS}.items()}
    out.update(
        kubeconfig=kubeconfig,
        environments=ENVS,
        application_namespace=ns,
        history_namespace=ns,
        source="staging",
        target="canary",
        update_alias=False,
        wait=False,
    )
    return out


def in_process(kubeconfig, kube, ns, runs):
    to_seen, to_return = [], []
    for i in range(runs):
        version = str(100 + i)
        set_running(kube, ns, "staging", version)
        obs = Observer(kube, ns, "canary", version)
        obs.start()
        t0 = time.monotonic()
        result = execute(module_params(kubeconfig, ns), False)
        t_ret = time.monotonic()
        obs.join(10)
        assert result["changed"] and obs.seen_at, "the promotion did not reach the Application"
        to_seen.append(obs.seen_at - t0)
        to_return.append(t_ret - t0)
    return to_seen, to_return


def through_ansible(kubeconfig, kube, ns, runs):
    """The real module, started by `ansible localhost -m` (process start included)."""
    out = []
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_CALLBACKS_ENABLED="")
    for i in range(runs):
        version = str(500 + i)
        set_running(kube, ns, "staging", version)
        obs = Observer(kube, ns, "canary", version)
        obs.start()
        args = module_params(kubeconfig, ns)
        args = {k: v for k, v in args.items() if v is not None}
        t0 = time.monotonic()
        proc = subprocess.run(
            [
                str(ROOT / ".cache" / "venv" / "bin" / "ansible"),
                "localhost",
                "-m",
                "mlops.platform.environment_promote",
                "-a",
                json.dumps(args),
            ],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        obs.join(10)
        if proc.returncode != 0 or not obs.seen_at:
            raise SystemExit(f"ansible run failed: {proc.stdout[-2000:]}{proc.stderr[-2000:]}")
        out.append(obs.seen_at - t0)
    return out


def fmt(values):
    return (
        f"median {statistics.median(values) * 1000:7.1f} ms   p90 "
        f"{sorted(values)[int(0.9 * (len(values) - 1))] * 1000:7.1f} ms   max {max(values) * 1000:7.1f} ms"
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--ansible-runs", type=int, default=3)
    ap.add_argument("--reconcile", type=float, default=120.0, help="ArgoCD timeout.reconciliation (s)")
    ap.add_argument("--jitter", type=float, default=60.0, help="ArgoCD timeout.reconciliation.jitter (s)")
    a = ap.parse_args()

    state = None
    kubeconfig = os.environ.get("MLOPS_KUBECONFIG")
    if not kubeconfig:
        state = tempfile.mkdtemp(prefix="bench-promotion-cp-")
        up = subprocess.run(
            [sys.executable, "-m", "mlops_platform.controlplane", "up", "--state-dir", state],
            capture_output=True,
            text=True,
            check=True,
        )
        kubeconfig = up.stdout.strip().splitlines()[-1]
    try:
        kube = KubeClient.from_params({"kubeconfig": kubeconfig})
        install_crds(kube)
        ns = setup(kube)
        seen, returned = in_process(kubeconfig, kube, ns, a.runs)
        ans = through_ansible(kubeconfig, kube, ns, a.ansible_runs) if a.ansible_runs else []
    finally:
        if state:
            subprocess.run(
                [sys.executable, "-m", "mlops_platform.controlplane", "down", "--state-dir", state],
                capture_output=True,
                check=False,
            )

    r, j = a.reconcile, a.jitter
    print(f"promotion staging -> canary, {a.runs} runs in process, {a.ansible_runs} through `ansible -m`")
    print(f"  module start -> Application has the new version + refresh request : {fmt(seen)}")
    print(f"  module start -> module returns (history written, wait: false)      : {fmt(returned)}")
    if ans:
        print(f"  `ansible -m` process start -> Application has both                 : {fmt(ans)}")
    print(
        f"  goal                                                                : <= 1000 ms "
        f"({'met' if statistics.median(seen) <= 1.0 else 'NOT met'})"
    )
    print(
        f"plain spec update, waiting for ArgoCD's periodic reconcile "
        f"(timeout.reconciliation {r:g} s + jitter up to {j:g} s):"
    )
    print(
        f"  expected wait (change at a random point of the cycle)              : ~{(r + j / 2) / 2:.0f} s, "
        f"worst {r + j:.0f} s"
    )
    print(
        f"  speed-up of the refresh request (median)                           : "
        f"~{(r + j / 2) / 2 / statistics.median(seen):,.0f}x"
    )


if __name__ == "__main__":
    main()
