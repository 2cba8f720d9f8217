# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""Find / apply / delete objects: server-side apply, managed-field change detection."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field

from ansible_collections.mlops.platform.plugins.module_utils.kube.client import (
    FIELD_MANAGER,
    KubeClient,
    ref_of,
)
from ansible_collections.mlops.platform.plugins.module_utils.kube.errors import KubeError

LEAF = None  # a tree node meaning "compare this value as a whole"
_VOLATILE_METADATA = ("managedFields", "resourceVersion", "uid", "creationTimestamp", "generation",
                      "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds")


@dataclass
class Result:
    """What happened to one object. `diff` is {'before': ..., 'after': ...} (managed fields only)."""

    ref: str
    action: str  # created | updated | unchanged | deleted | absent
    changed: bool
    object: dict | None = None
    diff: dict = field(default_factory=dict)


# -- field trees -----------------------------------------------------------------

def desired_tree(obj):
    """The tree of field paths an object sets: dicts recurse, anything else is a leaf."""
    if isinstance(obj, dict) and obj:
        return {k: desired_tree(v) for k, v in obj.items()}
    return LEAF


def managed_tree(fields_v1):
    """The tree of a manager's fieldsV1 (f:name keys); list items (k:/v:/i:) make a leaf."""
    if not isinstance(fields_v1, dict) or not fields_v1:
        return LEAF
    tree = {}
    for key, sub in fields_v1.items():
        if key == ".":
            continue
        if not key.startswith("f:"):
            return LEAF
        tree[key[2:]] = managed_tree(sub)
    return tree or LEAF


def merge_trees(a, b):
    """The union of two trees; where either compares a value whole, so does the union."""
    if a is LEAF or b is LEAF:
        return LEAF
    merged = dict(a)
    for k, v in b.items():
        merged[k] = merge_trees(merged[k], v) if k in merged else v
    return merged


def prune(obj, tree):
    """Only the parts of `obj` named by `tree` (status and server defaults drop out)."""
    if tree is LEAF or not isinstance(obj, dict):
        return obj
    out = {}
    for k, sub in tree.items():
        if k in obj:
            if k == "metadata" and isinstance(sub, dict):
                sub = {mk: mv for mk, mv in sub.items() if mk not in _VOLATILE_METADATA}
            out[k] = prune(obj[k], sub)
    return out


def our_managed_fields(obj: dict | None, manager: str = FIELD_MANAGER):
    """The union of the field trees `manager` owns in `obj` through apply."""
    tree: dict = {}
    for entry in ((obj or {}).get("metadata") or {}).get("managedFields") or []:
        if entry.get("manager") == manager and entry.get("operation") == "Apply":
            sub = managed_tree(entry.get("fieldsV1") or {})
            if isinstance(sub, dict):
                tree = merge_trees(tree, sub) if tree else sub
    return tree


def compare_view(obj: dict | None, tree) -> dict:
    """`obj` restricted to `tree`, without the volatile metadata: what we compare and diff."""
    if obj is None:
        return {}
    return prune(obj, tree) if tree else {}


# -- operations ------------------------------------------------------------------

def get(client: KubeClient, api_version: str, kind: str, name: str,
        namespace: str | None = None) -> dict | None:
    """The object, or None when it does not exist."""
    stub = {"apiVersion": api_version, "kind": kind, "metadata": {"name": name, "namespace": namespace}}
    return client.request("GET", client.path_of(stub), action="reading", ref=ref_of(stub), allow=(404,))


def apply(client: KubeClient, objects: list[dict], *, check_mode: bool = False, force: bool = True,
          redact: Callable[[dict | None, dict | None], tuple] | None = None,
          manager: str = FIELD_MANAGER) -> list[Result]:
    """Server-side apply every object in order; a PATCH only when a field we manage differs.

    The objects are read first by `read_current` (one LIST per collection that holds
    several of them, else one GET), so an idempotent run costs less than one request
    per object. check_mode sends the PATCH with dryRun=All, so the API server validates
    (schema, admission) without storing. `redact(before, after)` returns the pair to
    show in diffs and results (generated_secret and argocd_repository hide Secret values).
    """
    for obj in objects:
        _check_object(obj)
    currents = read_current(client, objects)
    return [_apply_one(client, obj, current, check_mode=check_mode, force=force, redact=redact,
                       manager=manager)
            for obj, current in zip(objects, currents, strict=True)]


def _check_object(desired) -> None:
    if not isinstance(desired, dict) or not desired.get("apiVersion") or not desired.get("kind") \
            or not (desired.get("metadata") or {}).get("name"):
        raise KubeError(f"cannot apply {ref_of(desired if isinstance(desired, dict) else {})}: "
                        "an object needs apiVersion, kind and metadata.name")


LIST_PAGE = 500  # objects per LIST page


def read_current(client: KubeClient, objects: list[dict]) -> list[dict | None]:
    """Each object as the cluster has it (None when absent), in order.

    Objects of one collection (kind + namespace) that holds two or more of them are read
    with one paged LIST (its items get back the apiVersion and kind a LIST leaves out);
    a lone object with one GET. A collection whose namespace does not exist yet lists as
    empty.
    """
    groups: dict[str, list[int]] = {}
    for index, obj in enumerate(objects):
        groups.setdefault(client.path_of(obj, with_name=False), []).append(index)
    currents: list[dict | None] = [None] * len(objects)
    for collection, indexes in groups.items():
        if len(indexes) == 1:
            obj = objects[indexes[0]]
            currents[indexes[0]] = client.request("GET", client.path_of(obj), action="reading",
                                                  ref=ref_of(obj), allow=(404,))
            continue
        first = objects[indexes[0]]
        found = _list_all(client, collection, first["apiVersion"], first["kind"])
        for index in indexes:
            currents[index] = found.get(objects[index]["metadata"]["name"])
    return currents


