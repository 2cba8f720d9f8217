"""One lock per cluster: a Lease that `up`, `promote`, `rollback` and `destroy` hold while they run.

The Lease (kube-system/mlops-platform-lock) names its holder (user@host, pid, command)
and is renewed while the run lasts; a second run finds it held and stops with exit
code 3, saying who holds it and since when. A holder that died stops renewing, and its
Lease may be taken over once it has expired.
"""

from __future__ import annotations

import datetime
import getpass
import os
import socket
import threading
from pathlib import Path

from .errors import EXIT_BUSY, EXIT_RUN_FAILED, MlopsError

NAMESPACE = "kube-system"
NAME = "mlops-platform-lock"
DURATION = 60  # seconds without renewal after which a Lease counts as abandoned
RENEW_EVERY = 15


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _stamp(when: datetime.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def holder_identity(operation: str) -> str:
    return f"{getpass.getuser()}@{socket.gethostname()} pid {os.getpid()}: mlopsctl {operation}"


class ClusterLock:
    """Context manager: acquire the cluster's Lease, renew it in the background, release it."""

    def __init__(
        self,
        kubeconfig: Path,
        operation: str,
        *,
        duration: int = DURATION,
        renew_every: float = RENEW_EVERY,
        holder: str | None = None,
    ):
        self.kubeconfig = kubeconfig
        self.operation = operation
        self.holder = holder or holder_identity(operation)
        self.duration = duration
        self.renew_every = renew_every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._api = None

    # -- API ---------------------------------------------------------------------------
    def _leases(self):
        if self._api is None:
            from kubernetes import client, config

            api_client = config.new_client_from_config(config_file=str(self.kubeconfig))
            self._api = client.CoordinationV1Api(api_client)
        return self._api

    def _body(self, acquired: datetime.datetime, resource_version: str | None = None) -> dict:
        meta: dict = {
            "name": NAME,
            "namespace": NAMESPACE,
            "labels": {"app.kubernetes.io/managed-by": "mlops-platform"},
            "annotations": {"mlops.platform/operation": self.operation},
        }
        if resource_version:
            meta["resourceVersion"] = resource_version
        return {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": meta,
            "spec": {
                "holderIdentity": self.holder,
                "leaseDurationSeconds": self.duration,
                "acquireTime": _stamp(acquired),
                "renewTime": _stamp(_now()),
            },
        }

    def acquire(self) -> None:
        from kubernetes.client.exceptions import ApiException

        api = self._leases()
        try:
            api.create_namespaced_lease(NAMESPACE, self._body(_now()))
        except ApiException as e:
            if e.status != 409:
                raise MlopsError(
                    f"cannot take the cluster lock (Lease {NAMESPACE}/{NAME}): {e.status} {e.reason}",
                    exit_code=EXIT_RUN_FAILED,
                ) from None
            self._take_over_if_expired()
        self._thread = threading.Thread(target=self._renew, name="mlops-lock-renew", daemon=True)
        self._thread.start()

    def _take_over_if_expired(self) -> None:
        from kubernetes.client.exceptions import ApiException

        api = self._leases()
        lease = api.read_namespaced_lease(NAME, NAMESPACE)
        spec = lease.spec
        now = _now()
        renewed = spec.renew_time or spec.acquire_time or now
        acquired = spec.acquire_time or renewed
        duration = spec.lease_duration_seconds or self.duration
        if spec.holder_identity and (now - renewed).total_seconds() <= duration:
            age = int((now - acquired).total_seconds())
            raise MlopsError(
                f"the cluster is busy: {spec.holder_identity} holds its lock (Lease {NAMESPACE}/{NAME}) "
                f"since {age}s ago (renewed {int((now - renewed).total_seconds())}s ago). "
                "Wait until that run "
                f"ends; if it died, the lock expires {duration}s after its last renewal",
                exit_code=EXIT_BUSY,
            )
        try:  # abandoned: take it over, unless someone else just did (resourceVersion)
            api.replace_namespaced_lease(NAME, NAMESPACE, self._body(now, lease.metadata.resource_version))
        except ApiException as e:
            if e.status == 409:
                raise MlopsError(
                    f"the cluster is busy: another run just took its lock (Lease {NAMESPACE}/{NAME})",
                    exit_code=EXIT_BUSY,
                ) from None
            raise

    def _renew(self) -> None:
        while not self._stop.wait(self.renew_every):
            try:
                api = self._leases()
                lease = api.read_namespaced_lease(NAME, NAMESPACE)
                if lease.spec.holder_identity != self.holder:
                    return
                api.patch_namespaced_lease(NAME, NAMESPACE, {"spec": {"renewTime": _stamp(_now())}})
            except Exception:  # noqa: BLE001 - a missed renewal is retried; the run itself reports API errors
                continue

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        try:
            from kubernetes.client import V1DeleteOptions, V1Preconditions

            api = self._leases()
            lease = api.read_namespaced_lease(NAME, NAMESPACE)
            if lease.spec.holder_identity == self.holder:
                api.delete_namespaced_lease(
                    NAME,
                    NAMESPACE,
                    body=V1DeleteOptions(
                        preconditions=V1Preconditions(resource_version=lease.metadata.resource_version)
                    ),
                )
        except Exception:  # noqa: BLE001 - e.g. destroy removed the cluster; the Lease then expires
            pass

    def __enter__(self) -> ClusterLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def cluster_lock(kubeconfig: Path | None, operation: str) -> ClusterLock | None:
    """The lock for a run on this cluster, or None when there is no cluster yet (no kubeconfig)
    or it does not answer (the run itself then reports why)."""
    if kubeconfig is None or not kubeconfig.is_file():
        return None
    lock = ClusterLock(kubeconfig, operation)
    try:
        lock.acquire()
    except MlopsError:
        raise
    except Exception:  # noqa: BLE001 - unreachable or unusable kubeconfig: nothing to lock
        return None
    return lock
