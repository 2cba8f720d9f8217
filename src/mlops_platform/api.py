"""The Python API: stand up, plan, destroy, inspect and operate the platform.

Every operation runs one of the collection's playbooks through ansible-runner
(see runner.py) and returns a RunResult; `status()` only reads. Errors are
MlopsError, with a message saying what to do and the CLI exit code.

    from mlops_platform import api
    result = api.up(stages=["gitops", "platform"], on_event=print)
    if not result.ok:
        for failure in result.failures:
            print(failure.stage, failure.task, failure.message)
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .config import find_root, inventory_vars, resolve_inventory
from .errors import EXIT_BAD_INPUT, EXIT_RUN_FAILED, MlopsError
from .lock import cluster_lock
from .results import RunResult, Status
from .runner import CancelCheck, EventCallback, RunEvent, run_playbook
from .stages import STAGES, select_stages

#: Extra-var names must be valid Ansible variable names.
_VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


#: How long `train` follows its Workflow by default (train.yml's train_timeout).
DEFAULT_TRAIN_TIMEOUT = 7200


def _check_vars(extra_vars: dict[str, Any] | None, what: str = "extra var") -> dict[str, Any]:
    for name in extra_vars or {}:
        if not isinstance(name, str) or not _VAR_NAME.match(name):
            raise MlopsError(f"{what} name {name!r} is not a valid variable name (letters, digits, '_')")
    return dict(extra_vars or {})


def _check_env_name(name: str, what: str) -> str:
    from .collection import module_utils

    # Environment names are DNS labels (they name namespaces and Applications).
    if not module_utils("promotion.names").is_environment_name(name):
        raise MlopsError(f"{what} environment {name!r} is not an environment name (for example staging)")
    return name


class Platform:
    """One checkout + one inventory (target). Methods map to playbooks.

    root: the checkout (default: found from the cwd or MLOPS_ROOT).
    inventory: inventory/<target> (default MLOPS_INVENTORY or inventory/local).
    kubeconfig: overrides the inventory's mlops_kubeconfig (as MLOPS_KUBECONFIG) for
        runs and for status().
    env: extra environment variables for the ansible-playbook process.
    """

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        inventory: str | os.PathLike | None = None,
        *,
        kubeconfig: str | os.PathLike | None = None,
        env: dict[str, str] | None = None,
    ):
        self.root = Path(root).resolve() if root else find_root()
        self.inventory = resolve_inventory(self.root, inventory)
        self.env = dict(env or {})
        if kubeconfig:
            self.env["MLOPS_KUBECONFIG"] = str(Path(kubeconfig).expanduser().resolve())

    # -- runs -----------------------------------------------------------------

    def run(
        self,
        playbook: str,
        *,
        extra_vars: dict[str, Any] | None = None,
        check: bool = False,
        diff: bool = False,
        default_stage: str | None = None,
        on_event: EventCallback | None = None,
        cancel: CancelCheck | threading.Event | None = None,
        verbosity: int = 0,
        lock: str | None = None,
    ) -> RunResult:
        """Run playbooks/<playbook> (or a path) on this inventory.

        `lock` (the operation's name) holds the cluster's lock for the run (see lock.py):
        a second locked run on the same cluster fails with exit code 3.
        """
        path = Path(playbook)
        if not path.is_absolute():
            path = self.root / playbook
        if not path.is_file():
            raise MlopsError(f"playbook {path} does not exist in this checkout", exit_code=EXIT_BAD_INPUT)
        extra_vars = _check_vars(extra_vars)
        held = cluster_lock(self._kubeconfig_path(), lock) if lock else None
        try:
            return self._run(path, extra_vars, check, diff, default_stage, on_event, cancel, verbosity)
        finally:
            if held is not None:
                held.release()

    def _run(self, path, extra_vars, check, diff, default_stage, on_event, cancel, verbosity) -> RunResult:
        return run_playbook(
            self.root,
            path,
            self.inventory,
            extra_vars=extra_vars,
            check=check,
            diff=diff,
            env=self.env,
            default_stage=default_stage,
            on_event=on_event,
            cancel=cancel,
            verbosity=verbosity,
        )

    def up(
        self,
        stages: list[str] | None = None,
        *,
        extra_vars: dict[str, Any] | None = None,
        check: bool = False,
        diff: bool = False,
        on_event: EventCallback | None = None,
        cancel: CancelCheck | threading.Event | None = None,
        verbosity: int = 0,
    ) -> RunResult:
        """Converge the platform: site.yml, or only the named stages (in site.yml order)."""
        selected = select_stages(stages)
        if selected == list(STAGES):
            playbook = "site.yml"
        elif len(selected) == 1:
            playbook = f"playbooks/{selected[0]}.yml"
        else:
            playbook = str(self._stage_playbook(selected))
        return self.run(
            playbook,
            extra_vars=extra_vars,
            check=check,
            diff=diff,
            default_stage=selected[0],
            on_event=on_event,
            cancel=cancel,
            verbosity=verbosity,
            lock=None if check else "up",
        )

    def plan(
        self,
        stages: list[str] | None = None,
        *,
        extra_vars: dict[str, Any] | None = None,
        on_event: EventCallback | None = None,
        cancel: CancelCheck | threading.Event | None = None,
    ) -> RunResult:
        """What `up` would change (check mode + diff); applies nothing. See RunResult.changes."""
        return self.up(stages, extra_vars=extra_vars, check=True, diff=True, on_event=on_event, cancel=cancel)

    def destroy(
        self,
        *,
        keep_data: bool = True,
        confirm: str | None = None,
        on_event: EventCallback | None = None,
        cancel: CancelCheck | threading.Event | None = None,
    ) -> RunResult:
        """Tear the platform down. The data volume is kept unless keep_data=False, which
        needs `confirm` set to the data volume's name, typed by the operator (destroy.yml
        checks it and destroys nothing when it does not match)."""
        extra: dict[str, Any] = {"destroy_data": not keep_data}
        if not keep_data:
            volume = self.data_volume_name()
            if not confirm or not str(confirm).strip():
                raise MlopsError(
                    "deleting the data volume needs its name typed back: pass confirm="
                    f"{volume!r} (mlopsctl destroy --delete-data --confirm {volume or '<volume name>'})"
                )
            extra["destroy_data_confirm"] = str(confirm).strip()
        return self.run(
            "playbooks/destroy.yml",
            extra_vars=extra,
            default_stage="destroy",
            on_event=on_event,
            cancel=cancel,
            lock="destroy",
        )

    def promote(
        self,
        from_env: str | None,
        to_env: str,
        version: str | int | None = None,
        *,
        image_tag: str | None = None,
        force: bool = False,
        on_event: EventCallback | None = None,
        cancel: CancelCheck | threading.Event | None = None,
    ) -> RunResult:
        """Move a version from one environment to the next (the playbook refuses skips).

        Without from_env a new build enters the first environment: give version and image_tag.
        """
        extra: dict[str, Any] = {"to": _check_env_name(to_env, "target")}
        if from_env is not None:
            extra["from"] = _check_env_name(from_env, "source")
            if from_env == to_env:
                raise MlopsError(f"source and target are both {from_env!r}: promote to the next environment")
        from .collection import module_utils

        order = module_utils("promotion.order")  # the promotion's own input rules
        try:
            checked = {"version": order.check_version(version), "image_tag": order.check_image_tag(image_tag)}
        except order.PromotionError as e:
            raise MlopsError(str(e)) from e
        extra.update({k: v for k, v in checked.items() if v is not None})
        if force:
            extra["force"] = True
        return self.run(
            "playbooks/promote.yml",
            extra_vars=extra,
            default_stage="promote",
            on_event=on_event,
            cancel=cancel,
            lock="promote",
        )

    def rollback(
        self,
        env: str,
        *,
        on_event: EventCallback | None = None,
        cancel: CancelCheck | threading.Event | None = None,
    ) -> RunResult:
        """Return one environment to the version it ran before its last promotion."""
        return self.run(
            "playbooks/rollback.yml",
            extra_vars={"env": _check_env_name(env, "")},
            default_stage="rollback",
            on_event=on_event,
            cancel=cancel,
            lock="rollback",
        )

    def train(
        self,
        parameters: dict[str, Any] | None = None,
        *,
        timeout: int | None = None,
        on_event: EventCallback | None = None,
        on_step: Callable[[dict], None] | None = None,
        cancel: CancelCheck | threading.Event | None = None,
    ) -> RunResult:
        """Submit the train-model workflow with `parameters` (its workflow parameters), then follow it
        step by step (`on_step` sees each step whose phase changes) until it ends or `timeout`
        seconds pass. Ctrl-C, SIGTERM, SIGHUP or `cancel` stop the Workflow. The result's
        `outputs` are the Workflow's (model-version)."""
        from .training import follow

        extra: dict[str, Any] = {
            "train_parameters": {k: str(v) for k, v in _check_vars(parameters, "workflow parameter").items()},
            "train_wait": False,
        }
        if timeout is not None and (
            isinstance(timeout, bool) or not isinstance(timeout, int) or timeout <= 0
        ):
            raise MlopsError(f"timeout: {timeout!r} is not allowed: give a whole number of seconds above 0")
        submitted: dict[str, str] = {}

        def capture(event: RunEvent) -> None:
            res = event.data.get("res") if event.event == "runner_on_ok" else None
            if isinstance(res, dict) and res.get("workflow") and res.get("namespace"):
                submitted.update(name=res["workflow"], namespace=res["namespace"])
            if on_event is not None:
                on_event(event)

        result = self.run(
            "playbooks/train.yml", extra_vars=extra, default_stage="train", on_event=capture, cancel=cancel
        )
        if not result.ok or not submitted:
            return result
        stop = cancel if isinstance(cancel, threading.Event) else threading.Event()
        from .status import connect, kube_errors

        try:
            followed = follow(
                connect(self.kubeconfig()),
                submitted["namespace"],
                submitted["name"],
                timeout=float(timeout or DEFAULT_TRAIN_TIMEOUT),
                report=on_step or (lambda step: None),
                cancel=stop,
            )
        except kube_errors.KubeError as e:
            raise MlopsError(
                f"following Workflow {submitted['namespace']}/{submitted['name']}: {e} (it may still run)",
                exit_code=EXIT_RUN_FAILED,
            ) from e
        return result.followed_by(followed.outcome, followed.summary, followed.message)

    # -- reads ----------------------------------------------------------------

    def vars(self, names: list[str]) -> dict[str, Any]:
        """Templated inventory variables for localhost (read-only)."""
        return inventory_vars(self.root, self.inventory, names, env=self.env)

    def data_volume_name(self) -> str:
        """The name of the data volume (infra_data_volume.name), "" when not configured."""
        volume = self.vars(["infra_data_volume"]).get("infra_data_volume") or {}
        return str(volume.get("name", "")) if isinstance(volume, dict) else ""

    def kubeconfig(self) -> Path:
        """The admin kubeconfig of the target (mlops_kubeconfig); it must exist."""
        value = self.env.get("MLOPS_KUBECONFIG") or self.vars(["mlops_kubeconfig"]).get("mlops_kubeconfig")
        if not value:
            raise MlopsError(f"inventory {self.inventory} does not set mlops_kubeconfig")
        path = Path(str(value)).expanduser()
        if not path.is_file():
            target = self.vars(["mlops_target"]).get("mlops_target", "")
            how = (
                "start the local control plane: make envtest-up"
                if target == "local"
                else "run the kubeconfig stage: mlopsctl up --stage kubeconfig"
            )
            raise MlopsError(f"kubeconfig {path} does not exist: {how}", exit_code=EXIT_RUN_FAILED)
        return path

    def status(self) -> Status:
        """The live state: cluster, Terraform outputs, Applications, environments,
        WorkflowTemplates and generated credential names. Changes nothing."""
        from .status import read_status

        return read_status(self)

    def predict(self, environment: str, body: Any = None, *, path: str = "/predict"):
        """Send one prediction request to `environment`'s model service (default: a sample digit)."""
        from .predict import predict

        return predict(self, environment, body, path=path)

    def credentials(self, app: str) -> dict[str, str]:
        """The generated credential values of one app (read only when asked)."""
        from .status import read_credentials

        return read_credentials(self, app)

    # -- internals ------------------------------------------------------------

    def _kubeconfig_path(self) -> Path | None:
        """The target's kubeconfig when it exists (no cluster yet: None)."""
        try:
            return self.kubeconfig()
        except MlopsError:
            return None

    def _stage_playbook(self, stages: list[str]) -> Path:
        """A playbook importing the selected stage playbooks, kept with the run's artifacts."""
        runs = self.root / "artifacts" / "runs"
        runs.mkdir(parents=True, exist_ok=True)
        name = "stages-" + "-".join(stages) + ".yml"
        lines = ["---", f"# Generated by mlopsctl: the stages {', '.join(stages)} of site.yml, in order."]
        for stage in stages:
            if stage == "nodes" and "cluster" in stages:
                continue  # cluster.yml prepares the nodes itself, first
            lines += [
                f"- name: {stage.capitalize()} stage",
                f"  ansible.builtin.import_playbook: {self.root / 'playbooks' / (stage + '.yml')}",
            ]
        path = runs / name
        text = "\n".join(lines) + "\n"
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
        return path


