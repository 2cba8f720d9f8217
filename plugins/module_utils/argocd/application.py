# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""argocd_application: the Application object from high-level options, and waiting on it."""

from __future__ import annotations

import json

from ansible_collections.mlops.platform.plugins.module_utils.argocd.common import (
    ArgoCDError,
    check_namespace,
    check_repo_url,
    checked_metadata,
)
from ansible_collections.mlops.platform.plugins.module_utils.kube.args import wait_argspec
from ansible_collections.mlops.platform.plugins.module_utils.kube.errors import KubeError
from ansible_collections.mlops.platform.plugins.module_utils.kube.items import run_objects, top_level_spec

API_VERSION = "argoproj.io/v1alpha1"
CASCADE_FINALIZER = "resources-finalizer.argocd.argoproj.io"
IN_CLUSTER = "https://kubernetes.default.svc"
REFRESH_ANNOTATION = "argocd.argoproj.io/refresh"

SYNC_POLICY_SPEC = {
    "automated": {"type": "bool", "default": True},
    "create_namespace": {"type": "bool", "default": True},
    "prune": {"type": "bool", "default": True},
    "retry_backoff_duration": {"type": "str", "default": "5s"},
    "retry_backoff_factor": {"type": "int", "default": 2},
    "retry_backoff_max_duration": {"type": "str", "default": "3m"},
    "retry_limit": {"type": "int", "default": 5},
    "self_heal": {"type": "bool", "default": True},
    "server_side_apply": {"type": "bool", "default": False},
}

HELM_PARAMETER_SPEC = {
    "force_string": {"type": "bool", "default": False},
    "name": {"type": "str", "required": True},
    "value": {"type": "str", "required": True},
}

# The options of one Application (the module's top level, or one element of `applications`).
APPLICATION_SPEC = {
    "annotations": {"type": "dict", "default": {}},
    "cascade_delete": {"type": "bool", "default": True},
    "chart": {"type": "str"},
    "chart_version": {"type": "str"},
    "destination_namespace": {"type": "str"},
    "destination_server": {"type": "str", "default": IN_CLUSTER},
    "helm_parameters": {"type": "list", "elements": "dict", "default": [], "options": HELM_PARAMETER_SPEC},
    "helm_release_name": {"type": "str"},
    "helm_value_files": {"type": "list", "elements": "str", "default": []},
    "helm_values": {"type": "raw"},
    "kustomize_images": {"type": "list", "elements": "str", "default": []},
    "labels": {"type": "dict", "default": {}},
    "name": {"type": "str", "required": True},
    "namespace": {"type": "str", "default": "argocd"},
    "path": {"type": "str"},
    "project": {"type": "str", "default": "default"},
    "repo_url": {"type": "str"},
    "revision": {"type": "str"},
    "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
    "sync_options": {"type": "list", "elements": "str", "default": []},
    "sync_policy": {"type": "dict", "default": {}, "options": SYNC_POLICY_SPEC},
    "sync_wave": {"type": "int"},
    "wait_condition": {"type": "str", "default": "healthy", "choices": ["synced", "healthy"]},
    **wait_argspec(wait=False, wait_timeout=300.0),
}


def build(item: dict) -> dict:
    """The Application for one validated item. Raises ArgoCDError naming the bad field."""
    metadata, where = checked_metadata(item, "Application")
    if item["state"] == "absent":
        return {"apiVersion": API_VERSION, "kind": "Application", "metadata": metadata}
    if not item.get("repo_url"):
        raise ArgoCDError(f"{where}: repo_url is required (a Git or Helm repository URL)")
    check_repo_url(item["repo_url"], "repo_url", where)
    if item.get("chart") and item.get("path"):
        raise ArgoCDError(
            f"{where}: set either chart (a Helm repository) or path (a Git repository), not both"
        )
    if not item.get("chart") and not item.get("path"):
        raise ArgoCDError(f"{where}: set chart + chart_version (Helm repository) or path (Git repository)")
    if item.get("chart") and not item.get("chart_version"):
        raise ArgoCDError(
            f"{where}: chart {item['chart']!r} needs chart_version: charts are pinned to a version "
            "so that a converge installs the same release every time"
        )
    if item.get("chart") and item.get("kustomize_images"):
        raise ArgoCDError(f"{where}: kustomize_images applies to a Git path, not to a Helm chart")
    dest_ns = item.get("destination_namespace")
    if not dest_ns:
        raise ArgoCDError(f"{where}: destination_namespace is required")
    check_namespace(dest_ns, "destination_namespace", where)

    source: dict = {"repoURL": item["repo_url"]}
    if item.get("chart"):
        source["chart"] = item["chart"]
        source["targetRevision"] = item["chart_version"]
    else:
        source["path"] = item["path"]
        source["targetRevision"] = item.get("revision") or "HEAD"
    helm = _helm(item, where)
    if helm:
        source["helm"] = helm
    if item["kustomize_images"]:
        source["kustomize"] = {"images": list(item["kustomize_images"])}

    labels = {str(k): str(v) for k, v in item["labels"].items()}
    annotations = {str(k): str(v) for k, v in item["annotations"].items()}
    if item.get("sync_wave") is not None:
        annotations["argocd.argoproj.io/sync-wave"] = str(item["sync_wave"])
    if labels:
        metadata["labels"] = labels
    if annotations:
        metadata["annotations"] = annotations
    if item["cascade_delete"]:
        metadata["finalizers"] = [CASCADE_FINALIZER]

    spec = {
        "project": item["project"],
        "source": source,
        "destination": {"server": item["destination_server"], "namespace": dest_ns},
        "syncPolicy": _sync_policy(item),
    }
    return {"apiVersion": API_VERSION, "kind": "Application", "metadata": metadata, "spec": spec}


