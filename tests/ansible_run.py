"""How the tests run ansible-playbook and ansible-inventory: this checkout's ansible.cfg, a kubeconfig."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ANSIBLE_PLAYBOOK = str(ROOT / ".cache/venv/bin/ansible-playbook")


def playbook_env(kubeconfig: str | None = None, *, json_output: bool = True, **extra: str) -> dict[str, str]:
    """os.environ plus our ansible.cfg and the json stdout callback (MLOPS_KUBECONFIG when given)."""
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_CALLBACKS_ENABLED="", **extra)
    if json_output:
        env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.posix.json"
    if kubeconfig:
        env["MLOPS_KUBECONFIG"] = kubeconfig
    return env


def inventory_list(source, env: dict[str, str]) -> subprocess.CompletedProcess:
    """`ansible-inventory -i SOURCE --list` from the checkout, in `env`; the caller checks the result."""
    return subprocess.run(
        ["ansible-inventory", "-i", str(source), "--list"],
        capture_output=True,
        check=False,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
