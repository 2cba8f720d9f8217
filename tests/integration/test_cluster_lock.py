"""The cluster lock on a real kube-apiserver (issue 28): the Lease of a holder killed outright on
this host is taken over at once, not after it expires; a live holder still gets exit code 3."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.controlplane

HOLD = """
import sys, time
from pathlib import Path
from mlops_platform.lock import ClusterLock
ClusterLock(Path(sys.argv[1]), "up").acquire()
print("held", flush=True)
time.sleep(600)
"""


@pytest.fixture
def leases(kubeconfig):
    from kubernetes import client, config

    from mlops_platform.lock import NAME, NAMESPACE

    api = client.CoordinationV1Api(config.new_client_from_config(config_file=kubeconfig))
    yield api
    try:
        api.delete_namespaced_lease(NAME, NAMESPACE)
    except client.ApiException as e:
        assert e.status == 404


def test_the_lease_of_a_holder_killed_on_this_host_is_taken_over_at_once(kubeconfig, leases):
    from mlops_platform.errors import MlopsError
    from mlops_platform.lock import NAME, NAMESPACE, ClusterLock

    holder = subprocess.Popen(  # noqa: S603 - this interpreter: an `mlopsctl up` that holds the lock
        [sys.executable, "-c", HOLD, kubeconfig], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        identity = leases.read_namespaced_lease(NAME, NAMESPACE).spec.holder_identity
        assert identity.endswith(f" pid {holder.pid}: mlopsctl up"), identity

        with pytest.raises(MlopsError, match="the cluster is busy: .* holds its lock") as refused:
            ClusterLock(Path(kubeconfig), "promote").acquire()  # alive: refused as before
        assert refused.value.exit_code == 3 and identity in str(refused.value)
    finally:
        holder.kill()  # SIGKILL: no release, the Lease stays fresh for up to 60 s
        holder.wait()

    lease = leases.read_namespaced_lease(NAME, NAMESPACE)
    assert lease.spec.holder_identity == identity
    started = time.monotonic()
    with ClusterLock(Path(kubeconfig), "promote") as mine:
        assert time.monotonic() - started < 5
        assert leases.read_namespaced_lease(NAME, NAMESPACE).spec.holder_identity == mine.holder
    assert NAME not in [x.metadata.name for x in leases.list_namespaced_lease(NAMESPACE).items]
