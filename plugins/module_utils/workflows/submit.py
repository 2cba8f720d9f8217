# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""Submit a Workflow that references a WorkflowTemplate, wait for it, report its outcome."""

from __future__ import annotations

import json
import re
import time

from ansible_collections.mlops.platform.plugins.module_utils import kube
from ansible_collections.mlops.platform.plugins.module_utils.errors import PlatformError

API = "argoproj.io/v1alpha1"
DONE = ("Succeeded", "Failed", "Error")
NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")


class WorkflowError(PlatformError):
    """A workflow could not be submitted, failed, or did not finish in time."""


def _value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (dict, list)):
        return json.dumps(v, sort_keys=True)
    return str(v)


def check_parameters(template: dict, parameters: dict) -> list[dict]:
    """The Workflow's arguments: only declared parameters; every one without a default given."""
    ref = f"WorkflowTemplate {template['metadata'].get('namespace')}/{template['metadata']['name']}"
    declared = {
        p.get("name"): p
        for p in ((template.get("spec") or {}).get("arguments") or {}).get("parameters") or []
    }
    unknown = sorted(set(parameters) - set(declared))
    if unknown:
        raise WorkflowError(
            f"{ref} has no parameter(s) {', '.join(unknown)}; its parameters are: "
            f"{', '.join(sorted(declared)) or 'none'}"
        )
    missing = sorted(
        n
        for n, p in declared.items()
        if n not in parameters and "value" not in p and "valueFrom" not in p and "default" not in p
    )
    if missing:
        raise WorkflowError(
            f"{ref} needs a value for parameter(s) {', '.join(missing)} (they have no default)"
        )
    return [{"name": k, "value": _value(v)} for k, v in sorted(parameters.items())]


def build_workflow(
    template: str,
    namespace: str,
    arguments: list[dict],
    *,
    name: str | None = None,
    generate_name: str | None = None,
    labels: dict | None = None,
) -> dict:
    meta: dict = {
        "namespace": namespace,
        "labels": {
            "workflows.argoproj.io/workflow-template": template,
            "app.kubernetes.io/managed-by": "mlops-platform",
            **(labels or {}),
        },
    }
    if name:
        meta["name"] = name
    else:
        meta["generateName"] = generate_name or f"{template}-"
    return {
        "apiVersion": API,
        "kind": "Workflow",
        "metadata": meta,
        "spec": {"workflowTemplateRef": {"name": template}, "arguments": {"parameters": arguments}},
    }


def _params(outputs: dict | None) -> dict:
    return {p["name"]: p.get("value") for p in (outputs or {}).get("parameters") or [] if p.get("name")}


def summarize(workflow: dict) -> dict:
    """Phase, message, output parameters and the steps of a Workflow, as a user reads them."""
    status = workflow.get("status") or {}
    nodes = status.get("nodes") or {}
    root = workflow["metadata"].get("name")
    steps = []
    for node in sorted(nodes.values(), key=lambda n: (n.get("startedAt") or "", n.get("id") or "")):
        if node.get("type") in ("Pod", "Container", "Suspend", "Skipped"):  # the steps that do the work
            steps.append(
                {
                    "name": node.get("displayName") or node.get("name"),
                    "template": node.get("templateName"),
                    "phase": node.get("phase"),
                    "message": node.get("message") or "",
                    "outputs": _params(node.get("outputs")),
                }
            )
    outputs = _params(status.get("outputs"))
    if not outputs:
        # Without workflow-level (global) outputs, the outputs of the steps that succeeded, latest last.
        for step in steps:
            if step["phase"] == "Succeeded":
                outputs.update(step["outputs"])
    failed = [s for s in steps if s["phase"] in ("Failed", "Error")]
    return {
        "name": root,
        "namespace": workflow["metadata"].get("namespace"),
        "phase": status.get("phase"),
        "message": status.get("message") or "",
        "outputs": outputs,
        "steps": steps,
        "failed_steps": failed,
        "started_at": status.get("startedAt"),
        "finished_at": status.get("finishedAt"),
    }


