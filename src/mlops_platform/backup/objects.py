"""The platform's own objects that Git cannot rebuild, read from and written back to the cluster.

What is kept: the Secrets and ConfigMaps the platform labels ``managed-by=mlops-platform``
(generated credentials, ArgoCD repository Secrets, the promotion history) and every ArgoCD
Application and AppProject (they carry each environment's current version). Objects are
stored without what the API server owns (uid, resourceVersion, managedFields, status).

Restore creates what is missing and leaves what is already there and equal. A Secret or
ConfigMap that exists with other values is a conflict: it is reported and kept, unless the
operator asks to overwrite it, because an app may already use the newer credential.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..errors import EXIT_RUN_FAILED, MlopsError

SELECTOR = "app.kubernetes.io/managed-by=mlops-platform"
ARGO_GROUP, ARGO_VERSION = "argoproj.io", "v1alpha1"
#: Restore order: projects before the Applications they govern, credentials before the apps using them.
KINDS = ("AppProject", "Secret", "ConfigMap", "Application")
PLURALS = {"AppProject": "appprojects", "Application": "applications"}
SERVER_FIELDS = ("uid", "resourceVersion", "creationTimestamp", "managedFields", "generation", "selfLink")
REQUEST_TIMEOUT = 15


@dataclass
class RestoreReport:
    created: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)


def ref(obj: dict) -> str:
    meta = obj["metadata"]
    return f"{obj['kind']} {meta.get('namespace', '')}/{meta['name']}"


def clean(obj: dict) -> dict:
    """The object as it would be created again: no server-owned fields, no status, no operation."""
    meta = {k: v for k, v in obj["metadata"].items() if k not in SERVER_FIELDS and v is not None}
    annotations = {
        k: v
        for k, v in (meta.pop("annotations", None) or {}).items()
        if k != "kubectl.kubernetes.io/last-applied-configuration"
    }
    if annotations:
        meta["annotations"] = annotations
    body = {k: v for k, v in obj.items() if k not in ("metadata", "status", "operation") and v is not None}
    body["metadata"] = meta
    return body


def _api_error(what: str, e) -> MlopsError:
    return MlopsError(f"{what}: HTTP {e.status} {e.reason}", exit_code=EXIT_RUN_FAILED)


def _live(api_client) -> list[dict]:
    """The platform's objects as the API server has them (one list call per kind)."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    core, custom = client.CoreV1Api(api_client), client.CustomObjectsApi(api_client)
    out: list[dict] = []
    for kind in KINDS:
        try:
            if kind in PLURALS:
                items = custom.list_cluster_custom_object(
                    ARGO_GROUP, ARGO_VERSION, PLURALS[kind], _request_timeout=REQUEST_TIMEOUT
                )["items"]
            else:
                lister = (
                    core.list_secret_for_all_namespaces
                    if kind == "Secret"
                    else core.list_config_map_for_all_namespaces
                )
                resp = lister(
                    label_selector=SELECTOR, _request_timeout=REQUEST_TIMEOUT, _preload_content=False
                )
                items = json.loads(resp.data)["items"]
        except ApiException as e:
            if e.status == 404 and kind in PLURALS:
                continue  # ArgoCD is not installed: nothing of this kind
            raise _api_error(f"cannot list {kind} objects", e) from e
        for item in items:
            item.setdefault("kind", kind)
            item.setdefault("apiVersion", "v1" if kind not in PLURALS else f"{ARGO_GROUP}/{ARGO_VERSION}")
            out.append(item)
    return out


def kept(obj: dict) -> bool:
    """Not a service account token: the cluster issues it, and a restored one would carry a token
    that a rebuilt cluster's keys never signed (the workflows stage declares it again)."""
    return not (obj["kind"] == "Secret" and obj.get("type") == "kubernetes.io/service-account-token")


def collect(api_client) -> list[dict]:
    """Every platform object to keep, cleaned, in restore order."""
    return sorted(
        (clean(o) for o in _live(api_client) if kept(o)),
        key=lambda o: (KINDS.index(o["kind"]), o["metadata"].get("namespace", ""), o["metadata"]["name"]),
    )


