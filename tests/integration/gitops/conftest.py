"""Fixtures for the GitOps module and role tests on the real control plane.

The tests' namespaces (t-*) are not watched by the local cluster's ArgoCD controller:
a test that needs an Application to report a given status writes `.status` itself and
says why (test_wait.py).
Modules run through `ansible-playbook` (json callback), as an operator runs them.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import pytest
import yaml
from ansible_run import ANSIBLE_PLAYBOOK, playbook_env

ROOT = Path(__file__).resolve().parents[3]
ARGOCD_CRDS = ["argocd-application-crd.yaml", "argocd-appproject-crd.yaml"]


@pytest.fixture(scope="session")
def argocd_crds(kube, shared_fixtures):
    """ArgoCD's real CRDs, so Applications and AppProjects are validated by their schema."""
    from ansible_collections.mlops.platform.plugins.module_utils.kube import apply, wait_established

    for name in ARGOCD_CRDS:
        with open(shared_fixtures / "crds" / name) as f:
            docs = [d for d in yaml.load_all(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) if d]
        apply(kube, docs, manager="mlops-platform-tests")
        wait_established(kube, docs, timeout=30)
    return True


@pytest.fixture
def namespace(kube):
    """A fresh namespace per test (namespaces never finish deleting here, so never reused)."""
    from ansible_collections.mlops.platform.plugins.module_utils.kube import apply

    name = f"t-{uuid.uuid4().hex[:8]}"
    apply(
        kube,
        [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}],
        manager="mlops-platform-tests",
    )
    return name


class Play:
    """Runs tasks through ansible-playbook and returns what the operator would see."""

    def __init__(self, kubeconfig: str, tmp_path: Path):
        self.kubeconfig = kubeconfig
        self.tmp_path = tmp_path
        self.outputs: list[str] = []

    def run(
        self,
        tasks: list[dict],
        *,
        check: bool = False,
        diff: bool = False,
        verbosity: int = 0,
        kube_defaults: dict | None = None,
        json_output: bool = True,
    ) -> dict:
        defaults = {"kubeconfig": self.kubeconfig} if kube_defaults is None else kube_defaults
        play = [
            {
                "name": "test",
                "hosts": "localhost",
                "gather_facts": False,
                "module_defaults": {"group/mlops.platform.kube": defaults},
                "tasks": [dict(t, ignore_errors=True) for t in tasks],
            }
        ]
        path = self.tmp_path / f"play-{uuid.uuid4().hex[:6]}.yml"
        path.write_text(yaml.safe_dump(play, sort_keys=False))
        cmd = [ANSIBLE_PLAYBOOK, str(path)]
        if check:
            cmd.append("--check")
        if diff:
            cmd.append("--diff")
        if verbosity:
            cmd.append("-" + "v" * verbosity)
        env = playbook_env(json_output=json_output, ANSIBLE_NOCOLOR="1")
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        self.outputs.append(proc.stdout + proc.stderr)
        if not json_output:
            return {"rc": proc.returncode, "stdout": proc.stdout + proc.stderr, "results": []}
        # with -vvv, ansible prints its version and config lines before the JSON document
        start = proc.stdout.find("\n{\n") + 1 if not proc.stdout.startswith("{") else 0
        try:
            data = json.loads(proc.stdout[start:])
        except ValueError:
            raise AssertionError(
                f"ansible-playbook did not print JSON:\n{proc.stdout}\n{proc.stderr}"
            ) from None
        results = [t["hosts"]["localhost"] for t in data["plays"][0]["tasks"]]
        return {"rc": proc.returncode, "stdout": proc.stdout, "results": results}

    def one(self, module: str, args: dict, **kw) -> dict:
        return self.run([{"name": module, f"mlops.platform.{module}": args}], **kw)["results"][0]


@pytest.fixture
def play(kubeconfig, tmp_path):
    return Play(kubeconfig, tmp_path)
