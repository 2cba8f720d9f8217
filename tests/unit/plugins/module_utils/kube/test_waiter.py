"""wait_for polls until the condition holds and its timeout says what was last seen."""

from __future__ import annotations

import pytest
from ansible_collections.mlops.platform.plugins.module_utils.kube.errors import KubeError
from ansible_collections.mlops.platform.plugins.module_utils.kube.waiter import WaitTimeout, wait_for


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_returns_when_condition_holds():
    clock = FakeClock()
    seen = iter([{"n": 1}, {"n": 2}, {"n": 3}])
    obj = wait_for(
        lambda: next(seen), lambda o: o["n"] == 3, timeout=10, interval=1, clock=clock, sleep=clock.sleep
    )
    assert obj == {"n": 3} and clock.now == 2


def test_timeout_names_last_state():
    clock = FakeClock()
    with pytest.raises(WaitTimeout) as info:
        wait_for(
            lambda: {"phase": "Progressing"},
            lambda o: False,
            timeout=5,
            interval=2,
            clock=clock,
            sleep=clock.sleep,
            what="minio to be Healthy",
            describe=lambda o: f"phase {o['phase']}",
        )
    assert str(info.value) == "timed out after 5s waiting for minio to be Healthy: phase Progressing"
    assert info.value.last == {"phase": "Progressing"}
    assert clock.now == 5


def test_check_can_fail_early():
    def check(obj):
        raise KubeError("Degraded")

    with pytest.raises(KubeError, match="Degraded"):
        wait_for(lambda: {}, check, timeout=5, sleep=lambda s: None)
