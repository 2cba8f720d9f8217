"""ansible-playbook under a watchdog, so that no run outlives the process that started it.

ansible-runner starts `ansible-playbook` with pexpect in a session (and process group) of
its own, and offers no hook to run code in that child before it execs. So run_playbook
puts a two-line `ansible-playbook` shim first on the run's PATH, which execs this file:

    runguard.py PARENT_PID GRACE -- /path/to/ansible-playbook ARGS...

It forks and execs the real ansible-playbook in the same process group, then waits for it
and exits with its status. A thread watches the parent: once getppid() is no longer
PARENT_PID, mlopsctl (or the Python program that called the API) is gone, even killed by
SIGKILL, and the group is stopped as Ctrl-C stops it: SIGTERM, then SIGKILL after GRACE
seconds. Polling getppid() (five times a second) rather than prctl(PR_SET_PDEATHSIG): that
signal also fires when the *thread* that forked ends and would reach ansible-playbook's
process alone (not its workers or modules, which the group signal reaches), and it is
Linux only.

SIGTERM and SIGINT sent to the group are ignored here (run_playbook's graceful stop is for
ansible-playbook, and this watchdog must keep watching while it winds down); the child gets
the dispositions ansible-playbook had before. Standard library only: the shim runs this
file with `python -I -S`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time

POLL = 0.2  # seconds between two looks at the parent


def _signal_group(sig: int, child: int) -> None:
    """`sig` to this process group when this watchdog leads it (as under pexpect), else to the child."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if os.getpgrp() == os.getpid():
            os.killpg(os.getpgrp(), sig)
        else:
            os.kill(child, sig)


def _others_in_group() -> bool:
    """Whether a live process other than this one is left in this group (from /proc; without it: none)."""
    me, group = os.getpid(), os.getpgrp()
    try:
        entries = os.listdir("/proc")
    except OSError:
        return False
    for name in entries:
        if not name.isdigit() or int(name) == me:
            continue
        try:
            with open(f"/proc/{name}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            return True
    return False


def _watch_parent(
    parent: int, child: int, grace: float, gone: threading.Event, done: threading.Event
) -> None:
    while os.getppid() == parent:
        time.sleep(POLL)
    gone.set()
    _signal_group(signal.SIGTERM, child)  # a module can undo what it started (a promotion rolls back)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and (not done.is_set() or _others_in_group()):
        time.sleep(POLL)
    _signal_group(signal.SIGKILL, child)  # what is left, this watchdog with it


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 4 or args[2] != "--":
        sys.stderr.write("usage: runguard.py PARENT_PID GRACE -- COMMAND [ARGS...]\n")
        sys.exit(2)
    parent, grace, command = int(args[0]), float(args[1]), args[3:]
    child_sigint = signal.SIG_IGN if signal.getsignal(signal.SIGINT) is signal.SIG_IGN else signal.SIG_DFL
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if os.getppid() != parent:
        sys.exit(143)  # the parent died before the run started: do not start it
    child = os.fork()
    if child == 0:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, child_sigint)
        try:
            os.execv(command[0], command)
        except OSError as e:
            os.write(2, f"cannot run {command[0]}: {e}\n".encode())
        os._exit(127)
    gone, done = threading.Event(), threading.Event()
    watcher = threading.Thread(target=_watch_parent, args=(parent, child, grace, gone, done), daemon=True)
    watcher.start()
    _, status = os.waitpid(child, 0)
    done.set()
    if gone.is_set():
        watcher.join()  # the rest of the group gets its grace; then the watcher kills it, and this process
    code = os.waitstatus_to_exitcode(status)
    if code < 0:  # killed by a signal: end the same way, for ansible-runner's exit status
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    sys.exit(code)


if __name__ == "__main__":
    main()
