"""One lock per cluster: a Lease that `up`, `promote`, `rollback` and `destroy` hold while they run.

The Lease (kube-system/mlops-platform-lock) names its holder (user@host, pid, command)
and is renewed while the run lasts; a second run finds it held and stops with exit
code 3, saying who holds it and since when. A holder that died stops renewing, and its
Lease may be taken over once it has expired; at once when the holder ran on this host
and its process is gone (`holder_is_gone`).
"""

from __future__ import annotations

import datetime
import getpass
import os
import re
import socket
import threading
from collections.abc import Callable
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


_HOLDER = re.compile(r"^\S+@(?P<host>[^@\s]+) pid (?P<pid>\d+): ")  # user@host: the last @
#: The holder's PID namespace: processes of another one (a container that shares the
#: host's name) cannot be seen from here, so their holder is never judged gone.
PID_NAMESPACE_ANNOTATION = "mlops.platform/pid-namespace"
#: What runs a locked operation: mlopsctl, or a Python program using the API.
_HOLDER_COMMANDS = ("mlopsctl", "mlops_platform", "ansible", "python")
#: The command of a process that exists but cannot be read (another user's): alive.
UNREADABLE = "?"


def holder_is_gone(
    identity: str | None,
    *,
    recorded_namespace: str | None,
    host: str,
    pid_namespace: str | None,
    command_of: Callable[[int], str | None],
) -> bool:
    """Whether the Lease's holder is a process of this host that no longer runs.

    Only a holder on this host (its identity names this hostname, and the Lease records
    this PID namespace or none) can be checked; any other counts as alive. It is gone
    when no process has its pid (`command_of` gives None: none, or only its zombie), or
    when the process with that pid is not mlopsctl, Ansible or Python (the pid was reused).
    """
    match = _HOLDER.match(identity or "")
    if match is None or match["host"] != host:
        return False
    if recorded_namespace is not None and recorded_namespace != pid_namespace:
        return False
    command = command_of(int(match["pid"]))
    if command is None:
        return True
    if command == UNREADABLE:
        return False
    return not any(word in command.lower() for word in _HOLDER_COMMANDS)


def _pid_namespace() -> str | None:
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return None


def _command_of(pid: int) -> str | None:
    """The command line of process `pid` on this host; None when there is none (or a zombie)."""
    if pid <= 0:
        return UNREADABLE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except (PermissionError, OverflowError):  # another user's process; a pid no system has
        return UNREADABLE
    proc = Path("/proc") / str(pid)
    try:
        if (proc / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return None
        return (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except FileNotFoundError:
        return None if proc.parent.is_dir() else UNREADABLE  # gone meanwhile, or no /proc here
    except (OSError, IndexError):
        return UNREADABLE


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
        self._owner: threading.Thread | None = None
        self._api = None

    # -- API ---------------------------------------------------------------------------
    def _leases(self):
        if self._api is None:
            from kubernetes import client, config

            api_client = config.new_client_from_config(config_file=str(self.kubeconfig))
            self._api = client.CoordinationV1Api(api_client)
        return self._api

    def _body(self, acquired: datetime.datetime, resource_version: str | None = None) -> dict:
        annotations = {"mlops.platform/operation": self.operation}
        namespace = _pid_namespace()
        if namespace:
            annotations[PID_NAMESPACE_ANNOTATION] = namespace
        meta: dict = {
            "name": NAME,
            "namespace": NAMESPACE,
            "labels": {"app.kubernetes.io/managed-by": "mlops-platform"},
            "annotations": annotations,
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
            self._take_over_if_abandoned()
        self._owner = threading.current_thread()
        self._thread = threading.Thread(target=self._renew, name="mlops-lock-renew", daemon=True)
        self._thread.start()

    def _take_over_if_abandoned(self) -> None:
        from kubernetes.client.exceptions import ApiException

        api = self._leases()
        lease = api.read_namespaced_lease(NAME, NAMESPACE)
        spec = lease.spec
        now = _now()
        renewed = spec.renew_time or spec.acquire_time or now
        acquired = spec.acquire_time or renewed
        duration = spec.lease_duration_seconds or self.duration
        gone = holder_is_gone(
            spec.holder_identity,
            recorded_namespace=(lease.metadata.annotations or {}).get(PID_NAMESPACE_ANNOTATION),
            host=socket.gethostname(),
            pid_namespace=_pid_namespace(),
            command_of=_command_of,
        )
        if spec.holder_identity and not gone and (now - renewed).total_seconds() <= duration:
            age = int((now - acquired).total_seconds())
            raise MlopsError(
                f"the cluster is busy: {spec.holder_identity} holds its lock (Lease {NAMESPACE}/{NAME}) "
                f"since {age}s ago (renewed {int((now - renewed).total_seconds())}s ago). "
                "Wait until that run "
                f"ends; if it died, the lock expires {duration}s after its last renewal",
                exit_code=EXIT_BUSY,
            )
        try:  # expired or its holder gone: take it over, unless someone else just did (resourceVersion)
            api.replace_namespaced_lease(NAME, NAMESPACE, self._body(now, lease.metadata.resource_version))
        except ApiException as e:
            if e.status == 409:
                raise MlopsError(
                    f"the cluster is busy: another run just took its lock (Lease {NAMESPACE}/{NAME})",
                    exit_code=EXIT_BUSY,
                ) from None
            raise

    def _renew(self) -> None:
        """Renew until released, until the Lease names another holder, or until the thread that took
        the lock has ended without releasing it (the holder is gone: the Lease then expires)."""
        while not self._stop.wait(self.renew_every):
            if self._owner is not None and not self._owner.is_alive():
                return
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
