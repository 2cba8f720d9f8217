"""The facade over ansible-runner: accounting from events, and real runs of small playbooks."""

from __future__ import annotations

import json
import threading
import time

import pytest

from mlops_platform.runner import RunTracker, render_diff, run_playbook


def _event(kind, play="Gitops stage", task="", host="localhost", **data):
    return {"event": kind, "event_data": {"play": play, "play_uuid": "p", "task": task, "host": host, **data}}


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_tracker_accounts_per_stage_from_play_names():
    clock = Clock()
    tracker = RunTracker("site", clock=clock)
    events = [
        _event("playbook_on_play_start"),
        _event("playbook_on_task_start", task="Install ArgoCD"),
        _event(
            "runner_on_ok",
            task="Install ArgoCD",
            res={"changed": True, "diff": {"before": "a\n", "after": "b\n"}},
        ),
        _event("playbook_on_task_start", task="Skip me"),
        _event("runner_on_skipped", task="Skip me"),
        _event("playbook_on_play_start", play="Platform stage: MinIO"),
        _event("playbook_on_task_start", play="Platform stage: MinIO", task="Ignore"),
        _event(
            "runner_on_failed",
            play="Platform stage: MinIO",
            task="Ignore",
            ignore_errors=True,
            res={"msg": "x"},
        ),
        _event("playbook_on_task_start", play="Platform stage: MinIO", task="Apply MinIO"),
        _event(
            "runner_on_failed", play="Platform stage: MinIO", task="Apply MinIO", res={"msg": "Forbidden"}
        ),
        _event("playbook_on_play_start", play="Render the values"),  # a helper play: stays with platform
        _event("playbook_on_task_start", play="Render the values", task="Template"),
    ]
    for i, event in enumerate(events):
        clock.now = float(i)
        tracker.feed(event)
    clock.now = 12.0
    result = tracker.finish("failed", 2, playbook="site.yml", artifacts="/a", check=False)

    gitops, platform = result.stage("gitops"), result.stage("platform")
    assert (gitops.tasks, gitops.ok, gitops.changed, gitops.skipped, gitops.status) == (2, 1, 1, 1, "changed")
    assert (platform.tasks, platform.ok, platform.failed, platform.status) == (3, 1, 1, "failed")
    assert gitops.duration == 5.0 and platform.duration == 7.0
    assert [s.name for s in result.stages] == ["gitops", "platform"]
    assert [(f.stage, f.host, f.task, f.message) for f in result.failures] == [
        ("platform", "localhost", "Apply MinIO", "Forbidden")
    ]
    assert result.changes[0].task == "Install ArgoCD" and "-a\n+b\n" in result.changes[0].diff
    assert (result.ok, result.changed, result.failed, result.interrupted_stage) == (False, 1, 1, None)
    data = result.to_dict()
    assert data["stages"][1]["status"] == "failed" and data["changed"] == 1 and data["ok"] is False


def test_tracker_names_the_interrupted_stage():
    tracker = RunTracker("site")
    tracker.feed(_event("playbook_on_play_start", play="Workflows stage"))
    tracker.feed(_event("playbook_on_task_start", play="Workflows stage", task="Wait"))
    result = tracker.finish("canceled", 254, playbook="site.yml", artifacts="/a", check=False)
    assert result.interrupted_stage == "workflows"
    assert result.stage("workflows").status == "interrupted"


def test_tracker_reports_a_failure_without_task_events():
    result = RunTracker("site").finish("failed", 4, playbook="site.yml", artifacts="/r", check=False)
    assert "rc=4" in result.failures[0].message and "/r/stdout" in result.failures[0].message


@pytest.mark.parametrize(
    ("diff", "expected"),
    [
        (None, ""),
        ({"prepared": "--- x\n+++ y\n"}, "--- x\n+++ y\n"),
        ({"before": {"a": 1}, "after": {"a": 2}, "before_header": "cm/x"}, '-  "a": 1\n+  "a": 2\n'),
        ({"before": "same", "after": "same"}, ""),
        ([{"prepared": "one"}, {"prepared": "two"}], "one\ntwo\n"),
    ],
)
def test_render_diff(diff, expected):
    assert expected in render_diff(diff) if expected else render_diff(diff) == ""


