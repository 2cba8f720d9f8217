"""Alerts that act: the model service's PrometheusRule and the WorkflowEventBinding that retrains.

Both are accepted by the real CRDs (the Prometheus Operator's, from the kube-prometheus-stack
chart in ../shared/fixtures, and Argo Workflows v4.1.2's, from its install manifest), and the
references between them and the objects they name are checked: the rule selects the Service
the chart renders, the drift alert carries the labels the binding reads, and the binding
submits a template, with a parameter, that the workflows stage declares.
"""

from __future__ import annotations

import re

import pytest
import yaml
from environments_support import ROOT, ensure_namespace, install_crd
from test_chart import api, dry_run_create, render  # noqa: F401 (api: the chart's CRDs, installed together)

pytestmark = pytest.mark.controlplane
NAMESPACE = "model-service-staging"


@pytest.fixture(scope="module")
def alert_crds(api, crds, shared_fixtures):  # noqa: F811 (the fixture imported above)
    manifest = shared_fixtures / "manifests" / "argo-workflows-v4.1.2-install.yaml"
    for doc in yaml.safe_load_all(manifest.read_text()):
        if (
            doc
            and doc["kind"] == "CustomResourceDefinition"
            and doc["spec"]["names"]["kind"] == "WorkflowEventBinding"
        ):
            install_crd(crds, doc)
    ensure_namespace(crds, NAMESPACE)
    ensure_namespace(crds, "argo")
    return crds


def rule_and_service(*sets: str) -> tuple[dict, dict]:
    docs = render(*sets, namespace=NAMESPACE)
    rule = next(d for d in docs if d["kind"] == "PrometheusRule")
    service = next(d for d in docs if d["kind"] == "Service")
    return rule, service


def test_rules_are_accepted_and_select_the_rendered_service(alert_crds):
    rule, service = rule_and_service("environment=staging", "model.name=bird-classifier")
    dry_run_create(alert_crds, rule, NAMESPACE)
    rules = {r["alert"]: r for g in rule["spec"]["groups"] for r in g["rules"]}
    assert set(rules) == {"ModelServiceErrorRateHigh", "ModelServiceLatencyHigh", "ModelDriftHigh"}
    for r in rules.values():
        selectors = set(re.findall(r'service="([^"]+)"', r["expr"])) | set(
            re.findall(r'namespace="([^"]+)"', r["expr"])
        )
        assert selectors == {service["metadata"]["name"], NAMESPACE}, r["alert"]
        assert r["labels"]["environment"] == "staging" and r["labels"]["model"] == "bird-classifier"
    assert rules["ModelDriftHigh"]["labels"]["action"] == "retrain"
    assert "action" not in rules["ModelServiceErrorRateHigh"]["labels"]  # errors page, they do not retrain


def test_alerts_can_be_turned_off():
    assert "PrometheusRule" not in {d["kind"] for d in render("alerts.enabled=false", namespace=NAMESPACE)}


def test_retrain_binding_is_accepted_and_names_what_exists(alert_crds):
    binding = yaml.safe_load((ROOT / "roles/workflows/files/events/retrain-on-alert.yml").read_text())
    # Argo Workflows' schema for the binding; in a namespace of its own, as the workflows
    # stage may have declared the real one in argo.
    dry_run_create(alert_crds, binding, NAMESPACE)
    workflow_vars = yaml.safe_load((ROOT / "roles/workflows/vars/main.yml").read_text())
    submit = binding["spec"]["submit"]
    assert submit["workflowTemplateRef"]["name"] in workflow_vars["__workflows_templates"]
    declared = {p["name"] for p in workflow_vars["__workflows_parameters"]}
    for p in submit["arguments"]["parameters"]:
        assert p["name"] in declared, f"binding sets {p['name']}, train-model declares {sorted(declared)}"
    # The binding reads the alert's labels the drift rule sets.
    rule, _service = rule_and_service("model.name=bird-classifier")
    drift = next(r for g in rule["spec"]["groups"] for r in g["rules"] if r["alert"] == "ModelDriftHigh")
    for label in re.findall(r"commonLabels\.(\w+)", yaml.safe_dump(submit)):
        assert label in drift["labels"], (
            f"binding reads commonLabels.{label}, the drift alert has {sorted(drift['labels'])}"
        )
    assert (
        re.search(r'#\.labels\.action == "(\w+)"', binding["spec"]["event"]["selector"]).group(1)
        == drift["labels"]["action"]
    )
