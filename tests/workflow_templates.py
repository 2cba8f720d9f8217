"""The model-lifecycle WorkflowTemplates as the tests read them: the files the workflows role
declares, parameter substitution as Argo's controller does it, and a step run for real.

Argo's controller substitutes `{{workflow.parameters.x}}` and `{{inputs.parameters.x}}`; these
templates use only those plain forms (`substitute` fails on a parameter that is not declared).
`run_step` runs a step's container or script as a process on this machine, with the step's
own command, arguments, environment and paths, in a mount namespace of its own whose /tmp is
a directory of the test's (as the pod's emptyDir): its output parameters are read from there.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "roles" / "workflows" / "files" / "templates"
PARAMETER = re.compile(r"\{\{(workflow|inputs)\.parameters\.([A-Za-z0-9_-]+)\}\}")


def substitute(text: str, workflow: dict[str, str], inputs: dict[str, str]) -> str:
    def value(match: re.Match) -> str:
        scope = workflow if match[1] == "workflow" else inputs
        assert match[2] in scope, f"{match[0]}: no such {match[1]} parameter (declared: {sorted(scope)})"
        return scope[match[2]]

    return PARAMETER.sub(value, text)


def load(name: str) -> dict:
    return yaml.safe_load((TEMPLATES / f"{name}.yml").read_text())


def step(template: dict, name: str) -> dict:
    return next(t for t in template["spec"]["templates"] if t["name"] == name)


def run_step(
    template: dict,
    name: str,
    workflow: dict[str, str],
    inputs: dict[str, str],
    *,
    tmp: Path,
    path: list[str | os.PathLike],
    env: dict[str, str] | None = None,
    timeout: float = 600,
) -> subprocess.CompletedProcess:
    """Run step `name` of `template` (its parameters substituted) with the executables of the
    step's image found on `path`, and `env` added (what the pod would have: the service
    account's address, ...). The step sees `tmp` as its /tmp (the pod's emptyDir), where its
    output parameters are afterwards; files it is given must be outside /tmp."""
    t = step(template, name)
    kind = "container" if "container" in t else "script"
    spec = yaml.safe_load(substitute(yaml.safe_dump(t[kind]), workflow, inputs))
    argv = list(spec.get("command") or []) + list(spec.get("args") or [])
    if kind == "script":  # Argo writes the source to a file and appends its path
        (tmp / "step-source").write_text(spec["source"])
        argv.append("/tmp/step-source")
    system = ["/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"]
    environment = {"PATH": os.pathsep.join(map(str, [*path, *system])), "HOME": "/tmp"}
    environment.update({e["name"]: e["value"] for e in spec.get("env") or [] if "value" in e})
    environment.update(env or {})
    environment["STEP_TMP"] = str(tmp)
    # A mount namespace of its own, whose /tmp is `tmp`: the step's paths are the pod's.
    return subprocess.run(
        [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            'mount --bind "$STEP_TMP" /tmp && exec "$@"',
            "step",
            *argv,
        ],
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )
