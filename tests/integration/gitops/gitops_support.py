"""What the GitOps module tests share: the MinIO Application they manage."""

from __future__ import annotations


def minio_app(namespace: str, **over) -> dict:
    """argocd_application's arguments for MinIO's pinned chart in `namespace`, with `over` on top."""
    return {
        "name": "minio",
        "namespace": namespace,
        "repo_url": "https://charts.min.io/",
        "chart": "minio",
        "chart_version": "5.4.0",
        "destination_namespace": "platform",
        **over,
    }
