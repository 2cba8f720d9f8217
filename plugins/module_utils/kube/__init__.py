# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""Shared Kubernetes code for the collection's modules (stable public API).

Usage from a module (options: the shared argspec, documented by the doc fragment
``mlops.platform.kube``)::

    from ansible_collections.mlops.platform.plugins.module_utils.kube import (
        KubeClient, KubeError, apply, delete, get, kube_argspec, merge_patch, wait_for)

    spec = kube_argspec(name={"type": "str", "required": True}, ...)   # + connection options
    client = KubeClient.from_params(module.params)      # once per module run
    results = apply(client, [obj1, obj2], check_mode=module.check_mode)  # server-side apply
    #   optional: force=True (take ownership on conflicts), manager="mlops-platform" (field
    #   manager), redact=secret_redactor() (hide Secret values in .object/.diff)
    # each Result: .ref ("Kind ns/name"), .action (created|updated|unchanged|deleted|absent),
    #              .changed, .object (the object after; redacted if redact= given), .diff
    #              ({'before', 'after'}: managed fields only; {} when unchanged)
    obj = get(client, "argoproj.io/v1alpha1", "Application", "minio", "argocd")  # None if absent
    delete(client, [obj_stub], check_mode=module.check_mode)   # -> list[Result]
    merge_patch(client, obj_stub, {"metadata": {"annotations": {...}}})  # manager=, dry_run=
    create(client, obj)          # POST (generateName allowed); replace(client, obj): PUT
    wait_established(client, crds, timeout=60)   # CRDs served before their objects
    wait_for(fetch, check, timeout=300, what="...", describe=...)   # WaitTimeout(KubeError)

- Field manager ``mlops-platform`` (FIELD_MANAGER); apply forces ownership by default.
- Change detection compares only the fields the object sets plus the fields this
  manager owned before (from managedFields): status and server defaults never count.
  One GET per object; a PATCH only when something we manage differs.
- check_mode uses the API server's dry run (dryRun=All): the server validates.
- Errors: every API failure raises KubeError(PlatformError) with a message naming the
  object, what happened (401/403/404/409/422/unreachable) and what to check;
  `.status` and `.reason` carry the HTTP status and the Kubernetes reason.
- `client.requests` counts HTTP requests; kinds in resources.KNOWN need no discovery.
- `secret_redactor()` (in .secrets) hides Secret values in diffs/results, showing
  only which keys exist and whether they change.
"""

from __future__ import annotations

from ansible_collections.mlops.platform.plugins.module_utils.kube.args import (
    CONNECTION_KEYS,
    KUBE_ARGSPEC,
    kube_argspec,
)
from ansible_collections.mlops.platform.plugins.module_utils.kube.client import (
    FIELD_MANAGER,
    KubeClient,
    ref_of,
)
from ansible_collections.mlops.platform.plugins.module_utils.kube.errors import KubeError
from ansible_collections.mlops.platform.plugins.module_utils.kube.secrets import secret_redactor
from ansible_collections.mlops.platform.plugins.module_utils.kube.service import (
    Result,
    apply,
    create,
    delete,
    get,
    merge_patch,
    replace,
)
from ansible_collections.mlops.platform.plugins.module_utils.kube.waiter import (
    WaitTimeout,
    wait_deleted,
    wait_established,
    wait_for,
)

__all__ = [
    "CONNECTION_KEYS", "FIELD_MANAGER", "KUBE_ARGSPEC", "KubeClient", "KubeError", "Result",
    "WaitTimeout", "apply", "create", "delete", "get", "kube_argspec", "merge_patch", "ref_of", "replace",
    "secret_redactor", "wait_deleted", "wait_established", "wait_for",
]
