"""A typed facade over `ansible_runner.run_async`: events in, a RunResult out.

`run_playbook` starts ansible-playbook through ansible-runner, feeds every event to
a `RunTracker` (per-stage accounting, failures, changes) and to the caller's
callback, stops the run cleanly on cancel or Ctrl-C, and writes the result next
to the run's artifacts (artifacts/runs/<timestamp>/result.json).
"""

from __future__ import annotations

import contextlib
import datetime
import difflib
import json
import os
import re
import shlex
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import EXIT_BAD_INPUT, EXIT_RUN_FAILED, MlopsError
from .results import Change, Failure, RunResult, StageResult
from .stages import STAGES, stage_of_play

#: Longest failure message kept in a result (the full text is in the run's artifacts).
MESSAGE_LIMIT = 2000


@dataclass
class RunEvent:
    """One event of a run, as the caller's callback sees it."""

    event: str  # ansible-runner event name: playbook_on_task_start, runner_on_ok, ...
    stage: str
    play: str = ""
    task: str = ""
    host: str = ""
    changed: bool = False
    failed: bool = False
    data: dict[str, Any] = field(default_factory=dict)


EventCallback = Callable[[RunEvent], None]
CancelCheck = Callable[[], bool]


def _one_line_error(text: str) -> str:
    """A crash's Python traceback as its last line (the exception); other text unchanged."""
    if "Traceback (most recent call last)" not in text:
        return text
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if _EXCEPTION_LINE.match(line)]
    return errors[-1] if errors else lines[-1]


_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt|Failure)\b.*")
#: Ansible's words around a module that crashed: the exception line says more.
_NOISE = ("MODULE FAILURE\nSee stdout/stderr for the exact error", "MODULE FAILURE")


def _message(res: dict[str, Any]) -> str:
    """One clear message: msg, else the exception's last line (never a whole traceback)."""
    parts: list[str] = []
    for key in ("msg", "reason", "stderr", "module_stderr", "exception", "module_stdout"):
        value = res.get(key)
        if not value or not str(value).strip():
            continue
        text = str(value).strip()
        if text in _NOISE:
            continue
        text = _one_line_error(text)
        if key == "module_stdout" and parts:
            continue  # only when nothing else explains the crash
        if text not in parts:
            parts.append(text)
    if not parts and res.get("results"):  # a loop: report its failing items
        for item in res["results"]:
            if isinstance(item, dict) and item.get("failed"):
                parts.append(f"item {item.get('item')!r}: {_message(item)}")
    text = "\n".join(parts) or json.dumps(res, default=str)[:MESSAGE_LIMIT]
    return text if len(text) <= MESSAGE_LIMIT else text[:MESSAGE_LIMIT] + " …"


def failure_kind(res: dict[str, Any]) -> str:
    """The failure's kind: "input" for what the operator's values caused (nothing changed), else "run"."""
    if res.get("error_kind") == "input" or res.get("argument_errors") or res.get("validate_args_context"):
        return "input"
    if "assertion" in res and res.get("evaluated_to") is False:
        return "input"  # a role's preflight assert on its settings
    return "run"


