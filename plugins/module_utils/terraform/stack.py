# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""A Terraform root as an idempotent, check-mode-aware, protected unit (terraform_stack)."""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ansible_collections.mlops.platform.plugins.module_utils.module import options_to
from ansible_collections.mlops.platform.plugins.module_utils.terraform.cli import TerraformCli
from ansible_collections.mlops.platform.plugins.module_utils.terraform.errors import TerraformError, classify

VARS_FILE = "terraform_stack.auto.tfvars.json"
BACKEND_OVERRIDE = "backend_override.tf.json"
BACKEND_CONFIG = ".terraform_stack.tfbackend"
PLAN_FILE = "terraform_stack.tfplan"
DEFAULT_PROTECT = ("openstack_blockstorage_volume_v3.this",)
# The provider's words when Nova put a new server into ERROR; it does not print why.
_SERVER_ERROR = re.compile(r"Error waiting for instance \(([0-9a-f-]{36})\) to become ready")


def with_server_faults(err: TerraformError, cloud: str | None, project: str) -> TerraformError:
    """The same error, explained by Nova's fault of each server that went to ERROR.

    Nova re-checks quotas after the API accepted a request: servers created side by side
    can pass the first check and then go to ERROR with "Quota exceeded for instances"
    as their fault, which the provider reports only as "unexpected state 'ERROR'".
    """
    ids = sorted(set(_SERVER_ERROR.findall(err.details or str(err))))
    if not ids or not cloud:
        return err
    from ansible_collections.mlops.platform.plugins.module_utils.openstack.faults import server_faults

    faults = server_faults(cloud, ids)
    if not faults:
        return err
    said = "; ".join(f"server {i}: {m}" for i, m in sorted(faults.items()))
    explained = classify(f"{said}\n{err.details}", command="apply", cloud=cloud, project=project)
    if explained.kind == "terraform":  # nothing more specific: keep the message, add Nova's words
        return TerraformError(f"{err} (Nova: {said})", kind=err.kind, details=err.details)
    return explained


@dataclass
class StackSpec:
    project: str
    state: str = "present"
    variables: dict = field(default_factory=dict)
    backend: str = "local"
    backend_config: dict = field(default_factory=dict)
    workspace: str = "default"
    binary: str = "terraform"
    lock_timeout: str = "0s"
    protect: list = field(default_factory=lambda: list(DEFAULT_PROTECT))
    cloud: str | None = None


def _write_private(path: Path, text: str) -> bool:
    """Write text with mode 0600; return whether the content changed."""
    old = path.read_text() if path.exists() else None
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)
    return old != text


def _is_protected(address: str, protect: list[str]) -> bool:
    """`x.y` protects `x.y`, `x.y[0]`, `x.y["k"]` and everything inside module `x.y`."""
    return any(address == p or address.startswith((p + "[", p + ".")) for p in protect)


def summarize(plan: dict, protect: list[str]) -> dict:
    """Counts and addresses of a `terraform show -json` plan, and the protected ones it would remove."""
    summary = {"add": [], "change": [], "destroy": [], "replace": []}
    for rc in plan.get("resource_changes", []):
        actions = rc.get("change", {}).get("actions", [])
        addr = rc["address"]
        if actions == ["create"]:
            summary["add"].append(addr)
        elif actions == ["update"]:
            summary["change"].append(addr)
        elif actions == ["delete"]:
            summary["destroy"].append(addr)
        elif sorted(actions) == ["create", "delete"]:
            summary["replace"].append(addr)
    outputs_changed = sorted(
        name for name, oc in plan.get("output_changes", {}).items() if oc.get("actions") != ["no-op"]
    )
    at_risk = sorted(a for a in summary["destroy"] + summary["replace"] if _is_protected(a, protect))
    return {
        "add": len(summary["add"]) + len(summary["replace"]),
        "change": len(summary["change"]),
        "destroy": len(summary["destroy"]) + len(summary["replace"]),
        "addresses": {k: sorted(v) for k, v in summary.items()},
        "outputs_changed": outputs_changed,
        "protected_at_risk": at_risk,
    }


