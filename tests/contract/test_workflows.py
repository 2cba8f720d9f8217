"""The model-lifecycle workflows against the environments they deploy to and the image policy.

The tests take the WorkflowTemplates the workflows stage declared (OpenStack target's config)
and fill in their parameters as Argo's controller would: the deploy step (the promote
playbook under the workflow's service account) finds the environments stage's Applications,
which run the image repository the build pushes to; every step's image is allowed by
roles/platform/files/image-policy.yml and pinned; no step installs anything when it runs.
The steps themselves run for real in the integration tier (tests/integration/workflows).

`substitute` stands in for Argo's parameter substitution, of which these templates use only
the plain `{{workflow.parameters.x}}` and `{{inputs.parameters.x}}` forms; a reference to a
parameter that is not declared fails.
"""

from __future__ import annotations

import re

import pytest
import yaml
from workflow_templates import step, substitute

from . import references as refs
from .conftest import count
from .image_policy import policy_for


@pytest.fixture(scope="session")
def workflow_templates(stages, kube, openstack_config) -> dict[str, dict]:
    ns = openstack_config.get("workflows_namespace", "argo")
    items = kube.request("GET", f"/apis/argoproj.io/v1alpha1/namespaces/{ns}/workflowtemplates")["items"]
    return {t["metadata"]["name"]: t for t in items}


def workflow_parameters(template: dict) -> dict[str, str]:
    return {p["name"]: p["value"] for p in template["spec"]["arguments"]["parameters"]}


def test_workflows_deploy_to_the_environments_of_the_environments_stage(workflow_templates, environment_apps):
    params = workflow_parameters(workflow_templates["deploy-container-image"])
    assert sorted(params["environments"].split()) == sorted(environment_apps), (
        "deploy-container-image's environments differ from the environments stage's Applications"
    )
    assert params["deploy-to"] in environment_apps, f"train-model deploys to {params['deploy-to']!r}"
    build = step(workflow_templates["build-container-image"], "build")
    first = next(p for p in build["inputs"]["parameters"] if p["name"] == "environment")["value"]
    assert first in environment_apps, f"build-container-image deploys to {first!r}: not an environment"


def test_deploy_step_promotes_the_environments_applications(workflow_templates, environment_apps, kube):
    """The deploy step runs mlops.platform.promote with the environments stage's names: each
    Application it will promote exists, in the namespace it reads, and runs the image
    repository the build pushes to."""
    deploy = workflow_templates["deploy-container-image"]
    params = workflow_parameters(deploy)
    script = step(deploy, "deploy")["script"]
    env = {
        e["name"]: substitute(e["value"], params, {}) for e in script["env"] if "{{workflow." in e["value"]
    }
    assert "mlops.platform.promote" in script["source"]
    for name, app in sorted(environment_apps.items()):
        path = f"/apis/argoproj.io/v1alpha1/namespaces/{env['ARGOCD_NAMESPACE']}/applications"
        found = kube.request("GET", f"{path}/{env['ENVIRONMENT_PREFIX']}-{name}", allow=(404,))
        assert found is not None, f"{name}: no Application {env['ENVIRONMENT_PREFIX']}-{name} to promote"
        assert found["metadata"]["uid"] == app["metadata"]["uid"]
        values = found["spec"]["source"]["helm"]["valuesObject"]
        assert values["image"]["repository"] == params["image"], (
            f"{name}: the Application runs {values['image']['repository']}, the build {params['image']}"
        )
        assert values["model"]["name"] == env["MODEL_NAME"], f"{name}: it serves another model"


def template_images(template: dict) -> list[tuple[str, str]]:
    """(ref, image) of every step of a WorkflowTemplate, its parameters substituted."""
    params = workflow_parameters(template)
    out = []
    for t in template["spec"]["templates"]:
        for kind in ("container", "script"):
            if t.get(kind):
                image = substitute(t[kind]["image"], params, {})
                out.append((f"WorkflowTemplate {template['metadata']['name']} step {t['name']}", image))
    return out


def test_every_workflow_image_is_allowed_by_the_policy(workflow_templates, platform):
    """Against the policy as it applies to the shipped platform: its own registry at the host the
    rendered registry app serves, so the steps' images come from the registry the platform runs."""
    policy = policy_for(platform["shipped"])
    pairs = [pair for template in workflow_templates.values() for pair in template_images(template)]
    problems, n = refs.check_image_refs(pairs, policy)
    count("workflow step images checked", n)
    assert n > 0 and not problems, "\n".join(map(str, problems))


def test_no_step_installs_anything_at_run_time(workflow_templates):
    """The steps run the images built for them (the application's, the platform's tools image,
    BuildKit's): none installs packages when it runs."""
    installs = re.compile(r"\b(pip|pip3|uv|apt-get|apt|apk|conda|npm)\s+(install|add)\b")
    found = [
        f"{name} step {t['name']}"
        for name, template in workflow_templates.items()
        for t in template["spec"]["templates"]
        if installs.search(yaml.safe_dump({k: t.get(k) for k in ("container", "script")}))
    ]
    assert not found, f"steps that install at run time: {found}"


@pytest.mark.parametrize(
    "name", ["train-model", "build-container-image", "deploy-container-image", "promote-model"]
)
def test_every_parameter_reference_is_declared(workflow_templates, name):
    """Each `{{workflow.parameters.x}}` the template uses is declared in its arguments; each
    `{{inputs.parameters.x}}` in the inputs of the step that uses it."""
    template = workflow_templates[name]
    params = workflow_parameters(template)
    for t in template["spec"]["templates"]:
        declared = {p["name"]: "x" for p in (t.get("inputs") or {}).get("parameters") or []}
        substitute(yaml.safe_dump(t), params, declared)


def test_the_build_pushes_with_the_platform_registrys_push_user(workflow_templates, kube, openstack_config):
    """The workflows' registry Secret is a docker config for the host the steps' images name, with
    the credentials the platform stage generated for its registry (compared, never printed)."""
    import base64
    import json

    params = workflow_parameters(workflow_templates["build-container-image"])
    ns = openstack_config.get("workflows_namespace", "argo")
    secret = kube.request("GET", f"/api/v1/namespaces/{ns}/secrets/{params['registry-secret']}")
    assert secret["type"] == "kubernetes.io/dockerconfigjson"
    auths = json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))["auths"]
    host = params["image"].split("/")[0]
    assert list(auths) == [host], f"credentials for {list(auths)}, the build pushes to {host}"
    push = kube.request("GET", "/api/v1/namespaces/platform/secrets/registry-push-credentials")["data"]
    given = base64.b64decode(auths[host]["auth"]).decode()
    expected = f"{base64.b64decode(push['username']).decode()}:{base64.b64decode(push['password']).decode()}"
    assert given == expected, "the workflows' registry credentials are not the registry's push user"