def _as_text(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return value.splitlines(keepends=True)
    return (json.dumps(value, indent=2, sort_keys=True, default=str) + "\n").splitlines(keepends=True)


def render_diff(diff: Any) -> str:
    """A module's `diff` (dict, list of dicts, `prepared` text) as unified diff text."""
    if not diff:
        return ""
    if isinstance(diff, list):
        return "".join(render_diff(d) for d in diff)
    if not isinstance(diff, dict):
        return str(diff)
    if diff.get("prepared"):
        return str(diff["prepared"]).rstrip("\n") + "\n"
    before, after = _as_text(diff.get("before")), _as_text(diff.get("after"))
    if before == after:
        return ""
    return "".join(
        difflib.unified_diff(
            before,
            after,
            fromfile=str(diff.get("before_header", "before")),
            tofile=str(diff.get("after_header", "after")),
        )
    )


class RunTracker:
    """Turns ansible-runner events into per-stage accounting, failures and changes.

    Kept free of ansible-runner so that it can be fed recorded events.
    """

    def __init__(self, default_stage: str, clock: Callable[[], float] = time.monotonic):
        self.default_stage = default_stage
        self.clock = clock
        self.stages: dict[str, StageResult] = {}
        self.failures: list[Failure] = []
        self.changes: list[Change] = []
        self.current: str | None = None
        self._since: float | None = None
        self._started = clock()
        self._stats: dict[str, Any] | None = None

    def _enter(self, stage: str) -> StageResult:
        now = self.clock()
        if self.current != stage:
            if self.current is not None and self._since is not None:
                self.stages[self.current].duration += now - self._since
            self.current, self._since = stage, now
        return self.stages.setdefault(stage, StageResult(stage))

    def feed(self, event: dict[str, Any]) -> RunEvent | None:
        kind = event.get("event", "")
        data = event.get("event_data") or {}
        if kind == "playbook_on_stats":
            self._stats = data
            return RunEvent(kind, self.current or self.default_stage, data=data)
        play = data.get("play") or data.get("name") or ""
        if "play_uuid" not in data and not play:
            return None  # playbook_on_start and output before the first play
        # A play not named after a stage belongs to the stage before it (helper plays
        # such as "Kubespray preflight" inside cluster.yml), or to the playbook's default.
        stage_name = stage_of_play(play, self.current or self.default_stage) or self.default_stage
        stage = self._enter(stage_name)
        task = data.get("task") or ""
        host = data.get("host") or ""
        res = data.get("res") if isinstance(data.get("res"), dict) else {}
        changed = failed = False
        if kind in ("playbook_on_task_start", "playbook_on_handler_task_start"):
            stage.tasks += 1
        elif kind == "runner_on_ok":
            changed = bool(res.get("changed"))
            stage.ok += 1
            if changed:
                stage.changed += 1
                self.changes.append(Change(stage_name, host, task, render_diff(res.get("diff"))))
        elif kind == "runner_on_failed":
            if data.get("ignore_errors"):
                stage.ok += 1
            else:
                failed = True
                stage.failed += 1
                self.failures.append(Failure(stage_name, host, task, _message(res), failure_kind(res)))
        elif kind == "runner_on_unreachable":
            failed = True
            stage.unreachable += 1
            self.failures.append(Failure(stage_name, host, task, "unreachable: " + _message(res)))
        elif kind == "runner_on_skipped":
            stage.skipped += 1
        return RunEvent(kind, stage_name, play, task, host, changed, failed, data)

    def finish(self, status: str, rc: int, *, playbook: str, artifacts: str, check: bool) -> RunResult:
        now = self.clock()
        if self.current is not None and self._since is not None:
            self.stages[self.current].duration += now - self._since
            self._since = now
        interrupted = None
        if status in ("canceled", "timeout") and self.current is not None:
            interrupted = self.current
            self.stages[self.current].interrupted = True
        elif status != "successful" and not self.failures:
            where = self.current or self.default_stage
            self.failures.append(
                Failure(
                    where, "localhost", "", f"ansible-playbook exited with rc={rc}; see {artifacts}/stdout"
                )
            )
        return RunResult(
            playbook=playbook,
            status=status,
            rc=rc,
            artifacts=artifacts,
            check=check,
            duration=now - self._started,
            # site.yml's order, whichever ran first (cluster.yml checks before it prepares the nodes)
            stages=sorted(
                self.stages.values(),
                key=lambda st: STAGES.index(st.name) if st.name in STAGES else len(STAGES),
            ),
            failures=self.failures,
            changes=self.changes,
            interrupted_stage=interrupted,
        )


#: Environment variables whose values are credentials: never written to the artifacts.
_CREDENTIAL_NAME = re.compile(
    r"PASSWORD|PASSWD|SECRET|TOKEN|CREDENTIAL|APIKEY|API_KEY|PRIVATE|_KEY$|^OS_|^AWS_"
)
REDACTED = "<redacted>"


def redact_command_file(path: Path) -> None:
    """Hide credential values in ansible-runner's artifacts/runs/<ts>/command (its env)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return
    env = data.get("env") or {}
    hidden = {k: (REDACTED if _CREDENTIAL_NAME.search(k.upper()) and v else v) for k, v in env.items()}
    if hidden != env:
        data["env"] = hidden
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False))
        tmp.chmod(0o600)
        tmp.replace(path)


class _GracefulStop:
    """Stop ansible-playbook by SIGTERM to its process group first, SIGKILL (the runner's) after `grace`."""

    def __init__(self, grace: float, clock: Callable[[], float] = time.monotonic):
        self.grace = grace
        self.clock = clock
        self.pid: int | None = None
        self.hard = False
        self._sent_at: float | None = None
        self._group_sent: int | None = None

    def _group(self) -> int | None:
        try:
            return os.getpgid(self.pid) if self.pid else None
        except ProcessLookupError:
            return None

    def should_kill(self) -> bool:
        if self.hard:
            return True
        if self._sent_at is None:
            group = self._group()
            if group is None or group == os.getpgrp():
                return True  # not started yet, or not in a group of its own
            os.killpg(group, signal.SIGTERM)
            self._sent_at, self._group_sent = self.clock(), group
        return self.clock() - self._sent_at > self.grace

    def wait_for_group(self) -> None:
        """After a graceful stop, wait (within the grace) until every process of the run is gone."""
        if self._sent_at is None or not self._group_sent:
            return
        while self.clock() - self._sent_at <= self.grace:
            try:
                os.killpg(self._group_sent, 0)
            except (ProcessLookupError, PermissionError):
                return
            time.sleep(0.1)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._group_sent, signal.SIGKILL)


#: Signals that stop a run as Ctrl-C does: SIGTERM (kill, timeout, systemd, CI) and SIGHUP (a
#: closed terminal or SSH session) besides SIGINT itself.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@contextlib.contextmanager
def stop_signals(handler: Callable[[int, Any], None]):
    """Route STOP_SIGNALS to `handler` while a run is active; the previous handlers are put back after.

    Only in the main thread (Python delivers signals there, and only it may set handlers). A
    signal the caller ignores (nohup, a background job) stays ignored; SIGINT is taken over
    only from Python's own handler (KeyboardInterrupt), so a caller's own handler is kept.
    """
    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in STOP_SIGNALS:
            current = signal.getsignal(sig)
            if current in (signal.SIG_IGN, None):  # None: a handler set outside Python, left alone
                continue
            if sig == signal.SIGINT and current is not signal.default_int_handler:
                continue
            previous[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _guard_playbook(run_dir: Path, envvars: dict[str, str], grace: float) -> None:
    """Start ansible-playbook under runguard.py (see there), which stops it when this process dies.

    ansible-runner resolves `ansible-playbook` on the run's PATH and has no hook to run code
    in the child before exec, so a shim of that name goes first on PATH (and takes itself
    off PATH before ansible-playbook starts). Without an ansible-playbook to wrap, nothing
    changes: ansible-runner reports the missing command as before.
    """
    real = shutil.which("ansible-playbook", path=envvars["PATH"])
    if real is None or not sys.executable:
        return
    bin_dir = run_dir / "bin"
    bin_dir.mkdir(exist_ok=True)
    shim = bin_dir / "ansible-playbook"
    guard = Path(__file__).with_name("runguard.py")
    command = [sys.executable, "-I", "-S", str(guard), str(os.getpid()), str(grace), "--", real]
    shim.write_text(
        "#!/bin/sh\n"
        "# Written by mlopsctl: ansible-playbook under its watchdog (mlops_platform/runguard.py).\n"
        f"PATH=${{PATH#{shlex.quote(str(bin_dir) + os.pathsep)}}}\n"
        f'exec {shlex.join(command)} "$@"\n'
    )
    shim.chmod(0o755)
    envvars["PATH"] = f"{bin_dir}{os.pathsep}{envvars['PATH']}"


def new_run_dir(root: Path) -> Path:
    """artifacts/runs/<UTC timestamp>/, unique even for runs started in the same second."""
    runs = root / "artifacts" / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    for n in range(1000):
        path = runs / (stamp if n == 0 else f"{stamp}-{n}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
    raise MlopsError(f"cannot create a run directory under {runs}", exit_code=EXIT_RUN_FAILED)


def _environment(root: Path, env: dict[str, str] | None) -> dict[str, str]:
    bin_dir = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "")
    envvars = {
        "ANSIBLE_CONFIG": os.environ.get("ANSIBLE_CONFIG", str(root / "ansible.cfg")),
        # The same interpreter's ansible-playbook, whichever PATH the caller has.
        "PATH": path if bin_dir in path.split(os.pathsep) else f"{bin_dir}{os.pathsep}{path}",
    }
    envvars.update(env or {})
    return envvars


def run_playbook(
    root: Path,
    playbook: Path,
    inventory: Path,
    *,
    extra_vars: dict[str, Any] | None = None,
    check: bool = False,
    diff: bool = False,
    limit: str | None = None,
    env: dict[str, str] | None = None,
    default_stage: str | None = None,
    on_event: EventCallback | None = None,
    cancel: CancelCheck | threading.Event | None = None,
    verbosity: int = 0,
    grace: float = 60.0,
) -> RunResult:
    """Run one playbook through ansible-runner and return what it did.

    `on_event` sees every event as a RunEvent (exceptions in it are not swallowed
    silently: the run is stopped and the error re-raised). `cancel` (a callable or
    a threading.Event) stops the run; so do Ctrl-C, SIGTERM and SIGHUP (STOP_SIGNALS,
    handled while the run lasts when called from the main thread). Either way
    ansible-playbook's process group gets SIGTERM first (SIGINT may be ignored in a
    background job), so that a module can finish or undo what it started (a promotion
    rolls back and records it), and is killed only after `grace` seconds or a second
    signal. The result has status "canceled" and names the stage. ansible-playbook
    never outlives this process: if it dies, even by SIGKILL, its watchdog stops the
    run the same way (runguard.py).
    """
    import ansible_runner

    if not playbook.is_file():
        raise MlopsError(f"playbook {playbook} does not exist", exit_code=EXIT_BAD_INPUT)
    if not inventory.exists():
        raise MlopsError(
            f"inventory {inventory} does not exist: pass --inventory inventory/<target>",
            exit_code=EXIT_BAD_INPUT,
        )
    run_dir = new_run_dir(root)
    tracker = RunTracker(default_stage or playbook.stem)
    interrupted = threading.Event()
    finished = threading.Event()
    stop = _GracefulStop(grace)
    callback_error: list[BaseException] = []

    def handle(event: dict[str, Any]) -> bool:
        stop.pid = stop.pid or event.get("pid")
        try:
            run_event = tracker.feed(event)
            if run_event is not None and on_event is not None:
                on_event(run_event)
        except Exception as e:  # stop the run and report the callback's error afterwards
            callback_error.append(e)
            interrupted.set()
        return True  # keep the event in artifacts/runs/<ts>/job_events

    def should_cancel() -> bool:
        asked = (
            cancel is not None
            and not interrupted.is_set()
            and (cancel.is_set() if isinstance(cancel, threading.Event) else bool(cancel()))
        )
        if asked:
            interrupted.set()
        return stop.should_kill() if interrupted.is_set() else False

    def on_status(data: dict[str, Any], runner_config=None) -> None:
        if data.get("status") == "running":  # written just before: keep credentials out of it
            redact_command_file(run_dir / "command")

    def on_signal(signum: int, frame: Any) -> None:
        if interrupted.is_set():
            stop.hard = True  # a second signal: stop now
        interrupted.set()

    envvars = _environment(root, env)
    _guard_playbook(run_dir, envvars, grace)
    cmdline = []
    if check:
        cmdline.append("--check")
    if diff:
        cmdline.append("--diff")
    with stop_signals(on_signal):
        thread, runner = ansible_runner.run_async(
            private_data_dir=str(run_dir),
            artifact_dir=str(run_dir.parent),
            ident=run_dir.name,
            project_dir=str(root),
            playbook=str(playbook),
            inventory=str(inventory),
            extravars=extra_vars or None,
            cmdline=" ".join(cmdline) or None,
            limit=limit,
            verbosity=verbosity or None,
            envvars=envvars,
            event_handler=handle,
            cancel_callback=should_cancel,
            status_handler=on_status,
            finished_callback=lambda _runner: finished.set(),
            # Facts are cached where ansible.cfg says, as with a plain ansible-playbook run.
            fact_cache_type="ansible.cfg",
            settings={"pexpect_timeout": 0.2, "suppress_ansible_output": True},
            quiet=True,
            suppress_env_files=True,
        )
        # Wait on an Event, not Thread.join: a KeyboardInterrupt inside join() can leave the
        # thread looking finished while ansible-playbook still runs (CPython gh-90882).
        # A stop signal (or a KeyboardInterrupt, from a SIGINT handler of the caller's) sets
        # `interrupted`; the runner then stops ansible-playbook's process group.
        while True:
            try:
                while thread.is_alive():
                    finished.wait(0.2)
                break
            except KeyboardInterrupt:
                if interrupted.is_set():
                    stop.hard = True  # a second Ctrl-C: stop now
                interrupted.set()
        thread.join()
        stop.wait_for_group()
    redact_command_file(run_dir / "command")
    status = runner.status or "failed"
    if interrupted.is_set() or runner.canceled:
        status = "canceled"
    result = tracker.finish(
        status,
        runner.rc if runner.rc is not None else -1,
        playbook=str(playbook.relative_to(root) if playbook.is_relative_to(root) else playbook),
        artifacts=str(run_dir),
        check=check,
    )
    (run_dir / "result.json").write_text(json.dumps(result.to_dict(), indent=2, default=str))
    if callback_error:
        raise callback_error[0]
    return result
