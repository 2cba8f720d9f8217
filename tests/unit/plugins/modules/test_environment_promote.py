# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""environment_promote and workflow_submit as Ansible runs them: documentation, argument
spec, and bad inputs refused before any request (the kubeconfig points at a closed port,
so a request would show up as a connection error instead of the expected message).

Their behaviour against a cluster is in tests/integration/environments/.
"""

from __future__ import annotations

import importlib
import json
import socket

import pytest
import yaml
from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes
from ansible_collections.mlops.platform.plugins.module_utils.kube import KUBE_ARGSPEC
from ansible_collections.mlops.platform.plugins.module_utils.workflows.submit import (
    WorkflowError,
    build_workflow,
    check_parameters,
    summarize,
)

MODULES = {
    "environment_promote": "ansible_collections.mlops.platform.plugins.module_utils.promotion.runner",
    "workflow_submit": "ansible_collections.mlops.platform.plugins.module_utils.workflows.runner",
}


@pytest.mark.parametrize("name", list(MODULES))
def test_documentation_matches_argument_spec(name, rendered_doc):
    mod = importlib.import_module(f"ansible_collections.mlops.platform.plugins.modules.{name}")
    options = importlib.import_module(MODULES[name]).OPTIONS
    own = yaml.safe_load(mod.DOCUMENTATION)["options"]
    assert list(own) == sorted(own), "options must be sorted"
    doc = rendered_doc(name)
    documented = {k: v for k, v in doc["options"].items() if k not in KUBE_ARGSPEC}
    assert sorted(documented) == sorted(options)
    assert not set(options) & set(KUBE_ARGSPEC), "connection options come from the shared argspec"
    assert "mlops.platform.kube" in doc["fragments"]
    for option, arg in options.items():
        assert documented[option]["type"] == arg["type"], option
        assert documented[option].get("default") == arg.get("default"), option
        assert documented[option].get("required", False) == arg.get("required", False), option
        assert documented[option].get("choices") == arg.get("choices"), option
        assert documented[option].get("aliases") == arg.get("aliases"), option
        assert documented[option].get("elements") == arg.get("elements"), option
    assert doc["attributes"]["check_mode"]["support"] == "full"
    for task in yaml.safe_load(mod.EXAMPLES):
        assert any(k.startswith("mlops.platform.") for k in task), task["name"]
    yaml.safe_load(mod.RETURN)


def test_secret_options_are_no_log():
    from ansible_collections.mlops.platform.plugins.module_utils.promotion.runner import OPTIONS

    assert OPTIONS["mlflow_token"]["no_log"] is True


@pytest.fixture
def closed_kubeconfig(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    path = tmp_path / "kubeconfig"
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "c",
                "clusters": [
                    {
                        "name": "c",
                        "cluster": {"server": f"https://127.0.0.1:{port}", "insecure-skip-tls-verify": True},
                    }
                ],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
            }
        )
    )
    return str(path)


class Exit(Exception):
    def __init__(self, result):
        self.result = result


def run_module(name, args, monkeypatch):
    monkeypatch.setattr(basic, "_ANSIBLE_ARGS", to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args})))
    monkeypatch.setattr(
        basic.AnsibleModule, "exit_json", lambda self, **kw: (dummy for dummy in ()).throw(Exit(kw))
    )

    def fail(self, msg, **kw):
        raise Exit({"failed": True, "msg": msg, **kw})

    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail)
    mod = importlib.import_module(f"ansible_collections.mlops.platform.plugins.modules.{name}")
    with pytest.raises(Exit) as e:
        mod.main()
    return e.value.result


ENVS = ["staging", "canary", "production"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"source": "staging", "target": "production"}, "staging -> production would skip canary"),
        ({"source": "staging", "target": "qa"}, "unknown target environment 'qa'"),
        (
            {"source": "staging", "target": "canary", "version": "two"},
            "version 'two' is not an MLflow model version",
        ),
        (
            {"source": "staging", "target": "canary", "image_tag": "a b"},
            "image_tag 'a b' is not a valid image tag",
        ),
        ({"from": "canary", "to": "canary"}, "source and target are both 'canary'"),
        (
            {"source": "staging", "target": "canary", "update_alias": True, "model_name": "m"},
            "mlflow_tracking_uri is missing while update_alias is on",
        ),
        ({"source": "staging"}, "target is required for a promotion"),
        ({"operation": "rollback"}, "target is required for a rollback"),
        ({"source": "staging", "target": "canary", "history_size": 0}, "history_size 0 must be at least 1"),
        (
            {"source": "staging", "target": "canary", "application_format": "ms"},
            "must contain '{environment}'",
        ),
    ],
)
def test_bad_inputs_fail_before_any_request(args, message, closed_kubeconfig, monkeypatch):
    base = {"environments": ENVS, "kubeconfig": closed_kubeconfig, "update_alias": False}
    result = run_module("environment_promote", {**base, **args}, monkeypatch)
    assert result["failed"] is True
    assert message in result["msg"]
    assert "cannot reach the API server" not in result["msg"]


def test_a_request_to_the_closed_port_is_reported_as_such(closed_kubeconfig, monkeypatch):
    """The counter-check of the test above: a valid promotion does reach for the server."""
    result = run_module(
        "environment_promote",
        {
            "environments": ENVS,
            "kubeconfig": closed_kubeconfig,
            "update_alias": False,
            "source": "staging",
            "target": "canary",
        },
        monkeypatch,
    )
    assert "cannot reach the API server" in result["msg"]


def test_workflow_submit_bad_name_fails_before_any_request(closed_kubeconfig, monkeypatch):
    result = run_module(
        "workflow_submit",
        {"template": "train-model", "name": "Not_Valid", "kubeconfig": closed_kubeconfig},
        monkeypatch,
    )
    assert result["failed"] and "name 'Not_Valid' is not a valid Kubernetes object name" in result["msg"]


@pytest.mark.parametrize(
    ("name", "args", "field"),
    [
        ("workflow_submit", {"template": "train-model", "wait_timeout": -10}, "wait_timeout: -10.0"),
        ("workflow_submit", {"template": "train-model", "poll_interval": 0}, "poll_interval: 0.0"),
        (
            "generated_secret",
            {"secrets": [{"name": "s", "namespace": "n", "keys": [{"name": "k"}]}], "request_timeout": -1},
            "request_timeout: -1.0",
        ),
    ],
)
def test_a_timeout_not_above_zero_fails_naming_its_field(name, args, field, closed_kubeconfig, monkeypatch):
    """Issue 28: wait_timeout=-10 submitted a Workflow; request_timeout=-1 gave a traceback."""
    result = run_module(name, {**args, "kubeconfig": closed_kubeconfig}, monkeypatch)
    assert result["failed"] and result["error_kind"] == "input"
    assert result["msg"].startswith(field) and "above 0" in result["msg"]


TEMPLATE = {
    "metadata": {"name": "train-model", "namespace": "argo"},
    "spec": {"arguments": {"parameters": [{"name": "epochs", "value": "3"}, {"name": "dataset"}]}},
}


def test_parameters_are_checked_and_stringified():
    args = check_parameters(TEMPLATE, {"dataset": {"bucket": "b"}, "epochs": 5})
    assert args == [{"name": "dataset", "value": '{"bucket": "b"}'}, {"name": "epochs", "value": "5"}]
    with pytest.raises(WorkflowError, match="needs a value for parameter\\(s\\) dataset"):
        check_parameters(TEMPLATE, {})
    with pytest.raises(
        WorkflowError, match="has no parameter\\(s\\) lr; its parameters are: dataset, epochs"
    ):
        check_parameters(TEMPLATE, {"dataset": "d", "lr": 1})


def test_build_workflow_references_the_template():
    wf = build_workflow("train-model", "argo", [{"name": "epochs", "value": "5"}])
    assert wf["metadata"]["generateName"] == "train-model-"
    assert wf["spec"] == {
        "workflowTemplateRef": {"name": "train-model"},
        "arguments": {"parameters": [{"name": "epochs", "value": "5"}]},
    }
    assert build_workflow("t", "argo", [], name="fixed")["metadata"]["name"] == "fixed"


def test_summarize_prefers_global_outputs_and_lists_failed_steps():
    wf = {
        "metadata": {"name": "w", "namespace": "argo"},
        "status": {
            "phase": "Failed",
            "outputs": {"parameters": [{"name": "model-version", "value": "8"}]},
            "nodes": {
                "w": {"name": "w", "type": "Steps", "phase": "Failed"},
                "a": {
                    "name": "w.a",
                    "displayName": "train",
                    "type": "Pod",
                    "templateName": "train",
                    "phase": "Succeeded",
                    "startedAt": "1",
                    "outputs": {"parameters": [{"name": "model-version", "value": "7"}]},
                },
                "b": {
                    "name": "w.b",
                    "displayName": "eval",
                    "type": "Pod",
                    "templateName": "evaluate",
                    "phase": "Failed",
                    "startedAt": "2",
                    "message": "accuracy 0.41 < 0.8",
                },
            },
        },
    }
    s = summarize(wf)
    assert s["outputs"] == {"model-version": "8"}
    assert [st["name"] for st in s["steps"]] == ["train", "eval"]
    assert [st["message"] for st in s["failed_steps"]] == ["accuracy 0.41 < 0.8"]
