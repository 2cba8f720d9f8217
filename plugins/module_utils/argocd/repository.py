# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""argocd_repository: a repository or credential-template Secret labelled as ArgoCD expects."""

from __future__ import annotations

import base64

from ansible_collections.mlops.platform.plugins.module_utils.argocd.common import (
    ArgoCDError,
    check_repo_url,
    checked_metadata,
)
from ansible_collections.mlops.platform.plugins.module_utils.kube.items import run_objects, top_level_spec

SECRET_TYPE_LABEL = "argocd.argoproj.io/secret-type"

REPOSITORY_SPEC = {
    "enable_oci": {"type": "bool", "default": False},
    "insecure": {"type": "bool", "default": False},
    "kind": {"type": "str", "default": "repository", "choices": ["repository", "credential_template"]},
    "name": {"type": "str", "required": True},
    "namespace": {"type": "str", "default": "argocd"},
    "password": {"type": "str", "no_log": True},
    "project": {"type": "str"},
    "repo_name": {"type": "str"},
    "ssh_private_key": {"type": "str", "no_log": True},
    "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
    "type": {"type": "str", "default": "git", "choices": ["git", "helm"]},
    "url": {"type": "str"},
    "username": {"type": "str"},
}


def build(item: dict) -> dict:
    metadata, where = checked_metadata(item, "repository Secret")
    if item["state"] == "absent":
        return {"apiVersion": "v1", "kind": "Secret", "metadata": metadata}
    if not item.get("url"):
        raise ArgoCDError(f"{where}: url is required (the repository URL or URL prefix)")
    check_repo_url(item["url"], "url", where)
    if item.get("password") and item.get("ssh_private_key"):
        raise ArgoCDError(f"{where}: set password (HTTPS token) or ssh_private_key, not both")
    if item.get("ssh_private_key") and item["url"].startswith(("https://", "http://")):
        raise ArgoCDError(
            f"{where}: ssh_private_key needs an SSH URL (ssh:// or git@host:path), got {item['url']!r}"
        )
    if item.get("password") and not item["url"].startswith(("https://", "http://", "oci://")):
        raise ArgoCDError(f"{where}: an HTTPS token (password) needs an https:// URL, got {item['url']!r}")
    if item.get("ssh_private_key") and "PRIVATE KEY" not in item["ssh_private_key"]:
        raise ArgoCDError(f"{where}: ssh_private_key does not look like a PEM/OpenSSH private key")
    data = {"url": item["url"], "type": item["type"]}
    if item.get("repo_name"):
        data["name"] = item["repo_name"]
    if item.get("project"):
        data["project"] = item["project"]
    if item.get("username"):
        data["username"] = item["username"]
    if item.get("password"):
        data["password"] = item["password"]
        data.setdefault("username", "git")
    if item.get("ssh_private_key"):
        key = item["ssh_private_key"]
        data["sshPrivateKey"] = key if key.endswith("\n") else key + "\n"
    if item["insecure"]:
        data["insecure"] = "true"
    if item["enable_oci"]:
        data["enableOCI"] = "true"
    label = "repository" if item["kind"] == "repository" else "repo-creds"
    metadata["labels"] = {SECRET_TYPE_LABEL: label}
    metadata["annotations"] = {"managed-by": "mlops-platform"}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": metadata,
        # data (base64), not stringData: what the API returns compares to what we send.
        "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
    }


def run(params: dict, check_mode: bool) -> dict:
    from ansible_collections.mlops.platform.plugins.module_utils.kube import secret_redactor

    out = run_objects(
        params,
        check_mode,
        REPOSITORY_SPEC,
        "repositories",
        build,
        what="repository Secrets",
        result_key="repositories",
        error=ArgoCDError,
        redact=secret_redactor(),
    )
    for entry in out["repositories"]:
        obj = entry.pop("object", None) or {}
        # Which keys the Secret has, never their values.
        entry["keys"] = sorted(obj.get("data") or {})
    return out


ARGUMENT_SPEC = top_level_spec(REPOSITORY_SPEC, "repositories", with_suboptions=True)
MODULE_RULES = {
    "required_one_of": [("name", "repositories")],
    "mutually_exclusive": [("name", "repositories"), ("password", "ssh_private_key")],
    "supports_check_mode": True,
}
