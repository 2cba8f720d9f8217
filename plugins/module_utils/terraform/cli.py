# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""The one place that calls python-terraform: a small typed facade over the CLI.

python-terraform 0.10.1 (2020) still drives Terraform 1.x for init, plan, apply of a
saved plan, show and output. Its destroy() passes -force, which Terraform >= 0.15
rejects, so this facade never calls it: a destroy is `plan -destroy` + apply of that
saved plan (what was shown is what runs). Replacing the library touches this file only.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass

from ansible_collections.mlops.platform.plugins.module_utils.terraform.errors import TerraformError, classify

try:
    from python_terraform import IsFlagged, IsNotFlagged, Terraform
except ImportError as e:  # pragma: no cover - depends on the controller's environment
    Terraform = None
    _IMPORT_ERROR: ImportError | None = e
else:
    _IMPORT_ERROR = None

MIN_VERSION = (1, 10, 0)


def _version_tuple(text: str) -> tuple[int, ...]:
    core = text.lstrip("v").split("-")[0]
    return tuple(int(p) for p in core.split(".") if p.isdigit())


@dataclass
class PlanResult:
    has_changes: bool
    plan_file: str
    text: str


class TerraformCli:
    """Run one root module with one binary; every failure becomes a TerraformError."""

    def __init__(
        self,
        project: str,
        *,
        binary: str = "terraform",
        lock_timeout: str = "0s",
        cloud: str | None = None,
        var_files: list[str] | None = None,
    ) -> None:
        if Terraform is None:
            raise TerraformError(
                f"python-terraform is not installed on the controller: {_IMPORT_ERROR}; "
                "pip install 'python-terraform>=0.10.1'",
                kind="dependency",
            )
        path = shutil.which(binary)
        if path is None:
            raise TerraformError(
                f"no {binary!r} binary on PATH; install Terraform >= {'.'.join(map(str, MIN_VERSION))} "
                "or OpenTofu and/or set the binary option",
                kind="binary",
            )
        self.project = project
        self.cloud = cloud
        self.lock_timeout = lock_timeout
        self.var_files = var_files or []
        self._tf = Terraform(working_dir=project, terraform_bin_path=path)
        os.environ.setdefault("TF_IN_AUTOMATION", "1")
        os.environ["TF_INPUT"] = "0"
        self.version = self._check_version(binary)

    def _run(self, command: str, *args, ok=(0,), **options) -> tuple[int, str, str]:
        options.setdefault("no_color", IsFlagged)
        rc, out, err = self._tf.cmd(command, *args, **options)
        if rc not in ok:
            raise classify(err or out, command=command, cloud=self.cloud, project=self.project)
        return rc, out, err

    def _check_version(self, binary: str) -> str:
        out = self._run("version", json=IsFlagged, no_color=None)[1]
        try:
            version = json.loads(out)["terraform_version"]
        except (ValueError, KeyError) as e:
            raise TerraformError(f"{binary} version -json gave no version: {out[:200]}", kind="binary") from e
        if _version_tuple(version) < MIN_VERSION:
            raise TerraformError(
                f"{binary} {version} is too old: the platform needs >= {'.'.join(map(str, MIN_VERSION))} "
                "(mock_provider tests, -or-create workspaces, use_lockfile)",
                kind="binary",
            )
        return version

    def init(self, backend_config_file: str | None = None) -> None:
        self._run(
            "init",
            input=False,
            reconfigure=IsNotFlagged,
            upgrade=IsNotFlagged,
            backend_config=backend_config_file,
            lock_timeout=self.lock_timeout,
        )

    def select_workspace(self, name: str) -> None:
        out = self._run("workspace show")[1]
        if out.strip() != name:
            self._run("workspace select", name, or_create=True)

    def plan(self, plan_file: str, *, destroy: bool = False) -> PlanResult:
        rc, out = self._run(
            "plan",
            ok=(0, 2),
            input=False,
            detailed_exitcode=IsFlagged,
            out=plan_file,
            destroy=IsFlagged if destroy else None,
            lock_timeout=self.lock_timeout,
            var_file=self.var_files or None,
        )[:2]
        return PlanResult(has_changes=rc == 2, plan_file=plan_file, text=out)

    def show_plan(self, plan_file: str) -> tuple[dict, str]:
        """The saved plan as JSON (for the summary) and as text (for the diff)."""
        out = self._run("show", plan_file, json=IsFlagged)[1]
        text = self._run("show", plan_file)[1]
        return json.loads(out), text

    def apply(self, plan_file: str) -> None:
        self._run("apply", plan_file, input=False, lock_timeout=self.lock_timeout)

    def outputs(self) -> dict:
        out = self._run("output", json=IsFlagged)[1]
        raw = json.loads(out or "{}")
        return {name: item.get("value") for name, item in raw.items()}
