# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""What the ArgoCD object modules share: their error and the checks of names and repository URLs."""

from __future__ import annotations

import re

from ansible_collections.mlops.platform.plugins.module_utils.kube import items

# https://, http://, ssh://, git@host:path (scp-like), oci:// ; no spaces
REPO_URL = re.compile(
    r"^(?:(?:https?|ssh|git|oci)://[A-Za-z0-9._~%!$&'()*+,;=:@\[\]-]+(?:/[^\s]*)?"
    r"|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s]+)$"
)


class ArgoCDError(items.ItemError):
    """Invalid options for an ArgoCD object, or a wait that failed."""


def check_namespace(value: str, field: str, where: str) -> None:
    items.check_namespace(value, field, where, ArgoCDError)


def check_name(value: str, field: str, where: str) -> None:
    items.check_name(value, field, where, ArgoCDError)


def checked_metadata(item: dict, kind: str) -> tuple[dict, str]:
    """An item's name and namespace, checked, as the object's metadata; and `where` for its messages."""
    name = item["name"]
    where = f"{kind} {name}"
    check_name(name, "name", where)
    check_namespace(item["namespace"], "namespace", where)
    return {"name": name, "namespace": item["namespace"]}, where


def check_repo_url(value: str, field: str, where: str) -> None:
    if not value or not REPO_URL.match(value):
        raise ArgoCDError(
            f"{where}: {field} {value!r} is not a repository URL: use https://host/path, "
            "ssh://git@host/path, git@host:path or oci://host/path"
        )