def _list_all(client: KubeClient, collection: str, api_version: str, kind: str) -> dict[str, dict]:
    found: dict[str, dict] = {}
    query = {"limit": LIST_PAGE}
    while True:
        page = client.request("GET", collection, query=query, action="listing",
                              ref=f"{kind} list {collection}", allow=(404,))
        if page is None:  # the namespace (or a CRD's kind) is not there yet
            return found
        for item in page.get("items") or []:
            found[item["metadata"]["name"]] = {"apiVersion": api_version, "kind": kind, **item}
        token = (page.get("metadata") or {}).get("continue")
        if not token:
            return found
        query = {"limit": LIST_PAGE, "continue": token}


def _apply_one(client, desired, current, *, check_mode, force, redact, manager) -> Result:
    ref = ref_of(desired)
    path = client.path_of(desired)
    tree = desired_tree(desired)
    if current is not None:
        tree = merge_trees(tree, our_managed_fields(current, manager) or tree)
        same = compare_view(current, tree) == compare_view(desired, tree)
        if same and not _we_lost_fields(current, desired, manager):
            return _result(ref, "unchanged", False, current, current, current, tree, redact)
    query = {"fieldManager": manager, "force": "true" if force else "false"}
    if check_mode:
        query["dryRun"] = "All"
    try:
        after = client.request("PATCH", path, body=desired, query=query,
                               content_type="application/apply-patch+yaml",
                               action="applying (dry run)" if check_mode else "applying", ref=ref)
    except KubeError as e:
        # In check mode the namespace may be one this same run would create first.
        if check_mode and e.status == 404 and "namespaces" in str(e):
            after = copy.deepcopy(desired)
        else:
            raise
    if current is None:
        return _result(ref, "created", True, None, after, after, tree, redact)
    changed = compare_view(current, tree) != compare_view(after, tree)
    return _result(ref, "updated" if changed else "unchanged", changed, current, after, after, tree, redact)


def _we_lost_fields(current, desired, manager) -> bool:
    """True when we manage fields the desired object no longer sets (apply removes them)."""
    ours = our_managed_fields(current, manager)
    return bool(ours) and _has_extra(ours, desired_tree(desired))


def _has_extra(ours, wanted) -> bool:
    if ours is LEAF or wanted is LEAF:
        return False
    return any(k not in wanted or _has_extra(sub, wanted[k]) for k, sub in ours.items())


def without_managed_fields(obj: dict | None) -> dict | None:
    """A copy of `obj` without metadata.managedFields (noise in results)."""
    if not isinstance(obj, dict) or "managedFields" not in (obj.get("metadata") or {}):
        return obj
    out = dict(obj)
    out["metadata"] = {k: v for k, v in obj["metadata"].items() if k != "managedFields"}
    return out


def _result(ref, action, changed, before, after, returned, tree, redact) -> Result:
    before_view, after_view = compare_view(before, tree), compare_view(after, tree)
    returned = without_managed_fields(returned)
    if redact is not None:
        before_view, after_view = redact(before_view, after_view)
        returned = redact(None, returned)[1]
    diff = {"before": before_view, "after": after_view} if changed else {}
    return Result(ref, action, changed, returned, diff)


def delete(client: KubeClient, objects: list[dict], *, check_mode: bool = False,
           propagation: str = "Background") -> list[Result]:
    """Delete each object that exists. An object already being deleted counts as unchanged."""
    results = []
    for obj, current in zip(objects, read_current(client, objects), strict=True):
        ref = ref_of(obj)
        path = client.path_of(obj)
        if current is None:
            results.append(Result(ref, "absent", False))
            continue
        if (current.get("metadata") or {}).get("deletionTimestamp"):
            results.append(Result(ref, "deleted", False, current))
            continue
        if not check_mode:
            client.request("DELETE", path, body={"propagationPolicy": propagation},
                           action="deleting", ref=ref, allow=(404,))
        gone = {"before": {"metadata": {"name": current["metadata"]["name"]}}, "after": {}}
        results.append(Result(ref, "deleted", True, None, gone))
    return results


def merge_patch(client: KubeClient, obj: dict, patch: dict, *, action: str = "patching",
                manager: str | None = None, dry_run: bool = False) -> dict:
    """A JSON merge patch (for annotations such as ArgoCD's refresh) outside server-side apply."""
    return client.request("PATCH", client.path_of(obj), body=patch,
                          content_type="application/merge-patch+json", action=action, ref=ref_of(obj),
                          query=_write_query(manager, dry_run))


def _write_query(manager: str | None, dry_run: bool = False) -> dict | None:
    query = {"fieldManager": manager, "dryRun": "All" if dry_run else None}
    return {k: v for k, v in query.items() if v is not None} or None


def create(client: KubeClient, obj: dict, *, manager: str | None = FIELD_MANAGER, dry_run: bool = False,
           action: str = "creating") -> dict:
    """POST a new object (metadata.generateName allowed); with dry_run the API server only validates it."""
    meta = obj.get("metadata") or {}
    name = meta.get("name") or meta.get("generateName")
    ref = ref_of({**obj, "metadata": {**meta, "name": name}})
    return client.request("POST", client.path_of(obj, with_name=False), body=obj, action=action, ref=ref,
                          query=_write_query(manager, dry_run))


def replace(client: KubeClient, obj: dict, *, manager: str = FIELD_MANAGER) -> dict:
    """PUT the whole object; its metadata.resourceVersion makes a concurrent change a 409."""
    return client.request("PUT", client.path_of(obj), body=obj, action="updating", ref=ref_of(obj),
                          query=_write_query(manager))