def _content(obj: dict) -> Any:
    """What restore compares: the payload, labels and annotations (not server-owned metadata)."""
    meta = obj.get("metadata", {})
    payload = {
        k: v for k, v in obj.items() if k not in ("metadata", "status", "operation", "apiVersion", "kind")
    }
    return (
        payload,
        meta.get("labels") or {},
        {
            k: v
            for k, v in (meta.get("annotations") or {}).items()
            if k != "kubectl.kubernetes.io/last-applied-configuration"
        },
    )


def restore(
    api_client, objects: list[dict], *, overwrite: bool = False, dry_run: bool = False
) -> RestoreReport:
    """Create what is missing; report (or, with overwrite, replace) what differs."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    core, custom = client.CoreV1Api(api_client), client.CustomObjectsApi(api_client)
    report = RestoreReport()
    dry = {"dry_run": "All"} if dry_run else {}
    present_ns = {n.metadata.name for n in core.list_namespace(_request_timeout=REQUEST_TIMEOUT).items}
    for ns in sorted(
        {o["metadata"]["namespace"] for o in objects if o["metadata"].get("namespace")} - present_ns
    ):
        if not dry_run:
            core.create_namespace({"metadata": {"name": ns}}, _request_timeout=REQUEST_TIMEOUT)
        report.created.append(f"Namespace {ns}")

    live = {ref(o): o for o in _live(api_client)}
    for obj in sorted(objects, key=lambda o: KINDS.index(o["kind"])):
        current = live.get(ref(obj))
        try:
            if current is None:
                try:
                    _create(core, custom, obj, dry)
                    report.created.append(ref(obj))
                    continue
                except ApiException as e:
                    if e.status == 404 and obj["kind"] in PLURALS and "page not found" in str(e.body).lower():
                        raise MlopsError(
                            f"cannot restore {ref(obj)}: ArgoCD's CRDs are not installed; "
                            "run `mlopsctl up -s gitops` first",
                            exit_code=EXIT_RUN_FAILED,
                        ) from e
                    if e.status != 409:
                        raise
                # It exists without the platform's label (so not listed): compare it as it is.
                current = _read(core, custom, obj)
            if _content(clean(current)) == _content(obj):
                report.unchanged.append(ref(obj))
            elif obj["kind"] in ("Secret", "ConfigMap") and not overwrite:
                report.conflicts.append(ref(obj))
            else:
                meta = dict(obj["metadata"], resourceVersion=current["metadata"]["resourceVersion"])
                _replace(core, custom, dict(obj, metadata=meta), dry)
                report.updated.append(ref(obj))
        except ApiException as e:
            raise _api_error(f"cannot restore {ref(obj)}", e) from e
    return report


def _read(core, custom, obj: dict) -> dict:
    kind, name, ns = obj["kind"], obj["metadata"]["name"], obj["metadata"].get("namespace")
    if kind in PLURALS:
        return custom.get_namespaced_custom_object(
            ARGO_GROUP, ARGO_VERSION, ns, PLURALS[kind], name, _request_timeout=REQUEST_TIMEOUT
        )
    reader = core.read_namespaced_secret if kind == "Secret" else core.read_namespaced_config_map
    obj = json.loads(reader(name, ns, _request_timeout=REQUEST_TIMEOUT, _preload_content=False).data)
    obj.setdefault("kind", kind)
    return obj


def _create(core, custom, obj: dict, dry: dict) -> None:
    kind, ns = obj["kind"], obj["metadata"].get("namespace")
    if kind in PLURALS:
        custom.create_namespaced_custom_object(ARGO_GROUP, ARGO_VERSION, ns, PLURALS[kind], obj, **dry)
    elif kind == "Secret":
        core.create_namespaced_secret(ns, obj, **dry)
    else:
        core.create_namespaced_config_map(ns, obj, **dry)


def _replace(core, custom, obj: dict, dry: dict) -> None:
    kind, meta = obj["kind"], obj["metadata"]
    name, ns = meta["name"], meta.get("namespace")
    if kind in PLURALS:
        custom.replace_namespaced_custom_object(ARGO_GROUP, ARGO_VERSION, ns, PLURALS[kind], name, obj, **dry)
    elif kind == "Secret":
        core.replace_namespaced_secret(name, ns, obj, **dry)
    else:
        core.replace_namespaced_config_map(name, ns, obj, **dry)
