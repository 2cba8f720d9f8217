"""Fixtures of the API's end-to-end tests: a control plane of their own, the Platform on it."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _plane(tmp_path_factory, name):
    """A fresh etcd + kube-apiserver (as the session `controlplane` fixture, from the same
    launcher), so that 'the first run changes' does not depend on what other test modules
    applied before; no controller-manager runs, so namespaces can never be cleaned up."""
    from mlops_platform.controlplane import ControlPlane, ControlPlaneError

    bin_dir = os.environ.get("MLOPS_ENVTEST_BIN", str(ROOT / ".cache" / "envtest" / "current"))
    plane = ControlPlane(bin_dir, tmp_path_factory.mktemp(name))
    try:
        plane.up()
    except ControlPlaneError as e:
        pytest.fail(f"control plane did not start: {e} (build it with `make test-deps`)")
    return plane


@pytest.fixture(scope="module")
def plane(tmp_path_factory):
    plane = _plane(tmp_path_factory, "api-plane")
    yield plane
    plane.down()


@pytest.fixture(scope="module")
def platform(plane):
    from mlops_platform.api import Platform

    return Platform(ROOT, "inventory/local", kubeconfig=plane.kubeconfig)


@pytest.fixture
def fresh_platform(tmp_path_factory):
    """A Platform on a second, empty control plane (for runs that must start from nothing)."""
    from mlops_platform.api import Platform

    plane = _plane(tmp_path_factory, "api-fresh")
    yield Platform(ROOT, "inventory/local", kubeconfig=plane.kubeconfig)
    plane.down()


@pytest.fixture
def argo_controller():
    """The ArgoController class below (a fixture, so test modules need no import path)."""
    return ArgoController


class ArgoController:
    """Plays ArgoCD's application controller, which cannot run here (no nodes, no pods):
    every Application in `namespace` gets status Synced/Healthy for the source its spec
    declares, as ArgoCD reports once it has deployed that source."""

    def __init__(self, kubeconfig, namespace="argocd"):
        from kubernetes import client, config

        self.api = client.CustomObjectsApi(config.new_client_from_config(config_file=str(kubeconfig)))
        self.namespace = namespace
        self.stop = threading.Event()
        self.error: Exception | None = None
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def sync_once(self) -> int:
        from kubernetes.client.exceptions import ApiException

        done = 0
        apps = self.api.list_namespaced_custom_object(
            "argoproj.io", "v1alpha1", self.namespace, "applications"
        )
        for app in apps["items"]:
            source = app["spec"].get("source") or {}
            status = app.get("status") or {}
            if (status.get("sync") or {}).get("comparedTo", {}).get("source") == source and (
                (status.get("health") or {}).get("status") == "Healthy"
            ):
                continue
            app.pop("operation", None)  # ArgoCD runs a requested sync, then removes the request
            app["status"] = {
                "sync": {
                    "status": "Synced",
                    "revision": "rehearsal",
                    "comparedTo": {"source": source, "destination": app["spec"].get("destination", {})},
                },
                "health": {"status": "Healthy"},
            }
            try:
                # The Application CRD has no status subresource: status is written with the object.
                self.api.replace_namespaced_custom_object(
                    "argoproj.io", "v1alpha1", self.namespace, "applications", app["metadata"]["name"], app
                )
                done += 1
            except ApiException as e:
                if e.status != 409:  # a concurrent writer: next round
                    raise
        return done

    def _loop(self):
        while not self.stop.is_set():
            try:
                self.sync_once()
            except Exception as e:  # the CRD may not exist yet: keep playing, keep the error for asserts
                self.error = e
            time.sleep(0.3)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(5)
