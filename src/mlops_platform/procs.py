"""Local processes of the rehearsal cluster: ports, start, liveness, stop by pid.

Every process is started in a session of its own (its pid is its process group), so
stopping it stops what it started too. Nothing here is stopped by name.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import socket
import subprocess
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def spawn(argv: list[str], log: Path, *, env: dict | None = None, cwd: str | None = None) -> int:
    """Start argv in a new session with its output appended to `log`; return its pid."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        proc = subprocess.Popen(  # noqa: S603 - our own binaries
            argv,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
            cwd=cwd,
        )
    return proc.pid


def spawn_supervised(argv: list[str], log: Path, *, env: dict | None = None) -> int:
    """Start argv under a shell loop that starts it again when it exits.

    ArgoCD's and Argo Rollouts' controllers exit while their CRDs are not installed
    yet (the gitops stage installs them, after the cluster is up), as they would
    crash-loop in a pod; the loop is the kubelet's restart.
    """
    loop = f'while :; do {shlex.join(argv)}; echo "exited with $?; restarting in 2s"; sleep 2; done'
    return spawn(["/bin/sh", "-c", loop], log, env=env)


def alive(pid: int) -> bool:
    try:
        if os.waitpid(pid, os.WNOHANG)[0]:
            return False
    except ChildProcessError:
        pass  # not our child: fall back to a signal probe
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return _state_of(pid) != "Z"


def _state_of(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return ""


def terminate(pid: int, grace: float = 10.0) -> None:
    """SIGTERM the process group, then SIGKILL what is left after `grace` seconds."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not alive(pid):
                return
            time.sleep(0.05)


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def rss_mib(pid: int) -> float:
    """Resident memory of a process group's members (MiB), from /proc."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getpgid(int(entry.name)) != pid:
                continue
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except (OSError, ValueError):
            continue
    return total / 1024


def exec_after_crds(server: str, pki: Path, crds: list[str], argv: list[str], interval: float = 2.0) -> None:
    """Wait until every CRD named is Established, then replace this process by argv.

    For an operator that decides at start which of its controllers to run from the CRDs
    it finds (the Prometheus Operator): in a cluster its pod starts after its chart's CRDs;
    here it is started with the cluster, before the platform stage installs them.
    """
    import json
    import ssl
    import urllib.error
    import urllib.request

    context = ssl.create_default_context(cafile=str(pki / "ca.crt"))
    context.load_cert_chain(str(pki / "admin.crt"), str(pki / "admin.key"))

    def established(name: str) -> bool:
        url = f"{server}/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}"
        try:
            with urllib.request.urlopen(url, context=context, timeout=5) as response:  # noqa: S310 - our API server
                conditions = json.load(response).get("status", {}).get("conditions") or []
        except (urllib.error.URLError, OSError, ValueError):
            return False
        return any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions)

    while not all(established(name) for name in crds):
        time.sleep(interval)
    os.execv(argv[0], argv)  # noqa: S606 - our own binary


def main(argv: list[str] | None = None) -> None:
    """`python -m mlops_platform.procs after-crds SERVER PKI CRD,... -- COMMAND...`"""
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) < 6 or args[0] != "after-crds" or args[4] != "--":
        raise SystemExit("usage: python -m mlops_platform.procs after-crds SERVER PKI CRD,... -- COMMAND...")
    exec_after_crds(args[1], Path(args[2]), args[3].split(","), args[5:])


if __name__ == "__main__":
    main()
