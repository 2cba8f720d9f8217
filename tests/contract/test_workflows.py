"""The model-lifecycle workflows against the environments they deploy to.

deploy-container-image patches an environment's Application, which the environments stage
declared. The tests take the WorkflowTemplates the workflows stage declared (OpenStack
target's config), fill in their parameters as Argo's controller would, and send the
patch to the API server holding those Applications as a dry run: the API server finds the
Application or not, and the patched Application must then deploy the build's version and
image, from the repository the build pushes to.

Argo's controller does not run here (it runs containers). `substitute` stands in for its
parameter substitution, of which these templates use only the plain `{{workflow.parameters.x}}`
and `{{inputs.parameters.x}}` forms; a reference to a parameter that is not declared fails.
"""

from __future__ import annotations

import re

import pytest
import yaml
from ansible_collections.mlops.platform.plugins.module_utils.kube import merge_patch
from ansible_collections.mlops.platform.plugins.module_utils.promotion.application import deployed, source_of

PARAMETER = re.compile(r"\{\{(workflow|inputs)\.parameters\.([A-Za-z0-9_-]+)\}\}")


def substitute(text: str, workflow: dict[str, str], inputs: dict[str, str]) -> str:
    def value(match: re.Match) -> str:
        scope = workflow if match[1] == "workflow" else inputs
        assert match[2] in scope, f"{match[0]}: no such {match[1]} parameter (declared: {sorted(scope)})"
        return scope[match[2]]

    return PARAMETER.sub(value, text)


@pytest.fixture(scope="session")
def workflow_templates(stages, kube, openstack_config) -> dict[str, dict]:
    ns = openstack_config.get("workflows_namespace", "argo")
    items = kube.request("GET", f"/apis/argoproj.io/v1alpha1/namespaces/{ns}/workflowtemplates")["items"]
    return {t["metadata"]["name"]: t for t in items}


def workflow_parameters(template: dict) -> dict[str, str]:
    return {p["name"]: p["value"] for p in template["spec"]["arguments"]["parameters"]}


def step(template: dict, name: str) -> dict:
    return next(t for t in template["spec"]["templates"] if t["name"] == name)


def test_workflows_deploy_to_the_environments_of_the_environments_stage(workflow_templates, environment_apps):
    params = workflow_parameters(workflow_templates["deploy-container-image"])
    assert sorted(params["environments"].split()) == sorted(environment_apps), (
        "deploy-container-image's environments differ from the environments stage's Applications"
    )
    build = step(workflow_templates["build-container-image"], "build")
    first = next(p for p in build["inputs"]["parameters"] if p["name"] == "environment")["value"]
    assert first in environment_apps, f"build-container-image deploys to {first!r}: not an environment"


def test_deploy_step_sets_what_the_environment_deploys(workflow_templates, environment_apps, kube):
    """The update-application step, for each environment: its patch reaches the environment's
    Application, which then deploys the build's model version and image tag (as a promotion
    reads them), from the image repository the build pushes to."""
    deploy = workflow_templates["deploy-container-image"]
    params = workflow_parameters(deploy)
    manifest = step(deploy, "update-application")["resource"]["manifest"]
    for env, app in sorted(environment_apps.items()):
        inputs = {"environment": env, "image-tag": f"{env}-7", "model-version": "7"}
        patch = yaml.safe_load(substitute(manifest, params, inputs))
        # The API server answers 404 when the patch names an Application that does not exist.
        patched = merge_patch(kube, patch, patch, action="dry-run patching", dry_run=True)
        assert patched["metadata"]["uid"] == app["metadata"]["uid"]
        assert deployed(source_of(patched)) == ("7", f"{env}-7"), f"{env}: it deploys another version"
        values = patched["spec"]["source"]["helm"]["valuesObject"]
        assert values["image"]["repository"] == params["image"], (
            f"{env}: the Application runs {values['image']['repository']}, the build pushes {params['image']}"
        )


@pytest.mark.parametrize("name", ["build-container-image", "deploy-container-image", "promote-model"])
def test_every_parameter_reference_is_declared(workflow_templates, name):
    """Each `{{workflow.parameters.x}}` the template uses is declared in its arguments; each
    `{{inputs.parameters.x}}` in the inputs of the step that uses it."""
    template = workflow_templates[name]
    params = workflow_parameters(template)
    for t in template["spec"]["templates"]:
        declared = {p["name"]: "x" for p in (t.get("inputs") or {}).get("parameters") or []}
        substitute(yaml.safe_dump(t), params, declared)
