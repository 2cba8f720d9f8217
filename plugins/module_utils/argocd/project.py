# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""argocd_project: an AppProject restricting sources, destinations and cluster-scoped kinds."""

from __future__ import annotations

from ansible_collections.mlops.platform.plugins.module_utils.argocd.application import API_VERSION, IN_CLUSTER
from ansible_collections.mlops.platform.plugins.module_utils.argocd.common import (
    ArgoCDError,
    check_namespace,
    check_repo_url,
    checked_metadata,
)
from ansible_collections.mlops.platform.plugins.module_utils.kube.items import run_objects, top_level_spec

DESTINATION_SPEC = {
    "namespace": {"type": "str", "required": True},
    "server": {"type": "str", "default": IN_CLUSTER},
}
KIND_SPEC = {
    "group": {"type": "str", "default": ""},
    "kind": {"type": "str", "required": True},
}

PROJECT_SPEC = {
    "cluster_resources": {"type": "list", "elements": "dict", "default": [], "options": KIND_SPEC},
    "description": {"type": "str", "default": ""},
    "destinations": {"type": "list", "elements": "dict", "default": [], "options": DESTINATION_SPEC},
    "labels": {"type": "dict", "default": {}},
    "name": {"type": "str", "required": True},
    "namespace": {"type": "str", "default": "argocd"},
    "namespace_resources_denied": {"type": "list", "elements": "dict", "default": [], "options": KIND_SPEC},
    "source_repos": {"type": "list", "elements": "str", "default": []},
    "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
}


def build(item: dict) -> dict:
    metadata, where = checked_metadata(item, "AppProject")
    if item["state"] == "absent":
        return {"apiVersion": API_VERSION, "kind": "AppProject", "metadata": metadata}
    if not item["source_repos"]:
        raise ArgoCDError(f"{where}: source_repos must list at least one repository URL (or '*')")
    for url in item["source_repos"]:
        if url != "*" and "*" not in url:
            check_repo_url(url, "source_repos entry", where)
    if not item["destinations"]:
        raise ArgoCDError(f"{where}: destinations must list at least one namespace")
    for dest in item["destinations"]:
        if dest["namespace"] != "*" and "*" not in dest["namespace"]:
            check_namespace(dest["namespace"], "destinations namespace", where)
    if item["labels"]:
        metadata["labels"] = {str(k): str(v) for k, v in item["labels"].items()}
    spec: dict = {
        "sourceRepos": list(item["source_repos"]),
        "destinations": [{"server": d["server"], "namespace": d["namespace"]} for d in item["destinations"]],
        # Listing nothing denies every cluster-scoped kind: say so explicitly.
        "clusterResourceWhitelist": [
            {"group": k["group"], "kind": k["kind"]} for k in item["cluster_resources"]
        ],
    }
    if item["description"]:
        spec["description"] = item["description"]
    if item["namespace_resources_denied"]:
        spec["namespaceResourceBlacklist"] = [
            {"group": k["group"], "kind": k["kind"]} for k in item["namespace_resources_denied"]
        ]
    return {"apiVersion": API_VERSION, "kind": "AppProject", "metadata": metadata, "spec": spec}


def run(params: dict, check_mode: bool) -> dict:
    return run_objects(
        params,
        check_mode,
        PROJECT_SPEC,
        "projects",
        build,
        what="AppProjects",
        result_key="projects",
        error=ArgoCDError,
    )


ARGUMENT_SPEC = top_level_spec(PROJECT_SPEC, "projects")
MODULE_RULES = {
    "required_one_of": [("name", "projects")],
    "mutually_exclusive": [("name", "projects")],
    "supports_check_mode": True,
}
