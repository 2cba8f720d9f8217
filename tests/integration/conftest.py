"""The integration tier's local cluster runs the real controllers."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def controlplane_components() -> list[str]:
    """kube-controller-manager, kube-scheduler and KWOK's nodes; ArgoCD's application-controller
    and repo-server, Argo Rollouts, Redis, the local Git and Helm servers; the Prometheus
    Operator (the platform stage's monitoring app becomes healthy through it)."""
    return ["controllers", "gitops", "operators"]