def _helm(item: dict, where: str) -> dict:
    helm: dict = {}
    values = item.get("helm_values")
    if values not in (None, "", {}):
        if isinstance(values, str):
            import yaml

            try:
                parsed = yaml.safe_load(values)
            except yaml.YAMLError as e:
                raise ArgoCDError(f"{where}: helm_values is not valid YAML: {e}") from e
            values = parsed
        if not isinstance(values, dict):
            raise ArgoCDError(f"{where}: helm_values must be a mapping (or YAML text of one)")
        # valuesObject keeps the structure: the API server validates it as an object.
        helm["valuesObject"] = json.loads(json.dumps(values))
    if item["helm_value_files"]:
        helm["valueFiles"] = list(item["helm_value_files"])
    if item["helm_parameters"]:
        helm["parameters"] = [
            {"name": p["name"], "value": p["value"], **({"forceString": True} if p["force_string"] else {})}
            for p in item["helm_parameters"]
        ]
    if item.get("helm_release_name"):
        helm["releaseName"] = item["helm_release_name"]
    return helm


def _sync_policy(item: dict) -> dict:
    sp = {**{k: v["default"] for k, v in SYNC_POLICY_SPEC.items()}, **(item.get("sync_policy") or {})}
    policy: dict = {}
    if sp["automated"]:
        policy["automated"] = {"prune": sp["prune"], "selfHeal": sp["self_heal"]}
    options = []
    if sp["create_namespace"]:
        options.append("CreateNamespace=true")
    if sp["server_side_apply"]:
        options.append("ServerSideApply=true")
    options += [o for o in item.get("sync_options") or [] if o not in options]
    if options:
        policy["syncOptions"] = options
    if sp["retry_limit"]:
        policy["retry"] = {
            "limit": sp["retry_limit"],
            "backoff": {
                "duration": sp["retry_backoff_duration"],
                "factor": sp["retry_backoff_factor"],
                "maxDuration": sp["retry_backoff_max_duration"],
            },
        }
    return policy


# -- waiting -----------------------------------------------------------------------


def status_summary(app: dict | None) -> dict:
    status = (app or {}).get("status") or {}
    return {
        "sync": (status.get("sync") or {}).get("status", "Unknown"),
        "health": (status.get("health") or {}).get("status", "Unknown"),
        "operation": (status.get("operationState") or {}).get("phase"),
    }


def unhealthy_resources(app: dict | None) -> list[str]:
    """'Kind ns/name: Health (message)' for each resource that is not Healthy or not Synced."""
    lines = []
    for res in ((app or {}).get("status") or {}).get("resources") or []:
        health = res.get("health") or {}
        h = health.get("status")
        if (h and h != "Healthy") or res.get("status") == "OutOfSync":
            ns = res.get("namespace")
            label = f"{res.get('kind')} {ns + '/' if ns else ''}{res.get('name')}"
            detail = h or res.get("status")
            if health.get("message"):
                detail += f" ({health['message']})"
            elif res.get("status") == "OutOfSync" and h:
                detail += ", OutOfSync"
            lines.append(f"{label}: {detail}")
    return lines


def describe(app: dict | None) -> str:
    s = status_summary(app)
    text = f"sync {s['sync']}, health {s['health']}"
    if s["operation"]:
        text += f", last operation {s['operation']}"
    bad = unhealthy_resources(app)
    if bad:
        text += "; resources not ready: " + "; ".join(bad)
    conditions = [c.get("message", "") for c in ((app or {}).get("status") or {}).get("conditions") or []]
    if conditions:
        text += "; conditions: " + "; ".join(conditions)
    if not (app or {}).get("status"):
        text += " (no status written: is the ArgoCD application controller running?)"
    return text


#: How long an Application may stay Degraded before a wait gives up on it. A fresh
#: install passes through Degraded: the Prometheus Operator reports a Prometheus whose
#: pods are not ready yet as unavailable, which ArgoCD's health check calls Degraded.
DEGRADED_GRACE = 120.0