def test_real_run_counts_changes_then_converges(checkout):
    inventory = checkout / "inventory" / "local"
    seen = []
    first = run_playbook(checkout, checkout / "site.yml", inventory, on_event=seen.append, diff=True)
    second = run_playbook(checkout, checkout / "site.yml", inventory)

    assert first.ok and first.status == "successful" and first.rc == 0
    assert [s.name for s in first.stages] == ["gitops", "platform", "workflows"]
    assert first.stage("gitops").changed == 1 and first.changed == 1
    assert "+one" in first.changes[0].diff
    assert second.ok and second.changed == 0
    assert {e.stage for e in seen} == {"gitops", "platform", "workflows"}
    assert any(e.event == "runner_on_ok" and e.changed and e.task == "Write the marker" for e in seen)
    # Artifacts: ansible-runner's events and stdout plus our result, under artifacts/runs/<timestamp>/.
    run_dir = checkout / "artifacts" / "runs" / first.artifacts.rsplit("/", 1)[1]
    assert (run_dir / "job_events").is_dir() and (run_dir / "stdout").is_file()
    assert json.loads((run_dir / "result.json").read_text())["changed"] == 1
    assert first.artifacts != second.artifacts


def test_real_run_reports_the_failing_task(checkout):
    result = run_playbook(
        checkout, checkout / "site.yml", checkout / "inventory" / "local", extra_vars={"fail_platform": True}
    )
    assert not result.ok and result.status == "failed" and result.rc == 2
    assert [(f.stage, f.host, f.task) for f in result.failures] == [
        ("platform", "localhost", "Fail on request")
    ]
    assert result.failures[0].message == "boom: the platform stage failed"
    assert result.stage("platform").ok == 1  # the ignored failure counts as ok, as in Ansible's recap
    assert result.stage("workflows") is None  # the run stopped at the failing stage


def test_check_mode_changes_nothing(checkout):
    (checkout / "marker").write_text("one\n")
    result = run_playbook(
        checkout,
        checkout / "site.yml",
        checkout / "inventory" / "local",
        extra_vars={"marker": "two"},
        check=True,
        diff=True,
    )
    assert result.ok and result.check and result.changed == 1
    assert "-one\n+two\n" in result.changes[0].diff
    assert (checkout / "marker").read_text() == "one\n"


def _playbook_processes(checkout) -> list[str]:
    import subprocess

    out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if "ansible-playbook" in line and str(checkout) in line]


@pytest.mark.parametrize("how", ["event", "callable", "ctrl-c"])
def test_cancel_stops_the_run_and_names_the_stage(checkout, how):
    import os
    import signal

    stop = threading.Event()

    def on_event(event):
        if event.event == "playbook_on_task_start" and event.task == "Wait a long time":
            if how == "ctrl-c":  # what the terminal sends on Ctrl-C (the main thread gets KeyboardInterrupt)
                threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT)).start()
            else:
                stop.set()

    cancel = {"event": stop, "callable": stop.is_set, "ctrl-c": None}[how]
    # A process started in the background by a non-interactive shell (as CI may be)
    # inherits SIGINT ignored: give it Python's own Ctrl-C handler, as a terminal has.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    started = time.monotonic()
    try:
        result = run_playbook(
            checkout,
            checkout / "site.yml",
            checkout / "inventory" / "local",
            extra_vars={"pause_seconds": 60},
            on_event=on_event,
            cancel=cancel,
        )
    finally:
        signal.signal(signal.SIGINT, previous)
    assert time.monotonic() - started < 30
    assert result.status == "canceled" and not result.ok
    assert result.interrupted_stage == "workflows"
    assert result.stage("gitops").status in ("changed", "ok")
    assert _playbook_processes(checkout) == []  # ansible-playbook was stopped, not left behind


def test_callback_errors_stop_the_run_and_are_raised(checkout):
    def broken(event):
        raise RuntimeError("callback broke")

    with pytest.raises(RuntimeError, match="callback broke"):
        run_playbook(checkout, checkout / "site.yml", checkout / "inventory" / "local", on_event=broken)
