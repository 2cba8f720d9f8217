# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""Poll until a condition holds, with a timeout whose error says what was last seen."""

from __future__ import annotations

import time
from collections.abc import Callable

from ansible_collections.mlops.platform.plugins.module_utils.kube.errors import KubeError


class WaitTimeout(KubeError):
    """The condition did not hold before the timeout. `last` is the last object seen."""

    def __init__(self, message: str, last=None):
        super().__init__(message)
        self.last = last


def wait_for(fetch: Callable[[], dict | None], check: Callable[[dict | None], bool], *,
             timeout: float, interval: float = 1.0, what: str = "the condition",
             describe: Callable[[dict | None], str] | None = None,
             clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
    """Call `fetch` until `check(obj)` is true; return that object.

    `check` may raise a KubeError to stop early (e.g. Degraded). On timeout, raises
    WaitTimeout with `describe(last)` so the operator sees what was not ready.
    """
    deadline = clock() + timeout
    while True:
        obj = fetch()
        if check(obj):
            return obj
        if clock() >= deadline:
            detail = describe(obj) if describe else ""
            suffix = f": {detail}" if detail else ""
            raise WaitTimeout(f"timed out after {timeout:g}s waiting for {what}{suffix}", last=obj)
        sleep(min(interval, max(0.0, deadline - clock())))


def wait_deleted(client, obj: dict, *, timeout: float, interval: float = 1.0) -> None:
    """Wait until `obj` is gone (404). Without controllers, finalizers keep objects: say so."""
    from ansible_collections.mlops.platform.plugins.module_utils.kube.client import ref_of

    path = client.path_of(obj)
    ref = ref_of(obj)

    def describe(last):
        finalizers = ((last or {}).get("metadata") or {}).get("finalizers") or []
        return f"{ref} still exists" + (f" with finalizers {finalizers} (their controller must remove them)"
                                        if finalizers else "")

    wait_for(lambda: client.request("GET", path, action="reading", ref=ref, allow=(404,)),
             lambda o: o is None, timeout=timeout, interval=interval, what=f"{ref} to be deleted",
             describe=describe)


def established(crd: dict | None) -> bool:
    """A CRD whose kinds the API server serves (condition Established)."""
    conditions = ((crd or {}).get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions)


def wait_established(client, crds: list[dict], *, timeout: float, interval: float = 0.2) -> None:
    """Wait until every CRD of `crds` is Established, so objects of its kinds can follow."""
    from ansible_collections.mlops.platform.plugins.module_utils.kube.client import ref_of

    for crd in crds:
        path, ref = client.path_of(crd), ref_of(crd)
        wait_for(
            lambda p=path, r=ref: client.request("GET", p, action="reading", ref=r),
            established,
            timeout=timeout,
            interval=interval,
            what=f"{ref} to be Established",
        )
