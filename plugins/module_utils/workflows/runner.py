# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""The body of the workflow_submit module."""

from __future__ import annotations

from ansible_collections.mlops.platform.plugins.module_utils.errors import PlatformError, fail_module
from ansible_collections.mlops.platform.plugins.module_utils.kube import KubeClient
from ansible_collections.mlops.platform.plugins.module_utils.workflows.submit import Submitter

OPTIONS = dict(
    generate_name={"type": "str"},
    labels={"type": "dict", "default": {}},
    name={"type": "str"},
    namespace={"type": "str", "default": "argo"},
    parameters={"type": "dict", "default": {}},
    poll_interval={"type": "float", "default": 5.0},
    template={"type": "str", "required": True, "aliases": ["workflow_template"]},
    wait={"type": "bool", "default": True},
    wait_timeout={"type": "float", "default": 3600.0},
)


def run_module(module) -> None:
    p = module.params
    try:
        submitter = Submitter(KubeClient.from_params(p), check_mode=module.check_mode)
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
    except PlatformError as e:
        fail_module(module, e)
    wf = result.pop("workflow")
    result.update(
        workflow=wf["name"],
        namespace=wf["namespace"],
        phase=wf["phase"],
        outputs=wf["outputs"],
        steps=wf["steps"],
        failed_steps=wf["failed_steps"],
    )
    if result.get("failed"):
        module.fail_json(**result)
    module.exit_json(**result)
