# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""Apply a release manifest (ArgoCD's, Argo Workflows' install.yaml): many objects, one client.

The manifest is read with the C YAML loader (objects may also be given inline), CRDs
go first and are waited on until Established inside the same call (no wait when read
back Established), then every other object is server-side applied in one batch
with change detection on the fields the manifest sets (kube.service.apply), so a
hand edit of any object it installs shows as a change with a diff, also in check
mode (the API server's dry run). Secret values never appear: diffs and results
carry key names only, and results carry no objects.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import tempfile

from ansible_collections.mlops.platform.plugins.module_utils.errors import InputError
from ansible_collections.mlops.platform.plugins.module_utils.kube.args import kube_argspec
from ansible_collections.mlops.platform.plugins.module_utils.kube.client import KubeClient, ref_of
from ansible_collections.mlops.platform.plugins.module_utils.kube.secrets import secret_redactor
from ansible_collections.mlops.platform.plugins.module_utils.kube.service import Result, apply, delete
from ansible_collections.mlops.platform.plugins.module_utils.kube.waiter import established, wait_established

CRD = ("apiextensions.k8s.io/v1", "CustomResourceDefinition")
MANIFEST_SPEC = {
    "src": {"type": "list", "elements": "str", "default": []},
    "definition": {"type": "list", "elements": "dict", "default": [], "no_log": False},
    "namespace": {"type": "str"},
    "create_namespace": {"type": "bool", "default": True},
    "field_manager": {"type": "str", "default": "mlops-platform-install"},
    "wait_timeout": {"type": "float", "default": 300.0},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
}


class ManifestError(InputError):
    """A manifest that cannot be read or does not describe objects."""


def cache_dir() -> str:
    """Where parsed manifests are kept: MLOPS_MANIFEST_CACHE, else ~/.cache/mlops-platform/manifests."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return os.environ.get("MLOPS_MANIFEST_CACHE") or os.path.join(base, "mlops-platform", "manifests")


def _parsed(text: str, src: str, loader) -> list:
    """The documents of `text`; a manifest parsed before comes from its JSON copy.

    PyYAML builds Python objects in Python even with the C parser: Argo Workflows'
    CRDs (8 MB) take seconds on every run, their JSON copy a tenth of a second. The copy
    is named by the text's SHA-256, so an edited manifest is parsed again. Documents
    JSON cannot hold (dates, binary) are not kept.
    """
    import yaml

    digest = hashlib.sha256(text.encode()).hexdigest()
    path = os.path.join(cache_dir(), f"{digest}.json")
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        pass
    try:
        docs = list(yaml.load_all(text, Loader=loader))
    except yaml.YAMLError as e:
        raise ManifestError(f"src {src!r} is not valid YAML: {str(e).splitlines()[0]}") from e
    try:
        data = json.dumps(docs)
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(data)
        os.replace(tmp, path)
    except (TypeError, ValueError, OSError):
        pass  # not JSON-shaped, or no writable cache: parse again next time
    return docs


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
        docs = _parsed(text, src, loader)
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


def _checked(definition: list) -> list[dict]:
    """The inline objects, each with apiVersion, kind and metadata.name."""
    for index, obj in enumerate(definition):
        if not obj.get("apiVersion") or not obj.get("kind") or not isinstance(obj.get("metadata"), dict) \
                or not obj["metadata"].get("name"):
            raise ManifestError(
                f"definition[{index}]: not a Kubernetes object (needs apiVersion, kind and metadata.name)"
            )
    return definition


_SECRET_REDACTOR = secret_redactor()


def _redact_secrets(before, after):
    """Secret values hidden; every other kind shown as it is."""
    kind = (after or before or {}).get("kind")
    return _SECRET_REDACTOR(before, after) if kind == "Secret" else (before, after)


def apply_release(client: KubeClient, params: dict, *, check_mode: bool, fetch=None) -> dict:
    """Apply the manifests; returns changed, per-object results (no objects) and diffs."""
    if params["wait_timeout"] <= 0:
        raise ManifestError(f"wait_timeout {params['wait_timeout']} must be a positive number of seconds")
    if not params["src"] and not params["definition"]:
        raise ManifestError("give src (manifest files or URLs), definition (objects), or both")
    objects = (load(params["src"], fetch) if params["src"] else []) + _checked(params["definition"])
    manager = params["field_manager"]
    results: list[Result] = []
    namespace = params.get("namespace")
    if params.get("state") == "absent":
        # the objects first, their CRDs last (the namespace option's namespace stays)
        crds_last = sorted(reversed(objects), key=lambda o: (o["apiVersion"], o["kind"]) == CRD)
        doomed = [_with_namespace(client, o, namespace) for o in crds_last]
        return _summary(client, delete(client, doomed, check_mode=check_mode))
    if namespace and params["create_namespace"]:
        results += apply(
            client,
            [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}],
            check_mode=check_mode,
            manager=manager,
        )
    crds = [o for o in objects if (o["apiVersion"], o["kind"]) == CRD]
    others = [o for o in objects if (o["apiVersion"], o["kind"]) != CRD]
    crd_results = apply(client, crds, check_mode=check_mode, manager=manager)
    results += crd_results
    # A CRD read back Established (every re-run) costs no wait and no request.
    pending_crds = [crd for crd, r in zip(crds, crd_results, strict=True) if not established(r.object)]
    if pending_crds and not check_mode:
        wait_established(client, pending_crds, timeout=params["wait_timeout"])
    # In check mode a CRD the manifest would create is not served yet: its objects are
    # reported as to be created without a dry run.
    pending_kinds = {
        (f"{c['spec']['group']}/{v['name']}", c["spec"]["names"]["kind"])
        for c, r in zip(crds, crd_results, strict=True)
        if check_mode and r.action == "created"
        for v in c["spec"].get("versions", [])
    }
    pending = {id(o) for o in others if (o["apiVersion"], o["kind"]) in pending_kinds}
    to_apply = [_with_namespace(client, o, namespace) for o in others if id(o) not in pending]
    applied = iter(apply(client, to_apply, check_mode=check_mode, manager=manager, redact=_redact_secrets))
    for obj in others:
        if id(obj) in pending:
            results.append(Result(ref_of(obj), "created", True, None, {"before": {}, "after": obj}))
        else:
            results.append(next(applied))
    return _summary(client, results)


def _summary(client: KubeClient, results: list[Result]) -> dict:
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