def reached(app: dict | None, target: str, ref: str, degraded_for: float | None = None) -> bool:
    """Whether the Application reached `target` (synced|healthy); raise on a failed sync,
    or on Degraded once it has lasted DEGRADED_GRACE seconds (`degraded_for`: how long it
    has been Degraded; None: not known, raise at once)."""
    s = status_summary(app)
    if s["health"] == "Degraded":
        if degraded_for is None or degraded_for >= DEGRADED_GRACE:
            lasted = f" (for {degraded_for:.0f} s)" if degraded_for else ""
            raise KubeError(f"{ref} is Degraded{lasted}: {describe(app)}")
        return False
    if s["operation"] in ("Failed", "Error"):
        message = ((app or {}).get("status") or {}).get("operationState", {}).get("message", "")
        raise KubeError(f"{ref}: sync {s['operation']}: {message}; {describe(app)}")
    if s["sync"] != "Synced":
        return False
    return target == "synced" or s["health"] == "Healthy"


def refresh_and_wait(
    client, apps: list[tuple[dict, str, int]], *, interval: float = 2.0, sleep=None, clock=None
) -> list[dict]:
    """Ask ArgoCD to refresh each Application now, then poll until all reach their target.

    apps: (object, target synced|healthy, timeout seconds). One GET per pending
    Application per round. A failed sync stops at once, Degraded once it has lasted
    DEGRADED_GRACE seconds or at the timeout; a timeout names the Applications and
    resources that are not ready.
    """
    import time

    from ansible_collections.mlops.platform.plugins.module_utils.kube.client import ref_of
    from ansible_collections.mlops.platform.plugins.module_utils.kube.service import merge_patch
    from ansible_collections.mlops.platform.plugins.module_utils.kube.waiter import WaitTimeout, wait_for

    sleep = sleep or time.sleep
    clock = clock or time.monotonic
    for obj, _target, _timeout in apps:
        merge_patch(
            client,
            obj,
            {"metadata": {"annotations": {REFRESH_ANNOTATION: "normal"}}},
            action="requesting a refresh of",
            manager="mlops-platform-refresh",
        )
    pending = {ref_of(obj): (obj, target) for obj, target, _t in apps}
    final: dict[str, dict] = {}
    timeout = max(t for _o, _t, t in apps)

    def fetch():
        for ref, (obj, _target) in pending.items():
            final[ref] = client.request("GET", client.path_of(obj), action="reading", ref=ref)
        return final

    degraded_since: dict[str, float] = {}

    def degraded_for(ref: str) -> float:
        if status_summary(final[ref])["health"] != "Degraded":
            degraded_since.pop(ref, None)
            return 0.0
        return clock() - degraded_since.setdefault(ref, clock())

    def check(_seen):
        for ref, (_obj, target) in list(pending.items()):
            if reached(final[ref], target, ref, degraded_for(ref)):
                del pending[ref]
        return not pending

    def what_is_left(_seen):
        return " | ".join(
            f"{ref} (wanted {target}): {describe(final.get(ref))}" for ref, (_o, target) in pending.items()
        )

    try:
        wait_for(
            fetch,
            check,
            timeout=timeout,
            interval=interval,
            what="the Applications",
            describe=what_is_left,
            sleep=sleep,
            clock=clock,
        )
    except WaitTimeout as e:
        for ref in pending:  # still Degraded at the end: that is the reason to give
            if ref in degraded_since:
                raise KubeError(
                    f"{ref} is Degraded (for {degraded_for(ref):.0f} s, until the timeout): "
                    f"{describe(final[ref])}"
                ) from e
        raise ArgoCDError(str(e)) from e
    return [final[ref_of(obj)] for obj, _t, _to in apps]


def run(params: dict, check_mode: bool) -> dict:
    """The whole argocd_application run: build, apply/delete, then wait where asked."""

    def wait(client, items, objects, results, out):
        waiting = [
            (item, obj)
            for item, obj in zip(items, objects, strict=True)
            if item["state"] == "present" and item["wait"]
        ]
        todo = [(obj, item["wait_condition"], item["wait_timeout"]) for item, obj in waiting]
        if todo and not check_mode:
            interval = min(item["poll_interval"] for item, _obj in waiting)
            finals = refresh_and_wait(client, todo, interval=interval)
            by_ref = {f"Application {o['metadata']['namespace']}/{o['metadata']['name']}": o for o in finals}
            for entry in out["applications"]:
                if entry["ref"] in by_ref:
                    entry["object"] = by_ref[entry["ref"]]
                    entry["status"] = status_summary(by_ref[entry["ref"]])

    return run_objects(
        params,
        check_mode,
        APPLICATION_SPEC,
        "applications",
        build,
        what="Applications",
        result_key="applications",
        error=ArgoCDError,
        after=wait,
    )


ARGUMENT_SPEC = top_level_spec(APPLICATION_SPEC, "applications")
MODULE_RULES = {
    "required_one_of": [("name", "applications")],
    "mutually_exclusive": [("name", "applications"), ("chart", "path")],
    "supports_check_mode": True,
}
