"""workflow_submit against the real control plane with Argo Workflows' real (full) CRDs.

No workflow controller runs here (a workflow's steps are containers, and no container runs
on KWOK's nodes): `FakeWorkflowController` plays it, writing each new
Workflow's `.status` (phase, nodes with their outputs, workflow outputs) as the controller
reports a finished run. The test decides whether a run succeeds, fails in a step, or hangs.
"""

from __future__ import annotations

import time
import uuid

import pytest
from ansible_collections.mlops.platform.plugins.module_utils.workflows.submit import Submitter, WorkflowError
from environments_support import ROOT, StandInController, ensure_namespace, playbook, recap

WF = "/apis/argoproj.io/v1alpha1/namespaces/{ns}/workflows"
WFT = "/apis/argoproj.io/v1alpha1/namespaces/{ns}/workflowtemplates"

pytestmark = pytest.mark.controlplane


def train_template() -> dict:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "WorkflowTemplate",
        "metadata": {"name": "train-model"},
        "spec": {
            "entrypoint": "main",
            "arguments": {
                "parameters": [{"name": "model-name", "value": "bird-classifier"}, {"name": "epochs"}]
            },
            "templates": [
                {
                    "name": "main",
                    "steps": [
                        [{"name": "train", "template": "train"}],
                        [{"name": "register", "template": "register"}],
                    ],
                },
                {"name": "train", "container": {"image": "python:3.11", "command": ["python", "train.py"]}},
                {
                    "name": "register",
                    "container": {"image": "python:3.11", "command": ["python", "reg.py"]},
                    "outputs": {"parameters": [{"name": "model-version", "valueFrom": {"path": "/tmp/v"}}]},
                },
            ],
        },
    }


def node(wf, name, phase, template, message="", outputs=None, kind="Pod"):
    n = {
        "id": f"{wf}-{name}",
        "name": f"{wf}[0].{name}",
        "displayName": name,
        "type": kind,
        "templateName": template,
        "phase": phase,
        "startedAt": f"2026-11-22T23:00:0{len(name)}Z",
        "finishedAt": "2026-11-22T23:00:30Z",
    }
    if message:
        n["message"] = message
    if outputs:
        n["outputs"] = {"parameters": [{"name": k, "value": v} for k, v in outputs.items()]}
    return n


class FakeWorkflowController(StandInController):
    """Finishes every new Workflow of a namespace as `outcome` says: succeeded / failed / hang."""

    def __init__(self, kube, ns, outcome="succeeded", version="4"):
        super().__init__()
        self.kube, self.ns, self.outcome, self.version = kube, ns, outcome, version

    def status(self, name):
        root = {
            "id": name,
            "name": name,
            "displayName": name,
            "type": "Steps",
            "templateName": "main",
            "startedAt": "2026-11-22T23:00:00Z",
        }
        train_ok = node(name, "train", "Succeeded", "train")
        if self.outcome == "succeeded":
            reg = node(name, "register", "Succeeded", "register", outputs={"model-version": self.version})
            return {
                "phase": "Succeeded",
                "startedAt": "2026-11-22T23:00:00Z",
                "finishedAt": "2026-11-22T23:01:00Z",
                "nodes": {name: {**root, "phase": "Succeeded"}, train_ok["id"]: train_ok, reg["id"]: reg},
            }
        if self.outcome == "failed":
            bad = node(name, "train", "Failed", "train", message="OOMKilled (exit code 137)")
            return {
                "phase": "Failed",
                "message": "child 'train' failed",
                "startedAt": "2026-11-22T23:00:00Z",
                "finishedAt": "2026-11-22T23:01:00Z",
                "nodes": {name: {**root, "phase": "Failed"}, bad["id"]: bad},
            }
        running = node(name, "train", "Running", "train")
        return {
            "phase": "Running",
            "startedAt": "2026-11-22T23:00:00Z",
            "nodes": {name: {**root, "phase": "Running"}, running["id"]: running},
        }

    def tick(self):
        for wf in self.kube.request("GET", WF.format(ns=self.ns))["items"]:
            if not (wf.get("status") or {}).get("phase"):
                name = wf["metadata"]["name"]
                self.kube.request(
                    "PATCH",
                    WF.format(ns=self.ns) + "/" + name,
                    body={"status": self.status(name)},
                    content_type="application/merge-patch+json",
                )


@pytest.fixture
def argo(crds):
    ns = f"argo-{uuid.uuid4().hex[:6]}"
    ensure_namespace(crds, ns)
    crds.request("POST", WFT.format(ns=ns), body=train_template())
    return ns


def workflows(kube, ns):
    return kube.request("GET", WF.format(ns=ns))["items"]


def run(kube, ns, check=False, **kw):
    args = {
        "template": "train-model",
        "namespace": ns,
        "parameters": {"epochs": 5},
        "timeout": 10,
        "poll": 0.05,
    }
    args.update(kw)
    return Submitter(kube, check_mode=check).run(**args)


def test_successful_run_returns_the_new_model_version(crds, argo):
    with FakeWorkflowController(crds, argo, version="4"):
        out = run(crds, argo)
    wf = out["workflow"]
    assert out["changed"] and "failed" not in out
    assert wf["phase"] == "Succeeded" and wf["outputs"] == {"model-version": "4"}
    assert [s["name"] for s in wf["steps"]] == ["train", "register"]
    (created,) = workflows(crds, argo)
    assert created["spec"]["workflowTemplateRef"] == {"name": "train-model"}
    assert created["spec"]["arguments"]["parameters"] == [{"name": "epochs", "value": "5"}]
    assert created["metadata"]["name"].startswith("train-model-")


