"""The cluster lock: when a held Lease may be taken over at once, and when its renewal stops.

The API is a small in-memory stand-in for CoordinationV1Api (create/read/replace/patch/delete
of one Lease); tests/integration/test_cluster_lock.py replays the takeover on a real kube-apiserver.
"""

from __future__ import annotations

import datetime
import os
import re
import socket
import subprocess
import sys
import threading
import time
from types import SimpleNamespace

import pytest

from mlops_platform import lock
from mlops_platform.errors import EXIT_BUSY, MlopsError
from mlops_platform.lock import UNREADABLE, ClusterLock, holder_is_gone

HOST = "ops-1"
NS = "pid:[4026531836]"


def _commands(**by_pid):
    return lambda pid: by_pid.get(f"p{pid}")


@pytest.mark.parametrize(
    ("identity", "recorded", "commands", "gone"),
    [
        # this host, no such process (or only its zombie): gone
        (f"ana@{HOST} pid 4242: mlopsctl promote", NS, {}, True),
        (f"ana@{HOST} pid 4242: mlopsctl promote", None, {}, True),  # a Lease from before the annotation
        (f"ana@corp.example@{HOST} pid 4242: mlopsctl up", NS, {}, True),  # a directory user name
        # this host, the pid now runs something else: reused, gone
        (f"ana@{HOST} pid 4242: mlopsctl up", NS, {"p4242": "sleep 300"}, True),
        (f"ana@{HOST} pid 4242: mlopsctl up", NS, {"p4242": "/usr/sbin/sshd -D"}, True),
        # this host, the holder still runs: alive
        (
            f"ana@{HOST} pid 4242: mlopsctl up",
            NS,
            {"p4242": "/venv/bin/python3 /venv/bin/mlopsctl up"},
            False,
        ),
        (f"ana@{HOST} pid 4242: mlopsctl up", NS, {"p4242": "/usr/bin/python3 deploy.py"}, False),  # the API
        (f"ana@{HOST} pid 4242: mlopsctl up", NS, {"p4242": "ansible-playbook site.yml"}, False),
        (f"ana@{HOST} pid 4242: mlopsctl up", NS, {"p4242": UNREADABLE}, False),  # another user's process
        # not checkable from here: alive until the Lease expires
        ("ana@elsewhere pid 4242: mlopsctl up", NS, {}, False),
        (f"ana@{HOST} pid 4242: mlopsctl up", "pid:[4026532000]", {}, False),  # a container named as the host
        ("alice@ops pid 1: mlopsctl up", None, {}, False),
        ("a holder of another tool", None, {}, False),
        ("", None, {}, False),
        (None, None, {}, False),
    ],
)
def test_holder_is_gone(identity, recorded, commands, gone):
    assert (
        holder_is_gone(
            identity,
            recorded_namespace=recorded,
            host=HOST,
            pid_namespace=NS,
            command_of=_commands(**commands),
        )
        is gone
    )


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_command_of_a_real_process_and_of_one_that_exited():
    assert "python" in lock._command_of(os.getpid())
    assert lock._command_of(_dead_pid()) is None


class FakeLeases:
    """CoordinationV1Api for one Lease, with resourceVersion checks."""

    def __init__(self):
        self.body: dict | None = None
        self.version = 0
        self.patches = 0

    def _store(self, body):
        self.version += 1
        self.body = {**body, "metadata": {**body["metadata"], "resourceVersion": str(self.version)}}

    def create_namespaced_lease(self, namespace, body):
        from kubernetes.client.exceptions import ApiException

        if self.body is not None:
            raise ApiException(status=409, reason="Conflict")
        self._store(body)

    def read_namespaced_lease(self, name, namespace):
        spec, meta = self.body["spec"], self.body["metadata"]

        def when(stamp):
            return datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.UTC)

        return SimpleNamespace(
            spec=SimpleNamespace(
                holder_identity=spec["holderIdentity"],
                lease_duration_seconds=spec["leaseDurationSeconds"],
                acquire_time=when(spec["acquireTime"]),
                renew_time=when(spec["renewTime"]),
            ),
            metadata=SimpleNamespace(
                resource_version=meta["resourceVersion"], annotations=meta.get("annotations")
            ),
        )

    def replace_namespaced_lease(self, name, namespace, body):
        from kubernetes.client.exceptions import ApiException

        if body["metadata"].get("resourceVersion") != str(self.version):
            raise ApiException(status=409, reason="Conflict")
        self._store(body)

    def patch_namespaced_lease(self, name, namespace, body):
        self.patches += 1
        self.body["spec"].update(body["spec"])

    def delete_namespaced_lease(self, name, namespace, body=None):
        self.body = None


