#!/usr/bin/python
# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: workflow_submit
short_description: Submit an Argo Workflow from a WorkflowTemplate and wait for its outcome
description:
  - Creates a Workflow that references a WorkflowTemplate (C(spec.workflowTemplateRef)) with
    parameters, waits for it to finish (with a timeout) and returns its phase and output
    parameters, for example the new model version that C(train-model) registers in MLflow.
  - Parameters are checked against the template first; an unknown parameter or a missing one
    without a default is an error and nothing is submitted.
  - On failure, the module fails and names the failed step(s) with their messages.
  - Every run submits a new Workflow (changed) unless O(name) is given and that Workflow
    already exists with the same parameters; then it is waited for and reported, unchanged.
version_added: 0.1.0
author:
  - MLOps platform team (@mlops-platform)
extends_documentation_fragment:
  - mlops.platform.attributes
  - mlops.platform.kube
  - mlops.platform.wait
attributes:
  check_mode:
    details:
      - The Workflow is validated with the API server's dry run and not created.
  diff_mode:
    support: none
options:
  generate_name:
    description:
      - Prefix of the generated Workflow name. Default is the template name followed by C(-).
    type: str
  labels:
    description:
      - Extra labels on the Workflow.
    type: dict
    default: {}
  name:
    description:
      - Exact Workflow name. Makes the task idempotent (an existing Workflow of that name is not resubmitted).
    type: str
  namespace:
    description:
      - Namespace of the WorkflowTemplate and of the Workflow.
    type: str
    default: argo
  parameters:
    description:
      - Values of the template's parameters. Values that are not strings are sent as JSON.
    type: dict
    default: {}
  poll_interval:
    default: 5.0
  template:
    description:
      - Name of the WorkflowTemplate.
    type: str
    required: true
    aliases: [workflow_template]
  wait:
    description:
      - Wait until the Workflow has finished (Succeeded, Failed or Error).
  wait_timeout:
    description:
      - Seconds to wait before failing; the Workflow itself keeps running.
    default: 3600.0
seealso:
  - module: mlops.platform.environment_promote
"""

EXAMPLES = r"""
- name: Train a model and wait for the new version
  mlops.platform.workflow_submit:
    template: train-model
    namespace: argo
    parameters:
      model-name: bird-classifier
    wait_timeout: 7200

- name: Start an image build without waiting
  mlops.platform.workflow_submit:
    template: build-container-image
    parameters:
      model-version: "7"
    wait: false
"""

RETURN = r"""
workflow:
  description: Name of the Workflow.
  returned: always
  type: str
  sample: train-model-x7k2p
namespace:
  description: Namespace of the Workflow.
  returned: always
  type: str
  sample: argo
phase:
  description: Phase of the Workflow (Succeeded, Failed, Error; Pending/Running or null without wait).
  returned: always
  type: str
  sample: Succeeded
outputs:
  description:
    - Output parameters, by name.
    - The Workflow's global outputs; without any, the outputs of the steps that succeeded.
  returned: always
  type: dict
  sample: {"model-version": "7"}
steps:
  description: The steps (pods) of the Workflow with their phase, message and output parameters.
  returned: always
  type: list
  elements: dict
  sample: [{"name": "train", "template": "train", "phase": "Succeeded", "message": "", "outputs": {}}]
failed_steps:
  description: The steps that failed or errored (empty on success).
  returned: always
  type: list
  elements: dict
"""

from ansible_collections.mlops.platform.plugins.module_utils.module import run_module  # noqa: E402
from ansible_collections.mlops.platform.plugins.module_utils.workflows import runner as domain  # noqa: E402


def main():
    run_module(domain)


if __name__ == "__main__":
    main()
