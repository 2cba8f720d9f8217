# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""What an ArgoCD Application of the model service runs, and what its status says.

The chart (charts/model-service) takes the image tag and the model version as the
Helm values `image.tag` and `model.version`. The environments role sets them in
`spec.source.helm.valuesObject`; a promotion overrides them with Helm *parameters*
(`spec.source.helm.parameters`), which take precedence, and which the role's
server-side apply does not own, so re-running the environments stage never undoes a
promotion. Pure functions over plain dicts.
"""

from __future__ import annotations

import copy

IMAGE_PARAM = "image.tag"
VERSION_PARAM = "model.version"
REFRESH_ANNOTATION = "argocd.argoproj.io/refresh"


def _values_get(values: dict | None, dotted: str):
    node = values
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return None if node is None else str(node)


def source_of(app: dict) -> dict:
    return ((app.get("spec") or {}).get("source")) or {}


def deployed(source: dict) -> tuple[str | None, str | None]:
    """(model version, image tag) that an Application source renders: parameters win over valuesObject."""
    helm = (source or {}).get("helm") or {}
    params = {p.get("name"): p.get("value") for p in helm.get("parameters") or [] if isinstance(p, dict)}
    values = helm.get("valuesObject") or {}
    version = params.get(VERSION_PARAM, _values_get(values, VERSION_PARAM))
    image = params.get(IMAGE_PARAM, _values_get(values, IMAGE_PARAM))
    return (None if version is None else str(version)), (None if image is None else str(image))


def with_version(parameters: list | None, version: str, image: str) -> list:
    """The Helm parameters with image.tag / model.version set (other parameters kept, in order)."""
    out = [copy.deepcopy(p) for p in parameters or [] if p.get("name") not in (IMAGE_PARAM, VERSION_PARAM)]
    out.append({"name": IMAGE_PARAM, "value": str(image), "forceString": True})
    out.append({"name": VERSION_PARAM, "value": str(version), "forceString": True})
    return out


def parameters_of(app: dict) -> list | None:
    return (source_of(app).get("helm") or {}).get("parameters")


def deploy_patch(app: dict, parameters: list | None) -> dict:
    """A JSON merge patch: set the Helm parameters and ask ArgoCD for an immediate refresh.

    When the Application has no automated sync policy, a sync operation is requested too
    (what `argocd app sync` writes), so the new version is applied without waiting.
    """
    patch: dict = {
        "metadata": {"annotations": {REFRESH_ANNOTATION: "normal"}},
        "spec": {"source": {"helm": {"parameters": parameters}}},
    }
    automated = ((app.get("spec") or {}).get("syncPolicy") or {}).get("automated")
    # `automated: {}` is automated sync with default flags; ArgoCD 3 may also say enabled: false.
    if automated is None or automated.get("enabled") is False:
        patch["operation"] = {
            "initiatedBy": {"username": "mlops-platform"},
            "sync": {"syncStrategy": {"hook": {}}},
        }
    return patch


def status_summary(app: dict) -> dict:
    status = app.get("status") or {}
    return {
        "sync": ((status.get("sync") or {}).get("status")) or "Unknown",
        "health": ((status.get("health") or {}).get("status")) or "Unknown",
        "observed": deployed(((status.get("sync") or {}).get("comparedTo") or {}).get("source") or {}),
        "operation_phase": (status.get("operationState") or {}).get("phase"),
    }


def evaluate(app: dict, version: str, image: str) -> str:
    """'healthy', 'failed' or 'pending' for the Application running (version, image).

    ArgoCD's controller records the source it compared in status.sync.comparedTo; until
    that shows the wanted version, older health says nothing about it ('pending').
    """
    s = status_summary(app)
    if s["observed"] != (version, image):
        return "pending"
    if s["sync"] == "Synced" and s["health"] == "Healthy":
        return "healthy"
    if s["health"] == "Degraded" or s["operation_phase"] in ("Failed", "Error"):
        return "failed"
    return "pending"


def runs_healthy(app: dict) -> bool:
    """The Application is Synced and Healthy on the version its spec declares."""
    version, image = deployed(source_of(app))
    return version is not None and evaluate(app, version, image) == "healthy"


def failure_detail(app: dict) -> str:
    """What went wrong, from the Application status: health and operation messages, unhealthy resources."""
    status = app.get("status") or {}
    s = status_summary(app)
    parts = [f"sync {s['sync']}, health {s['health']}"]
    msg = (status.get("health") or {}).get("message")
    if msg:
        parts.append(msg)
    op = status.get("operationState") or {}
    if op.get("message") and op.get("phase") in ("Failed", "Error"):
        parts.append(f"sync operation {op['phase']}: {op['message']}")
    bad = []
    for res in status.get("resources") or []:
        health = res.get("health") or {}
        if health.get("status") and health.get("status") not in ("Healthy", "Suspended"):
            ns = f"{res['namespace']}/" if res.get("namespace") else ""
            where = f"{res.get('kind')} {ns}{res.get('name')}"
            bad.append(
                f"{where} {health['status']}" + (f" ({health['message']})" if health.get("message") else "")
            )
    if bad:
        parts.append("unhealthy resources: " + "; ".join(bad))
    for cond in status.get("conditions") or []:
        if str(cond.get("type", "")).endswith("Error"):
            parts.append(f"{cond.get('type')}: {cond.get('message')}")
    return "; ".join(parts)
