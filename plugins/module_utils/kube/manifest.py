# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""Apply a release manifest (ArgoCD's, Argo Workflows' install.yaml): many objects, one client.

The manifest is read with the C YAML loader, CRDs go first and are waited on until
Established inside the same call, then every other object is server-side applied
with change detection on the fields the manifest sets (kube.service.apply), so a
hand edit of any object it installs shows as a change with a diff, also in check
mode (the API server's dry run). Secret values never appear: diffs and results
carry key names only, and results carry no objects.
"""

from __future__ import annotations

import copy

from ansible_collections.mlops.platform.plugins.module_utils.errors import InputError
from ansible_collections.mlops.platform.plugins.module_utils.kube.args import kube_argspec
from ansible_collections.mlops.platform.plugins.module_utils.kube.client import KubeClient, ref_of
from ansible_collections.mlops.platform.plugins.module_utils.kube.secrets import secret_redactor
from ansible_collections.mlops.platform.plugins.module_utils.kube.service import Result, apply
from ansible_collections.mlops.platform.plugins.module_utils.kube.waiter import wait_established

CRD = ("apiextensions.k8s.io/v1", "CustomResourceDefinition")
MANIFEST_SPEC = {
    "src": {"type": "list", "elements": "str", "required": True},
    "namespace": {"type": "str"},
    "create_namespace": {"type": "bool", "default": True},
    "field_manager": {"type": "str", "default": "mlops-platform-install"},
    "wait_timeout": {"type": "float", "default": 300.0},
}


class ManifestError(InputError):
    """A manifest that cannot be read or does not describe objects."""


def load(sources: list[str], fetch=None) -> list[dict]:
    """Every object of the manifests (files or http(s) URLs), in order, with the C loader."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    objects: list[dict] = []
    for src in sources:
        if src.startswith(("http://", "https://")):
            if fetch is None:
                raise ManifestError(f"src {src!r}: downloading needs the module's fetch_url")
            text = fetch(src)
        else:
            try:
                with open(src, encoding="utf-8") as f:
                    text = f.read()
            except OSError as e:
                raise ManifestError(
                    f"src {src!r} cannot be read: {e.strerror}; give an existing file or an http(s) URL"
                ) from e
        try:
            docs = list(yaml.load_all(text, Loader=loader))
        except yaml.YAMLError as e:
            raise ManifestError(f"src {src!r} is not valid YAML: {str(e).splitlines()[0]}") from e
        for index, doc in enumerate(docs):
            if doc is None:
                continue
            items = (
                doc.get("items") if isinstance(doc, dict) and doc.get("kind", "").endswith("List") else [doc]
            )
            for obj in items or []:
                if (
                    not isinstance(obj, dict)
                    or not obj.get("apiVersion")
                    or not obj.get("kind")
                    or not (obj.get("metadata") or {}).get("name")
                ):
                    raise ManifestError(
                        f"src {src!r} document {index}: not a Kubernetes object "
                        "(needs apiVersion, kind and metadata.name)"
                    )
                objects.append(obj)
    if not objects:
        raise ManifestError(f"src {', '.join(sources)}: no objects in the manifest")
    return objects


def _with_namespace(client: KubeClient, obj: dict, namespace: str | None) -> dict:
    res = client.resource(obj["apiVersion"], obj["kind"])
    meta = obj.get("metadata") or {}
    if res.namespaced and not meta.get("namespace"):
        if not namespace:
            raise ManifestError(f"{ref_of(obj)} is namespaced and has no namespace: set the namespace option")
        obj = copy.deepcopy(obj)
        obj["metadata"]["namespace"] = namespace
    return obj


def apply_release(client: KubeClient, params: dict, *, check_mode: bool, fetch=None) -> dict:
    """Apply the manifests; returns changed, per-object results (no objects) and diffs."""
    if params["wait_timeout"] <= 0:
        raise ManifestError(f"wait_timeout {params['wait_timeout']} must be a positive number of seconds")
    objects = load(params["src"], fetch)
    redact = secret_redactor()
    manager = params["field_manager"]
    results: list[Result] = []
    namespace = params.get("namespace")
    if namespace and params["create_namespace"]:
        results += apply(
            client,
            [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}],
            check_mode=check_mode,
            manager=manager,
        )
    crds = [o for o in objects if (o["apiVersion"], o["kind"]) == CRD]
    others = [o for o in objects if (o["apiVersion"], o["kind"]) != CRD]
    results += apply(client, crds, check_mode=check_mode, manager=manager)
    if crds and not check_mode:
        wait_established(client, crds, timeout=params["wait_timeout"])
    # In check mode a CRD the manifest would create is not served yet: its objects are
    # reported as to be created without a dry run.
    pending_kinds = {
        (f"{c['spec']['group']}/{v['name']}", c["spec"]["names"]["kind"])
        for c, r in zip(crds, results[-len(crds) :] if crds else [], strict=True)
        if check_mode and r.action == "created"
        for v in c["spec"].get("versions", [])
    }
    for obj in others:
        if (obj["apiVersion"], obj["kind"]) in pending_kinds:
            results.append(Result(ref_of(obj), "created", True, None, {"before": {}, "after": obj}))
            continue
        results += apply(
            client,
            [_with_namespace(client, obj, namespace)],
            check_mode=check_mode,
            manager=manager,
            redact=redact if obj["kind"] == "Secret" else None,
        )
    counts: dict[str, int] = {}
    for r in results:
        counts[r.action] = counts.get(r.action, 0) + 1
    return {
        "changed": any(r.changed for r in results),
        "objects": [{"ref": r.ref, "action": r.action, "changed": r.changed} for r in results],
        "counts": counts,
        "diff": [dict(r.diff, before_header=r.ref, after_header=r.ref) for r in results if r.diff],
        "api_requests": client.requests,
    }


ARGUMENT_SPEC = kube_argspec(**MANIFEST_SPEC)
MODULE_RULES = {"supports_check_mode": True}


def download(params: dict):
    """fetch(url) -> text over HTTPS, with the module's TLS check and request timeout."""
    from ansible.module_utils.urls import open_url

    verify = params["validate_certs"] is not False  # the API server's setting must not weaken this

    def fetch(url: str) -> str:
        try:
            with open_url(url, validate_certs=verify, timeout=params["request_timeout"]) as response:
                return response.read().decode()
        except Exception as e:  # noqa: BLE001 - HTTP, TLS and connection errors alike: one clear line
            raise ManifestError(f"src {url!r} could not be downloaded: {e}") from e

    return fetch


def run(params: dict, check_mode: bool) -> dict:
    """The release_manifest module's run: one client, every manifest applied."""
    client = KubeClient.from_params(params)
    return apply_release(client, params, check_mode=check_mode, fetch=download(params))
