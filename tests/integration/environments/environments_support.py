"""Helpers of the environments / promotion tests (imported by conftest.py and the tests).

The local cluster (tests/conftest.py) runs ArgoCD's real application-controller: the
Applications of a `live_platform` (namespace argocd-*) are fetched from this
repository's Git server, rendered, synced and health-checked by it, and KWOK reports
their pods ready (or crash-looping, for an image made to fail).

`FakeArgoCD` is kept for the tests that must see no write at all (refusals, check
mode) or a state the real controller cannot be brought to quickly (an Application
Degraded in its source environment): it writes `.status` itself on Applications in
namespaces the controller does not watch (fake-argocd-*).
"""

from __future__ import annotations

import copy
import json
import os
import socket
import subprocess
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
ENVS = ["staging", "canary", "production"]
CRD_FILES = [
    "argocd-application-crd.yaml",
    "argocd-appproject-crd.yaml",
    "argo-workflows-argoproj.io_workflows.yaml",
    "argo-workflows-argoproj.io_workflowtemplates.yaml",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def install_crd(kube, crd: dict) -> None:
    path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
    kube.request("POST", path, body=crd, action="creating", ref=crd["metadata"]["name"], allow=(409,))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        got = kube.request("GET", f"{path}/{crd['metadata']['name']}")
        conds = {c["type"]: c["status"] for c in (got.get("status") or {}).get("conditions") or []}
        if conds.get("Established") == "True":
            return
        time.sleep(0.2)
    raise AssertionError(f"CRD {crd['metadata']['name']} not Established within 30 s")


def ensure_namespace(kube, name: str) -> None:
    kube.request(
        "POST",
        "/api/v1/namespaces",
        body={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
        allow=(409,),
    )


def app_path(ns: str, name: str = "") -> str:
    return f"/apis/argoproj.io/v1alpha1/namespaces/{ns}/applications" + (f"/{name}" if name else "")


IMAGE_REPOSITORY = "registry.local/mlops/model-service"  # the chart's default


def make_app(
    env: str,
    version: str,
    image: str,
    *,
    automated: bool = True,
    repo_url: str = "file:///work/repo.git",
    destination: str | None = None,
) -> dict:
    """An Application as the environments role declares it (Helm values carry the initial version)."""
    spec = {
        "project": f"model-service-{env}",
        "source": {
            "repoURL": repo_url,
            "path": "charts/model-service",
            "targetRevision": "HEAD",
            "helm": {
                "valuesObject": {
                    "environment": env,
                    "image": {"tag": image},
                    "model": {"name": "bird-classifier", "version": version},
                }
            },
        },
        "destination": {
            "server": "https://kubernetes.default.svc",
            "namespace": destination or f"model-service-{env}",
        },
    }
    if automated:
        spec["syncPolicy"] = {"automated": {"prune": True, "selfHeal": True}}
    if destination:
        spec.setdefault("syncPolicy", {})["syncOptions"] = ["CreateNamespace=true"]
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": f"model-service-{env}"},
        "spec": spec,
    }


def healthy_status(source: dict, health: str = "Healthy", message: str = "") -> dict:
    status = {
        "sync": {
            "status": "Synced",
            "comparedTo": {
                "source": copy.deepcopy(source),
                "destination": {"server": "https://kubernetes.default.svc"},
            },
        },
        "health": {"status": health},
        "reconciledAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    if health != "Healthy":
        status["health"]["message"] = message
        status["resources"] = [
            {
                "group": "apps",
                "version": "v1",
                "kind": "Deployment",
                "namespace": "ns",
                "name": "model-service",
                "status": "Synced",
                "health": {"status": health, "message": message},
            }
        ]
    return status


class StandInController:
    """A controller stand-in: `tick()` every 50 ms in a thread while the with-block runs.

    An error in a tick is kept, and fails the test when the block ends.
    """

    def __init__(self):
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self.errors: list[BaseException] = []

    def tick(self) -> None:
        raise NotImplementedError

    def _loop(self):
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception as e:  # noqa: BLE001 - reported by the test through .errors
                self.errors.append(e)
            self._stop.wait(0.05)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5)
        assert not self.errors, f"the stand-in {type(self).__name__} failed: {self.errors!r}"


class FakeArgoCD(StandInController):
    """Plays ArgoCD's application controller for the Applications of one namespace.

    Reconciles on the refresh annotation: removes it and reports the spec's source as
    compared, Synced, and Healthy, except for image tags listed in `bad_images`, which it
    reports Degraded (a crash-looping Deployment), and tags in `stuck_images`, which it
    leaves Progressing forever (for timeouts). `seen` counts reconciles per Application.
    """

    def __init__(self, kube, namespace: str):
        super().__init__()
        self.kube = kube
        self.ns = namespace
        self.bad_images: set[str] = set()
        self.stuck_images: set[str] = set()
        self.seen: dict[str, int] = {}
        self.versions_seen: list[tuple[str, str | None]] = []

    def reconcile(self, app: dict) -> None:
        from ansible_collections.mlops.platform.plugins.module_utils.promotion import application as appl

        name = app["metadata"]["name"]
        source = app["spec"]["source"]
        _version, image = appl.deployed(source)
        if image in self.bad_images:
            status = healthy_status(source, "Degraded", "Back-off restarting failed container model-server")
        elif image in self.stuck_images:
            status = healthy_status(source, "Progressing", "Waiting for rollout to finish")
            status["sync"]["status"] = "Synced"
        else:
            status = healthy_status(source)
        # A JSON patch replaces .status whole (the controller rewrites it on every reconcile),
        # guarded by the resourceVersion we read, like the controller's own updates.
        patch = [
            {"op": "test", "path": "/metadata/resourceVersion", "value": app["metadata"]["resourceVersion"]},
            {"op": "add", "path": "/status", "value": status},
            {"op": "remove", "path": "/metadata/annotations/" + appl.REFRESH_ANNOTATION.replace("/", "~1")},
        ]
        if "operation" in app:
            patch.append({"op": "remove", "path": "/operation"})
        got = self.kube.request(
            "PATCH",
            app_path(self.ns, name),
            body=patch,
            content_type="application/json-patch+json",
            allow=(409, 422),
        )
        if got is None:  # changed meanwhile: reconcile again on the next pass
            return
        self.seen[name] = self.seen.get(name, 0) + 1
        self.versions_seen.append((name, image))

    def tick(self):
        from ansible_collections.mlops.platform.plugins.module_utils.promotion import application as appl

        for app in self.kube.request("GET", app_path(self.ns))["items"]:
            if appl.REFRESH_ANNOTATION in (app["metadata"].get("annotations") or {}):
                self.reconcile(app)


def read_app(kube, ns: str, env: str) -> dict:
    return kube.request("GET", app_path(ns, f"model-service-{env}"))


def params(ns: str, **extra) -> dict:
    """Options of environment_promote as the module receives them (defaults filled in)."""
    from ansible_collections.mlops.platform.plugins.module_utils.kube import KUBE_ARGSPEC
    from ansible_collections.mlops.platform.plugins.module_utils.promotion.runner import OPTIONS

    out = {k: v.get("default") for k, v in {**KUBE_ARGSPEC, **OPTIONS}.items()}
    out.update(
        environments=list(ENVS),
        application_namespace=ns,
        history_namespace=ns,
        poll_interval=0.05,
        wait_timeout=10.0,
        update_alias=False,
    )
    out.update(extra)
    return out


HISTORY = "mlops-promotion-history"


def running(kube, ns, env):
    from ansible_collections.mlops.platform.plugins.module_utils.promotion import application as appl

    return appl.deployed(read_app(kube, ns, env)["spec"]["source"])


def snapshot(kube, ns):
    """resourceVersions of the three Applications and of the history ConfigMap (None if absent)."""
    out = {env: read_app(kube, ns, env)["metadata"]["resourceVersion"] for env in ENVS}
    cm = kube.request("GET", f"/api/v1/namespaces/{ns}/configmaps/{HISTORY}", allow=(404,))
    out["history"] = cm and cm["metadata"]["resourceVersion"]
    return out


def history(kube, ns):
    cm = kube.request("GET", f"/api/v1/namespaces/{ns}/configmaps/{HISTORY}")
    return json.loads(cm["data"]["history.json"])


def playbook(kubeconfig, name, *extra_vars, check=False):
    env = dict(
        os.environ,
        MLOPS_KUBECONFIG=kubeconfig,
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_CALLBACKS_ENABLED="",
    )
    cmd = [str(ROOT / ".cache" / "venv" / "bin" / "ansible-playbook"), str(ROOT / "playbooks" / name)]
    for ev in extra_vars:
        cmd += ["-e", ev if isinstance(ev, str) else json.dumps(ev)]
    if check:
        cmd.append("--check")
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def recap(out: str) -> dict:
    line = next(ln for ln in out.splitlines() if ln.startswith("localhost") and "ok=" in ln)
    return {k: int(v) for k, v in (part.split("=") for part in line.split(":", 1)[1].split())}


def live_params(ns: str, **extra) -> dict:
    """`params` with the waits the real controller needs (it syncs in seconds, not instantly)."""
    return params(ns, **{"poll_interval": 0.5, "wait_timeout": 120.0, **extra})


def wait_healthy(kube, ns: str, envs=ENVS, timeout: float = 180) -> None:
    """Until ArgoCD reports each Application Synced and Healthy on the version its spec declares."""
    from ansible_collections.mlops.platform.plugins.module_utils.promotion import application as appl

    deadline = time.monotonic() + timeout
    pending = list(envs)
    while pending:
        pending = [env for env in pending if not appl.runs_healthy(read_app(kube, ns, env))]
        if not pending:
            return
        if time.monotonic() > deadline:
            details = {env: appl.failure_detail(read_app(kube, ns, env)) for env in pending}
            raise AssertionError(f"not Synced and Healthy after {timeout:.0f} s: {details}")
        time.sleep(0.5)