def _platform(
    inventory: str | os.PathLike | None, kubeconfig: str | os.PathLike | None, root: str | os.PathLike | None
) -> Platform:
    return Platform(root, inventory, kubeconfig=kubeconfig)


def up(
    stages: list[str] | None = None,
    inventory: str | None = None,
    extra_vars: dict[str, Any] | None = None,
    check: bool = False,
    *,
    kubeconfig: str | None = None,
    root: str | None = None,
    **kw: Any,
) -> RunResult:
    return _platform(inventory, kubeconfig, root).up(stages, extra_vars=extra_vars, check=check, **kw)


def plan(
    stages: list[str] | None = None,
    inventory: str | None = None,
    extra_vars: dict[str, Any] | None = None,
    *,
    kubeconfig: str | None = None,
    root: str | None = None,
    **kw: Any,
) -> RunResult:
    return _platform(inventory, kubeconfig, root).plan(stages, extra_vars=extra_vars, **kw)


def destroy(
    keep_data: bool = True,
    confirm: str | None = None,
    inventory: str | None = None,
    *,
    kubeconfig: str | None = None,
    root: str | None = None,
    **kw: Any,
) -> RunResult:
    return _platform(inventory, kubeconfig, root).destroy(keep_data=keep_data, confirm=confirm, **kw)


def status(inventory: str | None = None, *, kubeconfig: str | None = None, root: str | None = None) -> Status:
    return _platform(inventory, kubeconfig, root).status()


def promote(
    from_env: str,
    to_env: str,
    version: str | int | None = None,
    inventory: str | None = None,
    *,
    kubeconfig: str | None = None,
    root: str | None = None,
    **kw: Any,
) -> RunResult:
    return _platform(inventory, kubeconfig, root).promote(from_env, to_env, version, **kw)


def rollback(
    env: str,
    inventory: str | None = None,
    *,
    kubeconfig: str | None = None,
    root: str | None = None,
    **kw: Any,
) -> RunResult:
    return _platform(inventory, kubeconfig, root).rollback(env, **kw)


def train(
    parameters: dict[str, Any] | None = None,
    inventory: str | None = None,
    *,
    kubeconfig: str | None = None,
    root: str | None = None,
    **kw: Any,
) -> RunResult:
    return _platform(inventory, kubeconfig, root).train(parameters, **kw)