def _lock(api, holder=None, **kw) -> ClusterLock:
    held = ClusterLock("/nonexistent/kubeconfig", "promote", holder=holder, **kw)
    held._api = api
    return held


def _held_by(api, holder, **kw) -> None:
    """A fresh Lease (just renewed) held by `holder`, as another run leaves it."""
    other = _lock(api, holder, **kw)
    api.create_namespaced_lease(lock.NAMESPACE, other._body(lock._now()))


def test_a_fresh_lease_of_a_dead_process_on_this_host_is_taken_over_at_once():
    api = FakeLeases()
    _held_by(api, f"ana@{socket.gethostname()} pid {_dead_pid()}: mlopsctl up")
    mine = _lock(api)
    started = time.monotonic()
    mine.acquire()  # today: refused with exit code 3 until the Lease expires (60 s)
    try:
        assert time.monotonic() - started < 5
        assert api.body["spec"]["holderIdentity"] == mine.holder
    finally:
        mine.release()
    assert api.body is None


def test_a_fresh_lease_of_a_reused_pid_on_this_host_is_taken_over():
    api = FakeLeases()
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        _held_by(api, f"ana@{socket.gethostname()} pid {sleeper.pid}: mlopsctl up")
        mine = _lock(api)
        mine.acquire()
        assert api.body["spec"]["holderIdentity"] == mine.holder
        mine.release()
    finally:
        sleeper.kill()
        sleeper.wait()


@pytest.mark.parametrize("where", ["this host, live", "another host"])
def test_a_live_or_remote_holder_keeps_the_lock_and_the_message(where):
    api = FakeLeases()
    host = socket.gethostname() if where == "this host, live" else "elsewhere"
    holder = f"ana@{host} pid {os.getpid()}: mlopsctl up"  # this test's own (Python) process
    _held_by(api, holder)
    with pytest.raises(MlopsError) as refused:
        _lock(api).acquire()
    assert refused.value.exit_code == EXIT_BUSY
    assert re.fullmatch(
        re.escape(
            f"the cluster is busy: {holder} holds its lock (Lease kube-system/mlops-platform-lock) since "
        )
        + r"\d+s ago \(renewed \d+s ago\)\. "
        + re.escape("Wait until that run ends; if it died, the lock expires 60s after its last renewal"),
        str(refused.value),
    ), str(refused.value)
    assert api.body["spec"]["holderIdentity"] == holder


def test_renewal_stops_when_the_thread_that_took_the_lock_is_gone():
    api = FakeLeases()
    mine = _lock(api, renew_every=0.02)
    taker = threading.Thread(target=mine.acquire)
    taker.start()
    taker.join()  # took the lock and ended without releasing it (the holder is gone)
    mine._thread.join(timeout=5)
    assert not mine._thread.is_alive(), "the Lease is still renewed for a holder that is gone"
    patches = api.patches
    time.sleep(0.1)
    assert api.patches == patches


def test_renewal_goes_on_while_the_holder_runs():
    api = FakeLeases()
    with _lock(api, renew_every=0.02) as mine:
        deadline = time.monotonic() + 5
        while api.patches < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert api.patches >= 3 and mine._thread.is_alive()
    assert api.body is None
