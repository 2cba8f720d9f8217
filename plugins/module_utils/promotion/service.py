# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""Promotion, rollback and history of the model service across the environments.

`Promoter` works on one KubeClient (plugins/module_utils/kube) and, when the MLflow
alias is kept in step, one MlflowClient. Everything that can be checked is checked
before the first write: the order of environments, the inputs, that both
Applications exist, that the version ran healthy in the source, that MLflow knows
the version. Check mode reads, validates the Application patch with the API server's
dry run, and writes nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ansible_collections.mlops.platform.plugins.module_utils import kube
from ansible_collections.mlops.platform.plugins.module_utils.kube.errors import KubeError
from ansible_collections.mlops.platform.plugins.module_utils.mlflow.client import MlflowError
from ansible_collections.mlops.platform.plugins.module_utils.promotion import application as appl
from ansible_collections.mlops.platform.plugins.module_utils.promotion import history as hist
from ansible_collections.mlops.platform.plugins.module_utils.promotion import names
from ansible_collections.mlops.platform.plugins.module_utils.promotion.order import (
    PromotionError,
    check_environments,
    check_image_tag,
    check_known,
    check_name_format,
    check_step,
    check_version,
)

# Not the stage's field manager: the environments role's server-side apply must never
# take back (or remove) the Helm parameters a promotion set.
FIELD_MANAGER = "mlops-platform-promotion"
INTERRUPT_SIGNALS = ("SIGINT", "SIGTERM")


class Interrupted(Exception):  # noqa: N818 - a signal, not an error
    """SIGINT or SIGTERM arrived while a promotion was under way."""

    def __init__(self, signal_name: str):
        super().__init__(signal_name)
        self.signal_name = signal_name


class interruptible:  # noqa: N801 - used as a context manager
    """Turn SIGINT/SIGTERM into Interrupted for the duration of a deploy; restore the handlers after."""

    def __enter__(self):
        import signal

        def handler(signum, _frame):
            raise Interrupted(signal.Signals(signum).name)

        self._saved = {}
        for name in INTERRUPT_SIGNALS:
            sig = getattr(signal, name)
            self._saved[sig] = signal.signal(sig, handler)
        return self

    def ignore(self) -> None:
        import signal

        for sig in self._saved:
            signal.signal(sig, signal.SIG_IGN)

    def __exit__(self, *exc):
        import signal

        for sig, old in self._saved.items():
            signal.signal(sig, old)
        return False


APP_API = ("argoproj.io/v1alpha1", "Application")
CM_API = ("v1", "ConfigMap")


@dataclass
class Settings:
    environments: list[str]
    application_namespace: str = "argocd"
    application_format: str = names.name_format()
    history_namespace: str = "argocd"
    history_name: str = names.HISTORY_NAME
    history_size: int = 50
    wait: bool = True
    wait_timeout: float = 600.0
    poll_interval: float = 2.0
    update_alias: bool = True
    model_name: str | None = None
    alias_format: str = "{environment}"

    def __post_init__(self):
        self.environments = check_environments(self.environments)
        check_name_format(self.application_format, "application_format")
        check_name_format(self.alias_format, "alias_format")
        if self.history_size < 1:
            raise PromotionError(f"history_size {self.history_size} must be at least 1")
        if self.wait_timeout <= 0:
            raise PromotionError(f"wait_timeout {self.wait_timeout} must be positive")
        if self.update_alias and not self.model_name:
            raise PromotionError(
                "model_name is required when update_alias is on: it names the MLflow "
                "registered model whose alias follows the environment"
            )


@dataclass
class Outcome:
    changed: bool = False
    operation: str = "promote"
    source: str | None = None
    target: str | None = None
    version: str | None = None
    image: str | None = None
    previous_version: str | None = None
    previous_image: str | None = None
    deploy_changed: bool = False
    alias: str | None = None
    alias_previous_version: str | None = None
    alias_changed: bool = False
    record: dict | None = None
    history: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    diff: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    def history_record(self, result: str, message: str = "") -> dict:
        """The history record of this promotion or rollback, with its `result`."""
        return hist.record(
            operation=self.operation,
            source=self.source,
            target=self.target,
            version=self.version,
            image=self.image,
            previous_version=self.previous_version,
            previous_image=self.previous_image,
            result=result,
            message=message,
        )


