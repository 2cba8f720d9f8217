"""The facade over ansible-runner: accounting from events, and real runs of small playbooks."""

from __future__ import annotations

import json
import os
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


# -- SIGTERM, SIGHUP and a parent that dies (issue 28) ----------------------------------------


def test_stop_signals_are_handled_only_while_the_run_lasts(checkout):
    import signal

    def previous_handler(signum, frame):
        raise AssertionError("the caller's handler ran during the run")

    seen = {}

    def on_event(event):
        seen.update({sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGHUP)})

    before = {sig: signal.signal(sig, previous_handler) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        result = run_playbook(
            checkout, checkout / "site.yml", checkout / "inventory" / "local", on_event=on_event
        )
        after = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGHUP)}
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)
    assert result.ok
    assert all(callable(h) and h is not previous_handler for h in seen.values()), seen
    assert after == {signal.SIGTERM: previous_handler, signal.SIGHUP: previous_handler}


def test_a_run_from_another_thread_leaves_the_signal_handlers_alone(checkout):
    import signal

    before = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)}
    results = []
    worker = threading.Thread(
        target=lambda: results.append(
            run_playbook(checkout, checkout / "playbooks" / "gitops.yml", checkout / "inventory" / "local")
        )
    )
    worker.start()
    worker.join(timeout=120)
    assert results and results[0].ok
    assert {sig: signal.getsignal(sig) for sig in before} == before


def _group_members(groups: set[int]) -> list[str]:
    """The live processes (not zombies) of these process groups, from /proc: "pid args"."""
    from pathlib import Path

    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            state, _ppid, pgrp = (entry / "stat").read_text().rsplit(")", 1)[1].split()[:3]
            args = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, ValueError):
            continue
        if int(pgrp) in groups and state != "Z":
            found.append(f"{entry.name} {args}")
    return found


def _run_groups(checkout) -> set[int]:
    """The process groups of the processes whose command line names this checkout's playbook."""
    from pathlib import Path

    groups = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if "ansible-playbook" in args and str(checkout) in args:
                groups.add(os.getpgid(int(entry.name)))
        except (OSError, ValueError):
            continue
    return groups


def _texts(paths):
    for path in paths:
        try:
            yield path.read_text()
        except OSError:  # written meanwhile
            continue


DEFAULT_SIGNALS_THEN_MLOPSCTL = (
    "import os, signal, sys\n"
    "for sig in (signal.SIGTERM, signal.SIGHUP):\n"
    "    signal.signal(sig, signal.SIG_DFL)\n"
    "os.execv(sys.executable, [sys.executable, '-m', 'mlops_platform.cli', *sys.argv[1:]])\n"
)


def _start_mlopsctl(checkout):
    """`mlopsctl up --json` on the checkout, its playbook paused in the workflows stage; the process
    and its run's process groups. The child gets the default SIGTERM/SIGHUP dispositions, as a
    process started from a terminal, systemd or CI has (the test may itself run under nohup)."""
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("MLOPS_")}
    env["MLOPS_ROOT"] = str(checkout)
    proc = subprocess.Popen(  # noqa: S603 - this interpreter, exec'ed into mlopsctl (same pid)
        [sys.executable, "-c", DEFAULT_SIGNALS_THEN_MLOPSCTL, "up", "--json", "-e", "pause_seconds=300"],
        cwd=checkout,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and proc.poll() is None:
        if any(
            '"playbook_on_task_start"' in text and "Wait a long time" in text
            for text in _texts(checkout.glob("artifacts/runs/*/job_events/*.json"))
        ):
            groups = _run_groups(checkout)
            if groups:
                return proc, groups
        time.sleep(0.2)
    proc.kill()
    raise AssertionError(f"the run did not reach its pause: {proc.communicate()}")


def _kill_leftovers(proc, groups) -> None:
    import contextlib
    import signal

    proc.kill()
    proc.wait()
    for group in groups:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signal.SIGKILL)


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGHUP"])
def test_sigterm_and_sighup_stop_mlopsctl_as_ctrl_c_does(checkout, signame):
    """What `kill`, `timeout`, systemd and CI send (SIGTERM), and a closed terminal (SIGHUP): the run
    is stopped like Ctrl-C stops it, mlopsctl reports it canceled, and nothing of it is left running."""
    import signal

    proc, groups = _start_mlopsctl(checkout)
    try:
        sent = time.monotonic()
        proc.send_signal(getattr(signal, signame))
        out, err = proc.communicate(timeout=30)
        assert time.monotonic() - sent < 30
        assert proc.returncode == 1, (proc.returncode, err)  # today: -15 / -1 at once, no result
        result = json.loads(out)
        assert result["status"] == "canceled" and result["interrupted_stage"] == "workflows", result
        assert _group_members(groups) == [] and _playbook_processes(checkout) == []
    finally:
        _kill_leftovers(proc, groups)


def test_the_run_dies_with_its_parent_even_by_sigkill(checkout):
    """ansible-playbook is in a process group of its own, so nothing reaches it when its parent is
    SIGKILLed; its watchdog (runguard.py) sees the parent gone and stops the whole group."""
    import signal

    proc, groups = _start_mlopsctl(checkout)
    try:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _group_members(groups):
            time.sleep(0.2)
        assert _group_members(groups) == [], "ansible-playbook outlived its parent"  # today: orphaned
        assert _playbook_processes(checkout) == []
    finally:
        _kill_leftovers(proc, groups)
