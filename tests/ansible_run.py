"""How the tests run ansible-playbook: this checkout's ansible.cfg, the json callback, a kubeconfig."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ANSIBLE_PLAYBOOK = str(ROOT / ".cache/venv/bin/ansible-playbook")


def playbook_env(kubeconfig: str | None = None, **extra: str) -> dict[str, str]:
    """os.environ plus our ansible.cfg and the json stdout callback (MLOPS_KUBECONFIG when given)."""
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
        ANSIBLE_CALLBACKS_ENABLED="",
        **extra,
    )
    if kubeconfig:
        env["MLOPS_KUBECONFIG"] = kubeconfig
    return env
