"""argocd_application wait: how the module reads each status ArgoCD can report.

The test writes .status itself, playing the ArgoCD controller, in a namespace the real
controller of the local cluster does not watch: a Degraded Deployment takes ArgoCD its
progress deadline (10 minutes) to report, and "nothing reports" needs no controller.
The real controller's Healthy is waited for by the platform stage (test_roles.py).
"""

from __future__ import annotations

import threading
import time

import pytest
from gitops_support import minio_app

pytestmark = pytest.mark.controlplane


def controller(kube, namespace, name, status, *, delay=2.0):
    """Like ArgoCD's application controller: on the refresh annotation, write .status."""
    from ansible_collections.mlops.platform.plugins.module_utils.kube import get

    def run():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            obj = get(kube, "argoproj.io/v1alpha1", "Application", name, namespace)
            if obj and "argocd.argoproj.io/refresh" in (obj["metadata"].get("annotations") or {}):
                time.sleep(delay)
                del obj["metadata"]["annotations"]["argocd.argoproj.io/refresh"]
                obj["status"] = status
                kube.request("PUT", kube.path_of(obj), body=obj)
                return
            time.sleep(0.3)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def args(ns, **over):
    return minio_app(ns, **{"wait": True, "wait_timeout": 30, **over})


def test_wait_healthy_succeeds(play, kube, argocd_crds, namespace):
    thread = controller(
        kube,
        namespace,
        "minio",
        {
            "sync": {"status": "Synced"},
            "health": {"status": "Healthy"},
            "operationState": {
                "phase": "Succeeded",
                "operation": {"sync": {"revision": "5.4.0"}},
                "startedAt": "2026-01-01T00:00:00Z",
                "finishedAt": "2026-01-01T00:00:05Z",
            },
        },
    )
    r = play.one("argocd_application", args(namespace))
    thread.join()
    assert not r.get("failed"), r.get("msg")
    assert r["applications"][0]["status"] == {"sync": "Synced", "health": "Healthy", "operation": "Succeeded"}


def test_wait_degraded_fails_naming_the_resource(play, kube, argocd_crds, namespace):
    thread = controller(
        kube,
        namespace,
        "minio",
        {
            "sync": {"status": "Synced"},
            "health": {"status": "Degraded"},
            "resources": [
                {
                    "kind": "Service",
                    "name": "minio",
                    "namespace": "platform",
                    "status": "Synced",
                    "health": {"status": "Healthy"},
                },
                {
                    "kind": "Deployment",
                    "name": "minio",
                    "namespace": "platform",
                    "status": "Synced",
                    "health": {
                        "status": "Degraded",
                        "message": 'Deployment "minio" exceeded its progress deadline',
                    },
                },
            ],
        },
    )
    r = play.one("argocd_application", args(namespace))
    thread.join()
    assert r["failed"] is True
    assert f"Application {namespace}/minio is Degraded" in r["msg"]
    assert (
        'Deployment platform/minio: Degraded (Deployment "minio" exceeded its progress deadline)' in r["msg"]
    )
    assert "Service platform/minio" not in r["msg"]


def test_wait_times_out_when_nothing_reports(play, kube, argocd_crds, namespace):
    started = time.monotonic()
    r = play.one("argocd_application", args(namespace, wait_condition="synced", wait_timeout=3))
    assert r["failed"] is True
    assert "timed out after 3s" in r["msg"]
    assert f"Application {namespace}/minio (wanted synced): sync Unknown, health Unknown" in r["msg"]
    assert "is the ArgoCD application controller running?" in r["msg"]
    assert time.monotonic() - started < 30