def step_changes(before: dict | None, after: dict) -> list[dict]:
    """The steps of summary `after` that are new, or in another phase, since summary `before`."""
    seen = {s["name"]: s["phase"] for s in (before or {}).get("steps") or []}
    return [s for s in after["steps"] if seen.get(s["name"]) != s["phase"]]


def failure_message(summary: dict) -> str:
    ref = f"Workflow {summary['namespace']}/{summary['name']}"
    if summary["failed_steps"]:
        parts = [
            f"step {s['name']} (template {s['template']}) {s['phase']}: {s['message'] or 'no message'}"
            for s in summary["failed_steps"]
        ]
        return f"{ref} {summary['phase']}: " + "; ".join(parts)
    return f"{ref} {summary['phase']}: {summary['message'] or 'no message from the workflow controller'}"


class Submitter:
    def __init__(self, kube, *, check_mode: bool = False, clock=time.monotonic, sleep=time.sleep):
        self.kube = kube
        self.check_mode = check_mode
        self.clock = clock
        self.sleep = sleep

    def get_template(self, namespace: str, name: str) -> dict:
        tpl = kube.get(self.kube, API, "WorkflowTemplate", name, namespace)
        if tpl is None:
            raise WorkflowError(
                f"WorkflowTemplate {namespace}/{name} does not exist: run playbooks/workflows.yml "
                "first, or check the template name and namespace"
            )
        return tpl

    def get_workflow(self, namespace: str, name: str) -> dict | None:
        return kube.get(self.kube, API, "Workflow", name, namespace)

    def wait(self, namespace: str, name: str, timeout: float, poll: float) -> dict:
        def fetch() -> dict:
            wf = self.get_workflow(namespace, name)
            if wf is None:
                raise WorkflowError(f"Workflow {namespace}/{name} disappeared while waiting for it")
            return wf

        try:
            return kube.wait_for(
                fetch,
                lambda wf: (wf.get("status") or {}).get("phase") in DONE,
                timeout=timeout,
                interval=poll,
                what=f"Workflow {namespace}/{name}",
                clock=self.clock,
                sleep=self.sleep,
            )
        except kube.WaitTimeout as e:
            s = summarize(e.last)
            running = [st["name"] for st in s["steps"] if st["phase"] in ("Running", "Pending")]
            raise WorkflowError(
                f"Workflow {namespace}/{name} did not finish within {timeout:g}s (phase "
                f"{s['phase'] or 'not started'}; running: {', '.join(running) or 'none'}). "
                "It keeps running; "
                "follow it in the Argo Workflows UI or wait longer (wait_timeout)"
            ) from e

    def run(
        self,
        *,
        template: str,
        namespace: str,
        parameters: dict,
        name: str | None = None,
        generate_name: str | None = None,
        labels: dict | None = None,
        wait: bool = True,
        timeout: float = 3600.0,
        poll: float = 5.0,
    ) -> dict:
        if name is not None and not NAME.match(name):
            raise WorkflowError(f"name {name!r} is not a valid Kubernetes object name")
        tpl = self.get_template(namespace, template)
        arguments = check_parameters(tpl, parameters or {})
        changed = True
        existing = self.get_workflow(namespace, name) if name else None
        if existing is not None:
            given = {
                p["name"]: p.get("value")
                for p in ((existing.get("spec") or {}).get("arguments") or {}).get("parameters") or []
            }
            if given != {a["name"]: a["value"] for a in arguments}:
                raise WorkflowError(
                    f"Workflow {namespace}/{name} already exists with other parameters ({given}); "
                    "choose another name or omit name to submit a new run"
                )
            changed, wf = False, existing
        else:
            body = build_workflow(
                template, namespace, arguments, name=name, generate_name=generate_name, labels=labels
            )
            wf = kube.create(self.kube, body, manager=None, dry_run=self.check_mode, action="submitting")
        if self.check_mode:
            return {"changed": changed, "workflow": summarize(wf)}
        wf_name = wf["metadata"]["name"]
        if wait:
            wf = self.wait(namespace, wf_name, timeout, poll)
        summary = summarize(wf)
        result = {"changed": changed, "workflow": summary}
        if wait and summary["phase"] != "Succeeded":
            result["failed"] = True
            result["msg"] = failure_message(summary)
        return result
