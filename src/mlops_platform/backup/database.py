"""The PostgreSQL database's backup, by CloudNativePG itself.

CloudNativePG's instance manager runs barman-cloud inside the database pod, streaming
WAL continuously and taking base backups to the object store named in the Cluster's
backup section. A platform backup asks it for a fresh base backup (a ``Backup`` object)
and waits for it, so the backup's time matches the objects' and artifacts'.

Restore is CloudNativePG's too: a new Cluster bootstrapped from the object store
(``bootstrap.recovery``), optionally to the backup's time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ..errors import EXIT_RUN_FAILED, MlopsError

GROUP, VERSION, PLURAL = "postgresql.cnpg.io", "v1", "backups"
REQUEST_TIMEOUT = 15


@dataclass(frozen=True)
class DatabaseBackup:
    name: str
    namespace: str
    cluster: str
    backup_id: str
    started: str
    stopped: str


def cnpg_backup(
    api_client, namespace: str, cluster: str, name: str, *, timeout: float = 900, poll: float = 2.0
):
    """Create a CloudNativePG Backup of `cluster` and wait until it completes or fails."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    custom = client.CustomObjectsApi(api_client)
    body = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Backup",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/managed-by": "mlops-platform"},
        },
        "spec": {"cluster": {"name": cluster}},
    }
    ref = f"Backup {namespace}/{name} of Cluster {cluster}"
    try:
        custom.create_namespaced_custom_object(
            GROUP, VERSION, namespace, PLURAL, body, _request_timeout=REQUEST_TIMEOUT
        )
    except ApiException as e:
        if e.status == 404:
            raise MlopsError(
                f"cannot create {ref}: CloudNativePG is not installed in this cluster",
                exit_code=EXIT_RUN_FAILED,
            ) from e
        if e.status != 409:  # 409: a re-run of the same backup waits for the one already asked for
            raise MlopsError(
                f"cannot create {ref}: HTTP {e.status} {e.reason}", exit_code=EXIT_RUN_FAILED
            ) from e
    deadline = time.monotonic() + timeout
    while True:
        obj = custom.get_namespaced_custom_object(
            GROUP, VERSION, namespace, PLURAL, name, _request_timeout=REQUEST_TIMEOUT
        )
        status = obj.get("status") or {}
        phase = status.get("phase", "")
        if phase == "completed":
            return DatabaseBackup(
                name,
                namespace,
                cluster,
                status.get("backupId", ""),
                status.get("startedAt", ""),
                status.get("stoppedAt", ""),
            )
        if phase == "failed":
            raise MlopsError(
                f"{ref} failed: {status.get('error') or 'no error given'}", exit_code=EXIT_RUN_FAILED
            )
        if time.monotonic() > deadline:
            raise MlopsError(
                f"{ref} did not complete within {timeout:.0f} s (phase {phase or 'none yet'}); "
                "check the Cluster's backup section and the operator's log",
                exit_code=EXIT_RUN_FAILED,
            )
        time.sleep(poll)