class Stack:
    def __init__(self, spec: StackSpec) -> None:
        self.spec = spec
        self.dir = Path(spec.project)
        if not self.dir.is_dir():
            raise TerraformError(f"project path {spec.project} is not a directory", kind="project")
        if not any(self.dir.glob("*.tf")) and not any(self.dir.glob("*.tf.json")):
            raise TerraformError(
                f"project path {spec.project} holds no *.tf file: not a Terraform root", kind="project"
            )

    def _prepare_backend(self, check_mode: bool) -> str | None:
        override = self.dir / BACKEND_OVERRIDE
        if self.spec.backend == "local":
            if override.exists() and not check_mode:
                raise TerraformError(
                    f"{override} selects a remote backend but backend is 'local' now; move the state with "
                    "`terraform init -migrate-state` by hand before switching, then delete that file",
                    kind="backend",
                )
            return None
        config = dict(self.spec.backend_config)
        if self.spec.backend == "s3":
            config.setdefault("use_lockfile", True)
        if not check_mode or override.exists():
            _write_private(
                override, json.dumps({"terraform": {"backend": {self.spec.backend: {}}}}, indent=2) + "\n"
            )
        lines = [f"{k} = {json.dumps(v)}" for k, v in sorted(config.items())]
        path = self.dir / BACKEND_CONFIG
        _write_private(path, "\n".join(lines) + "\n")
        return str(path)

    def run(self, check_mode: bool = False) -> dict:
        spec = self.spec
        var_text = json.dumps(spec.variables, indent=2, sort_keys=True) + "\n"
        tmp = None
        var_files: list[str] = []
        if spec.state == "absent" and not spec.variables:
            # A destroy without variables uses those of the last run (the .auto.tfvars.json file).
            pass
        elif check_mode:
            # Check mode writes nothing into the project: the variables go to a private
            # temporary file that overrides the auto-loaded one, and is removed after.
            fd, tmp = tempfile.mkstemp(suffix=".tfvars.json")  # mode 0600
            with os.fdopen(fd, "w") as f:
                f.write(var_text)
            var_files.append(tmp)
        else:
            _write_private(self.dir / VARS_FILE, var_text)
        try:
            return self._run(check_mode, var_files)
        finally:
            if tmp is not None:
                os.unlink(tmp)

    def _run(self, check_mode: bool, var_files: list[str]) -> dict:
        spec = self.spec
        tf = TerraformCli(
            spec.project,
            binary=spec.binary,
            lock_timeout=spec.lock_timeout,
            cloud=spec.cloud,
            var_files=var_files,
        )
        backend_file = self._prepare_backend(check_mode)
        tf.init(backend_file)
        tf.select_workspace(spec.workspace)
        # The saved plan holds every variable value: keep it private, outside the project.
        plan_dir = tempfile.mkdtemp(prefix="terraform_stack-")
        plan_file = os.path.join(plan_dir, PLAN_FILE)
        destroy = spec.state == "absent"
        try:
            plan = tf.plan(plan_file, destroy=destroy)
            plan_json, plan_text = tf.show_plan(plan_file)
            summary = summarize(plan_json, spec.protect)
            if summary["protected_at_risk"]:
                verb = "destroy" if destroy else "destroy or replace"
                raise TerraformError(
                    f"the plan would {verb} protected resources: {', '.join(summary['protected_at_risk'])}; "
                    "nothing was changed (remove them from protect only if you mean to delete them)",
                    kind="protected",
                )
            result = {
                "changed": plan.has_changes,
                "plan": summary,
                "diff": {"prepared": plan_text} if plan.has_changes else {},
                "terraform_version": tf.version,
                "workspace": spec.workspace,
            }
            if plan.has_changes and not check_mode:
                try:
                    tf.apply(plan_file)
                except TerraformError as e:
                    raise with_server_faults(e, spec.cloud, spec.project) from e
        finally:
            shutil.rmtree(plan_dir, ignore_errors=True)
        result["outputs"] = {} if destroy and not check_mode else tf.outputs()
        return result


ARGUMENT_SPEC = dict(
    backend=dict(type="str", default="local"),
    backend_config=dict(type="dict", default={}, no_log=True),
    binary=dict(type="str", default="terraform"),
    cloud=dict(type="str"),
    lock_timeout=dict(type="str", default="0s"),
    project_path=dict(type="path", required=True),
    protect=dict(type="list", elements="str", default=list(DEFAULT_PROTECT)),
    sensitive_variables=dict(type="dict", default={}, no_log=True),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    variables=dict(type="dict", default={}),
    workspace=dict(type="str", default="default"),
)
MODULE_RULES = {"supports_check_mode": True}


def run(params: dict, check_mode: bool) -> dict:
    """The terraform_stack module's run: the cloud named exists, then the stack converges."""
    from ansible_collections.mlops.platform.plugins.module_utils.openstack.clouds import find_cloud

    p = params
    if p["cloud"]:
        find_cloud(p["cloud"], [p["project_path"]])
    spec = options_to(
        StackSpec, p, project=p["project_path"], variables={**p["variables"], **p["sensitive_variables"]}
    )
    return Stack(spec).run(check_mode=check_mode)
