# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""The workflow_submit module's domain side: its options and run(params, check_mode) -> result."""

from __future__ import annotations

from ansible_collections.mlops.platform.plugins.module_utils.kube import KubeClient, kube_argspec
from ansible_collections.mlops.platform.plugins.module_utils.kube.args import wait_argspec
from ansible_collections.mlops.platform.plugins.module_utils.workflows.submit import Submitter

OPTIONS = dict(
    generate_name={"type": "str"},
    labels={"type": "dict", "default": {}},
    name={"type": "str"},
    namespace={"type": "str", "default": "argo"},
    parameters={"type": "dict", "default": {}},
    template={"type": "str", "required": True, "aliases": ["workflow_template"]},
    **wait_argspec(poll_interval=5.0, wait_timeout=3600.0),
)


def run(params: dict, check_mode: bool) -> dict:
    """Submit (or find) the Workflow and wait where asked; a failed Workflow is a failed result."""
    p = params
    submitter = Submitter(KubeClient.from_params(p), check_mode=check_mode)
    result = submitter.run(
        template=p["template"],
        namespace=p["namespace"],
        parameters=p["parameters"],
        name=p.get("name"),
        generate_name=p.get("generate_name"),
        labels=p["labels"],
        wait=p["wait"],
        timeout=p["wait_timeout"],
        poll=p["poll_interval"],
    )
    wf = result.pop("workflow")
    result.update(
        workflow=wf["name"],
        namespace=wf["namespace"],
        phase=wf["phase"],
        outputs=wf["outputs"],
        steps=wf["steps"],
        failed_steps=wf["failed_steps"],
    )
    return result


ARGUMENT_SPEC = kube_argspec(**OPTIONS)
MODULE_RULES = {"supports_check_mode": True}