class Promoter:
    def __init__(
        self,
        kube,
        settings: Settings,
        *,
        mlflow=None,
        check_mode: bool = False,
        clock=time.monotonic,
        sleep=time.sleep,
    ):
        self.kube = kube
        self.s = settings
        self.mlflow = mlflow
        self.check_mode = check_mode
        self.clock = clock
        self.sleep = sleep
        if settings.update_alias and mlflow is None:
            raise PromotionError("mlflow_tracking_uri is required when update_alias is on")

    # -- names -----------------------------------------------------------------------
    def app_name(self, env: str) -> str:
        return self.s.application_format.format(environment=env)

    def app_ref(self, env: str) -> str:
        return f"Application {self.s.application_namespace}/{self.app_name(env)}"

    def alias_name(self, env: str) -> str:
        return self.s.alias_format.format(environment=env)

    @property
    def history_ref(self) -> str:
        return f"ConfigMap {self.s.history_namespace}/{self.s.history_name}"

    # -- kube ------------------------------------------------------------------------
    def _app_stub(self, env: str) -> dict:
        meta = {"name": self.app_name(env), "namespace": self.s.application_namespace}
        return {"apiVersion": APP_API[0], "kind": APP_API[1], "metadata": meta}

    def get_app(self, env: str) -> dict:
        app = kube.get(self.kube, *APP_API, self.app_name(env), self.s.application_namespace)
        if app is None:
            raise PromotionError(
                f"{self.app_ref(env)} of environment {env!r} does not exist: run playbooks/environments.yml "
                "first (or check application_namespace / application_format)"
            )
        return app

    def patch_app(self, env: str, patch: dict, *, dry_run: bool = False) -> dict:
        return kube.merge_patch(
            self.kube, self._app_stub(env), patch, action="updating", manager=FIELD_MANAGER, dry_run=dry_run
        )

    def read_history(self) -> tuple[list[dict], list[str], dict | None]:
        cm = kube.get(self.kube, *CM_API, self.s.history_name, self.s.history_namespace)
        records, warnings = hist.parse(cm)
        return records, warnings, cm

    def write_history(self, new: dict) -> list[dict]:
        """Append one record (bounded), with optimistic concurrency: a concurrent writer makes us re-read."""
        for _attempt in range(5):
            records, _warnings, cm = self.read_history()
            records = hist.append(records, new, self.s.history_size)
            body = {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {
                    "name": self.s.history_name,
                    "namespace": self.s.history_namespace,
                    "labels": {
                        "app.kubernetes.io/managed-by": "mlops-platform",
                        "app.kubernetes.io/component": "promotion-history",
                    },
                },
                "data": {hist.DATA_KEY: hist.dump(records)},
            }
            try:
                if cm is None:
                    kube.create(self.kube, body, manager=FIELD_MANAGER)
                else:
                    body["metadata"]["resourceVersion"] = cm["metadata"]["resourceVersion"]
                    body["metadata"]["labels"] = {
                        **(cm["metadata"].get("labels") or {}),
                        **body["metadata"]["labels"],
                    }
                    kube.replace(self.kube, body, manager=FIELD_MANAGER)
                return records
            except KubeError as e:
                if e.status == 409:
                    continue
                raise
        raise PromotionError(
            f"{self.history_ref} kept changing under us; the promotion itself is done, "
            "but its history record was not written",
            kind="run",
        )

    def wait_for(self, env: str, version: str, image: str) -> tuple[str, dict]:
        """Poll until the Application reports (version, image) Synced+Healthy, failed, or the timeout."""
        try:
            app = kube.wait_for(
                lambda: self.get_app(env),
                lambda a: appl.evaluate(a, version, image) != "pending",
                timeout=self.s.wait_timeout,
                interval=self.s.poll_interval,
                what=f"{self.app_ref(env)} on version {version}",
                clock=self.clock,
                sleep=self.sleep,
            )
        except kube.WaitTimeout as e:
            return "timeout", e.last
        return appl.evaluate(app, version, image), app

    # -- MLflow ----------------------------------------------------------------------
    def alias_state(self, env: str, version: str) -> tuple[str | None, bool]:
        """(version the alias points to now, whether it must move). Also checks the version exists."""
        if not self.s.update_alias:
            return None, False
        current = self.mlflow.get_alias(self.s.model_name, self.alias_name(env))
        self.mlflow.get_model_version(self.s.model_name, version)
        return current, current != version

    def move_alias(self, env: str, version: str, deployed_now: bool) -> None:
        alias = self.alias_name(env)
        try:
            self.mlflow.set_alias(self.s.model_name, alias, version)
        except MlflowError as e:
            done = (
                f"version {version} is deployed to {env}" if deployed_now else f"{env} runs version {version}"
            )
            raise PromotionError(
                f"{done}, but moving the MLflow alias {alias!r} of model {self.s.model_name!r} to it "
                f"failed: {e}. The registry and the deployment disagree until the alias moves: "
                "run the same promotion again "
                "once MLflow answers (the deployment is left as it is and only the alias is updated)",
                kind="run",
            ) from e

    # -- operations ------------------------------------------------------------------
    def _diff(self, environment: str, before: tuple, after: tuple[str, str]) -> dict:
        """What a user sees change: (version, image, alias) before, (version, image) after."""
        old_version, old_image, old_alias = before
        version, image = after
        return {
            "before": {
                "environment": environment,
                "version": old_version,
                "image": old_image,
                "alias": old_alias,
            },
            "after": {
                "environment": environment,
                "version": version,
                "image": image,
                "alias": version if self.s.update_alias else None,
            },
        }

    def history(self, environment: str | None = None) -> Outcome:
        if environment is not None:
            check_known(environment, self.s.environments, "")
        records, warnings = self.read_history()[:2]
        if environment:
            records = [r for r in records if r["to"] == environment]
        return Outcome(operation="history", target=environment, history=records, warnings=warnings)

    def _resolve(self, source, target, version, image_tag, force, records) -> tuple[str, str, list[str]]:
        """The (version, image) to deploy, after the "ran healthy in the source" rule."""
        notes: list[str] = []
        if source is None:
            if version is None or image_tag is None:
                raise PromotionError(
                    f"deploying into the first environment {target!r} needs both version and image_tag "
                    "(there is no source environment to take them from)"
                )
            return version, image_tag, notes
        src_app = self.get_app(source)
        src_version, src_image = appl.deployed(appl.source_of(src_app))
        if version is None:
            if src_version is None:
                raise PromotionError(
                    f"{self.app_ref(source)} declares no model version (Helm value "
                    f"{appl.VERSION_PARAM}); give version explicitly"
                )
            version = src_version
        if image_tag is not None:
            image = image_tag
        elif version == src_version and src_image:
            image = src_image
        else:
            rec = hist.healthy_in(records, source, version)
            image = rec["image"] if rec else None
            if image is None:
                raise PromotionError(
                    f"version {version} is not what {source} runs (version {src_version}) and the history "
                    f"has no image for it in {source}: give image_tag, or promote version {src_version}"
                )
        ran_now = (version, image) == (src_version, src_image) and appl.runs_healthy(src_app)
        ran_before = (hist.healthy_in(records, source, version) or {}).get("image") == image
        if not (ran_now or ran_before):
            state = appl.status_summary(src_app)
            why = (
                f"{source} runs version {src_version} (image {src_image}), sync {state['sync']}, "
                f"health {state['health']}"
            )
            if not force:
                raise PromotionError(
                    f"version {version} (image {image}) has not run healthy in {source}: {why}. "
                    "Wait until it "
                    f"is Synced and Healthy in {source}, or set force: true to promote it anyway"
                )
            notes.append(
                f"force: promoting version {version} although it has not run healthy in {source} ({why})"
            )
        return version, image, notes

    def promote(
        self,
        source: str | None,
        target: str,
        version: str | None = None,
        image_tag: str | None = None,
        force: bool = False,
    ) -> Outcome:
        check_step(source, target, self.s.environments)
        version = check_version(version)
        image_tag = check_image_tag(image_tag)
        records, warnings = self.read_history()[:2]
        tgt_app = self.get_app(target)
        version, image, notes = self._resolve(source, target, version, image_tag, force, records)
        prev_version, prev_image = appl.deployed(appl.source_of(tgt_app))
        out = self._outcome(
            "promote", source, target, (version, image), (prev_version, prev_image), warnings + notes
        )
        deploy = (prev_version, prev_image) != (version, image)
        started = None if deploy else hist.unfinished(records, target, version, image)
        if started is not None:  # a promotion of this version was cut off after its patch
            out.previous_version, out.previous_image = started["previous_version"], started["previous_image"]
        return self._carry_out(out, tgt_app, records, deploy=deploy, resume=started is not None)

    def _outcome(
        self, operation: str, source, target: str, wanted: tuple, deployed: tuple, warnings: list
    ) -> Outcome:
        """The Outcome of moving `target` from its `deployed` (version, image) to the `wanted` one."""
        (version, image), (prev_version, prev_image) = wanted, deployed
        alias = self.alias_name(target) if self.s.update_alias else None
        return Outcome(
            operation=operation,
            source=source,
            target=target,
            version=version,
            image=image,
            previous_version=prev_version,
            previous_image=prev_image,
            warnings=warnings,
            alias=alias,
        )

    def _carry_out(self, out: Outcome, app: dict, records: list[dict], *, deploy: bool, resume: bool = False):
        """The end of a promotion or rollback: diff and changed, then the dry run, or deploy and alias."""
        target, version, image = out.target, out.version, out.image
        alias_now, alias_move = self.alias_state(target, version)
        out.alias_previous_version = alias_now
        out.diff = self._diff(target, (out.previous_version, out.previous_image, alias_now), (version, image))
        out.deploy_changed, out.alias_changed = deploy or resume, alias_move
        out.changed = out.deploy_changed or alias_move
        out.history = records
        if not out.changed:
            return out
        if self.check_mode:
            if deploy:
                patch = appl.deploy_patch(app, appl.with_version(appl.parameters_of(app), version, image))
                self.patch_app(target, patch, dry_run=True)
            return out
        if deploy or resume:
            out.record, out.history = self._deploy(app, out, resume=resume)
        if alias_move:
            self.move_alias(target, version, deployed_now=deploy)
            if not (deploy or resume):
                # Only the alias moved (the repair of a run whose alias move failed, or an alias moved
                # by hand): the history says so, as it does for every change a promotion makes.
                out.record = out.history_record(
                    "succeeded",
                    f"MLflow alias {self.alias_name(target)!r} moved to version {version} "
                    f"(it was {alias_now or 'unset'}); the deployment was already in place",
                )
                out.history = self.write_history(out.record)
        return out

    def _deploy(self, tgt_app: dict, out: Outcome, *, resume: bool = False):
        """Patch the target, wait, record; roll back on failure or on SIGINT/SIGTERM.

        A "started" record is written before the patch, so a run killed outright leaves a
        trace that the same promotion run again completes (`resume`: already patched).
        """
        operation, target, version, image = out.operation, out.target, out.version, out.image
        prev_version, prev_image = out.previous_version, out.previous_image
        prev_params = appl.parameters_of(tgt_app)

        record = out.history_record

        with interruptible() as signals:
            try:
                if not resume:
                    self.write_history(record("started", "patching the Application"))
                    patch = appl.deploy_patch(tgt_app, appl.with_version(prev_params, version, image))
                    self.patch_app(target, patch)
                if not self.s.wait:
                    rec = record("requested", "not waited for (wait: false)")
                    return rec, self.write_history(rec)
                state, app = self.wait_for(target, version, image)
            except Interrupted as e:
                signals.ignore()  # the rollback below must not be cut short
                return self._interrupted(record, target, tgt_app, prev_params, prev_version, prev_image, e)
        if state == "healthy":
            rec = record("succeeded")
            return rec, self.write_history(rec)
        what = (
            f"did not become Synced and Healthy within {self.s.wait_timeout:g}s"
            if state == "timeout"
            else "turned unhealthy"
        )
        detail = (
            f"{self.app_ref(target)} {what} on version {version} (image {image}): {appl.failure_detail(app)}"
        )
        # Roll back: the previous parameters exactly as they were (none = the role's values).
        self.patch_app(target, appl.deploy_patch(app, prev_params))
        back_state, back_app = self.wait_for(target, prev_version, prev_image)
        if back_state == "healthy":
            result = "rolled-back"
            tail = f"rolled back to version {prev_version} (image {prev_image}), Synced and Healthy again"
        else:
            result = "failed"
            tail = (
                f"the rollback to version {prev_version} (image {prev_image}) did not become healthy either: "
                f"{appl.failure_detail(back_app)}; {target} needs attention"
            )
        self.write_history(record(result, f"{detail}; {tail}"))
        raise PromotionError(
            f"{operation} of version {version} to {target} failed: {detail}. {tail}. "
            f"Recorded in {self.history_ref}.",
            kind="run",
        )

    def _interrupted(self, record, target, tgt_app, prev_params, prev_version, prev_image, signal_error):
        """Put the target back on its previous parameters (no wait) and record the interruption."""
        current = self.get_app(target)
        self.patch_app(target, appl.deploy_patch(current, prev_params))
        tail = (
            f"interrupted by {signal_error.signal_name}: {target} was put back on version {prev_version} "
            f"(image {prev_image})"
        )
        self.write_history(record("interrupted", tail))
        raise PromotionError(
            f"{tail}; recorded in {self.history_ref}. Run the same promotion again to complete it.",
            kind="run",
        )

    def rollback(self, environment: str) -> Outcome:
        check_known(environment, self.s.environments, "")
        records, warnings = self.read_history()[:2]
        app = self.get_app(environment)
        cur_version, cur_image = appl.deployed(appl.source_of(app))
        kind, rec = hist.rollback_target(records, environment, cur_version, cur_image)
        if kind is None:
            raise PromotionError(
                f"nothing to roll back in {environment}: {self.history_ref} records no earlier version "
                "for it "
                f"(it runs version {cur_version}, image {cur_image})"
            )
        if kind == "moved":
            raise PromotionError(
                f"{environment} runs version {cur_version} (image {cur_image}), which is neither the newest "
                f"promotion recorded for it (version {rec['version']}, image {rec['image']}) "
                "nor the one before; "
                "it was changed outside the promotion: promote the wanted version explicitly"
            )
        version, image = rec["previous_version"], rec["previous_image"]
        out = self._outcome(
            "rollback", None, environment, (version, image), (cur_version, cur_image), warnings
        )
        return self._carry_out(out, app, records, deploy=kind == "rollback")