def test_failed_step_is_named_with_its_message(crds, argo):
    with FakeWorkflowController(crds, argo, outcome="failed"):
        out = run(crds, argo)
    assert out["failed"] is True
    assert "step train (template train) Failed: OOMKilled (exit code 137)" in out["msg"]
    assert out["workflow"]["failed_steps"][0]["name"] == "train"


def test_timeout_says_what_is_still_running(crds, argo):
    with FakeWorkflowController(crds, argo, outcome="hang"), pytest.raises(WorkflowError) as e:
        run(crds, argo, timeout=0.5)
    assert "did not finish within 0.5s (phase Running; running: train)" in str(e.value)


def test_check_mode_submits_nothing(crds, argo):
    out = run(crds, argo, check=True)
    assert out["changed"] is True
    assert workflows(crds, argo) == []


def test_named_run_is_not_submitted_twice(crds, argo):
    with FakeWorkflowController(crds, argo):
        first = run(crds, argo, name="train-once")
        second = run(crds, argo, name="train-once")
    assert first["changed"] and second["changed"] is False
    assert second["workflow"]["outputs"] == {"model-version": "4"}
    assert len(workflows(crds, argo)) == 1
    with pytest.raises(WorkflowError, match="already exists with other parameters"):
        run(crds, argo, name="train-once", parameters={"epochs": 9})


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        (
            {"parameters": {"epochs": 5, "learning-rate": 0.1}},
            "has no parameter(s) learning-rate; its parameters are: epochs, model-name",
        ),
        ({"parameters": {}}, "needs a value for parameter(s) epochs"),
        ({"template": "no-such-template"}, "WorkflowTemplate {ns}/no-such-template does not exist"),
        ({"name": "Bad_Name"}, "name 'Bad_Name' is not a valid Kubernetes object name"),
    ],
)
def test_bad_input_submits_nothing(crds, argo, kw, message):
    with pytest.raises(WorkflowError) as e:
        run(crds, argo, **kw)
    assert message.format(ns=argo) in str(e.value)
    assert workflows(crds, argo) == []


def test_train_playbook(crds, kubeconfig, argo):
    with FakeWorkflowController(crds, argo, version="6"):
        t0 = time.monotonic()
        out = playbook(
            kubeconfig, "train.yml", {"train_namespace": argo, "train_parameters": {"epochs": "3"}}
        )
    assert out.returncode == 0, out.stdout[-3000:]
    assert "Succeeded: model version 6." in " ".join(out.stdout.split())
    assert recap(out.stdout)["changed"] == 1
    assert time.monotonic() - t0 < 300


def submitted(crds, argo) -> str:
    return run(crds, argo, wait=False)["workflow"]["name"]


@pytest.mark.parametrize(
    ("outcome", "expected", "steps", "message"),
    [
        ("succeeded", "succeeded", [("train", "Succeeded"), ("register", "Succeeded")], ""),
        ("failed", "failed", [("train", "Failed")], "step train (template train) Failed: OOMKilled"),
        (
            "hang",
            "timeout",
            [("train", "Running")],
            "did not finish within the timeout (phase Running; running: train); it keeps running",
        ),
    ],
)
def test_train_follows_the_workflow_step_by_step(crds, argo, outcome, expected, steps, message):
    """What `mlopsctl train` prints and ends with (mlops_platform.training.follow)."""
    import threading

    from mlops_platform.training import follow

    seen = []
    with FakeWorkflowController(crds, argo, outcome=outcome, version="5"):
        name = submitted(crds, argo)
        followed = follow(crds, argo, name, timeout=3, poll=0.1, report=seen.append, cancel=threading.Event())
    assert followed.outcome == expected
    assert [(s["name"], s["phase"]) for s in seen] == steps
    if expected == "succeeded":
        assert followed.summary["outputs"] == {"model-version": "5"}
    else:
        assert message in followed.message


def test_sigterm_to_train_stops_the_workflow(crds, argo, kubeconfig, tmp_path):
    """SIGTERM (as Ctrl-C) while `mlopsctl train` follows: the Workflow is stopped as `argo stop`
    does (spec.shutdown: Stop; its exit handler still reports), and the follower ends canceled."""
    import signal
    import subprocess
    import sys

    script = tmp_path / "follow.py"
    script.write_text(
        "import pathlib, sys, threading\n"
        "from mlops_platform import status, training\n"
        "training.STOP_GRACE = 2\n"
        "kube = status.connect(pathlib.Path(sys.argv[1]))\n"
        "show = lambda s: print(s['name'], s['phase'], flush=True)\n"
        "out = training.follow(kube, sys.argv[2], sys.argv[3], timeout=60, poll=0.1, report=show,\n"
        "                      cancel=threading.Event())\n"
        "print(out.outcome, flush=True)\n"
    )
    with FakeWorkflowController(crds, argo, outcome="hang"):
        name = submitted(crds, argo)
        proc = subprocess.Popen(
            [sys.executable, str(script), kubeconfig, argo, name],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout.readline().split() == ["train", "Running"]
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert out.split() == ["canceled"]
    wf = crds.request("GET", WF.format(ns=argo) + "/" + name)
    assert wf["spec"]["shutdown"] == "Stop"
