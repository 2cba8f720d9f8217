# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""Argo Workflows: submit a Workflow from a WorkflowTemplate, wait, read outputs and failures.

- submit: WorkflowError, build_workflow (pure), check_parameters (pure), summarize (pure),
          Submitter(kube_client, ...).run(...)
- runner: run_module(module) for plugins/modules/workflow_submit.py
"""
