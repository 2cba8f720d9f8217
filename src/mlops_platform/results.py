"""Typed results of the API: what a run did, and what the platform looks like now."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any


@dataclass
class Failure:
    """One task that failed (or a host that was unreachable)."""

    stage: str
    host: str
    task: str
    message: str
    #: "input" (bad option or configuration, nothing changed) or "run" (the platform side failed)
    kind: str = "run"


@dataclass
class Change:
    """One task that changed (or would change, in check mode) something."""

    stage: str
    host: str
    task: str
    diff: str = ""


@dataclass
class StageResult:
    """Accounting of one stage: wall time and task results, as in Ansible's recap."""

    name: str
    duration: float = 0.0
    tasks: int = 0
    ok: int = 0
    changed: int = 0
    failed: int = 0
    skipped: int = 0
    unreachable: int = 0
    interrupted: bool = False

    @property
    def status(self) -> str:
        if self.failed or self.unreachable:
            return "failed"
        if self.interrupted:
            return "interrupted"
        if self.changed:
            return "changed"
        return "ok" if self.ok else "skipped"


@dataclass
class RunResult:
    """What one playbook run did; `artifacts` holds its events, stdout and this result."""

    playbook: str
    status: str  # successful | failed | canceled | timeout
    rc: int
    artifacts: str
    check: bool = False
    duration: float = 0.0
    stages: list[StageResult] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    interrupted_stage: str | None = None
    #: What the run produced beyond its tasks (train: the Workflow's output parameters).
    outputs: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "successful" and self.rc == 0

    @property
    def changed(self) -> int:
        return sum(s.changed for s in self.stages)

    @property
    def exit_code(self) -> int:
        """The CLI's exit code: 0 ok, 2 when every failure is bad input or configuration, else 1."""
        if self.ok:
            return 0
        if self.failures and all(f.kind == "input" for f in self.failures):
            return 2
        return 1

    @property
    def failed(self) -> int:
        return sum(s.failed + s.unreachable for s in self.stages)

    def followed_by(self, outcome: str, summary: dict[str, Any], message: str) -> RunResult:
        """This run (which started something, e.g. a Workflow), ended as what it started ended:
        outcome succeeded | failed | timeout | canceled, with that thing's outputs and message."""
        status = {"succeeded": "successful", "failed": "failed"}.get(outcome, outcome)
        failures = list(self.failures)
        if outcome != "succeeded":
            failures.append(
                Failure(
                    self.stages[-1].name if self.stages else "train",
                    "localhost",
                    f"workflow {summary.get('name')}",
                    message,
                )
            )
        return replace(
            self,
            status=status,
            rc=0 if outcome == "succeeded" else 1,
            failures=failures,
            outputs=dict(summary.get("outputs") or {}),
            interrupted_stage=self.stages[-1].name if outcome == "canceled" and self.stages else None,
        )

    def stage(self, name: str) -> StageResult | None:
        return next((s for s in self.stages if s.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        data["changed"] = self.changed
        data["failed"] = self.failed
        data["exit_code"] = self.exit_code
        for stage, out in zip(self.stages, data["stages"], strict=True):
            out["status"] = stage.status
        return data


@dataclass
class ClusterInfo:
    """Whether the Kubernetes API answers, and which version it runs."""

    reachable: bool
    server: str = ""
    version: str = ""
    kubeconfig: str = ""
    error: str = ""


@dataclass
class ApplicationStatus:
    """An ArgoCD Application as ArgoCD reports it (sync/health are empty until it does)."""

    name: str
    namespace: str
    project: str = ""
    destination: str = ""
    sync: str = ""
    health: str = ""
    revision: str = ""


@dataclass
class EnvironmentStatus:
    """One environment (staging, canary, production): what runs there and its last promotion."""

    name: str
    application: str
    namespace: str = ""
    version: str = ""
    image: str = ""
    sync: str = ""
    health: str = ""
    last_promotion: dict[str, Any] | None = None


@dataclass
class WorkflowTemplateInfo:
    name: str
    namespace: str


@dataclass
class CredentialInfo:
    """A generated credential Secret: its name and key names, never its values."""

    app: str
    secret: str
    namespace: str
    keys: list[str] = field(default_factory=list)


@dataclass
class Status:
    """The live state of the platform, read without changing anything."""

    target: str
    inventory: str
    cluster: ClusterInfo
    infra: dict[str, Any] | None = None
    applications: list[ApplicationStatus] = field(default_factory=list)
    environments: list[EnvironmentStatus] = field(default_factory=list)
    workflow_templates: list[WorkflowTemplateInfo] = field(default_factory=list)
    credentials: list[CredentialInfo] = field(default_factory=list)
    #: The URLs an operator opens (urls.OperatorURL: name, url, note).
    urls: list[Any] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
