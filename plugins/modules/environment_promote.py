#!/usr/bin/python
# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: environment_promote
short_description: Promote a model version from one environment to the next, or roll it back
description:
  - Moves the image tag and the MLflow model version that one environment of the model
    service runs (its ArgoCD Application) to the next environment in the configured
    order (for example staging -> canary -> production), and never skips one.
  - Refuses a version that has not run healthy (Synced and Healthy) in the source
    environment unless O(force=true). Reports C(changed=false) when the target already runs it.
  - Sets the Helm parameters C(image.tag) and C(model.version) of the target Application,
    asks ArgoCD for an immediate refresh (annotation C(argocd.argoproj.io/refresh)) and,
    with O(wait=true), waits for Synced and Healthy. When the target does not become
    healthy, it is rolled back to the version it ran before, and the module fails with
    what went wrong.
  - Records every promotion and rollback (time, from, to, version, image, previous version,
    result) in a bounded history in a ConfigMap; a history edited by hand into something
    unreadable is ignored with a warning and replaced on the next write.
  - Moves the MLflow registered-model alias named after the target environment to the
    version, so the registry and the deployment agree. If that fails after the deployment
    succeeded, the error says so and running the same task again completes it.
  - O(operation=rollback) returns O(target) to the version it ran before its newest
    recorded promotion; O(operation=history) reads the history back.
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
      - Reads everything and validates the Application change with the API server's dry run.
      - Writes nothing (no Application change, no history record, no MLflow alias move).
  diff_mode:
    details:
      - Shows the version, image and alias before and after.
options:
  alias_format:
    description:
      - Name of the MLflow alias that follows an environment; C({environment}) is replaced by its name.
    type: str
    default: "{environment}"
  application_format:
    description:
      - Name of the ArgoCD Application of an environment; C({environment}) is replaced by its name.
    type: str
    default: "model-service-{environment}"
  application_namespace:
    description:
      - Namespace of the ArgoCD Applications (where ArgoCD runs).
    type: str
    default: argocd
  environments:
    description:
      - All environments, in promotion order. A promotion goes from one to the next.
    type: list
    elements: str
    required: true
  force:
    description:
      - Promote even if the version has not run healthy in the source environment.
    type: bool
    default: false
  history_name:
    description:
      - Name of the ConfigMap holding the promotion history.
    type: str
    default: mlops-promotion-history
  history_namespace:
    description:
      - Namespace of the history ConfigMap.
    type: str
    default: argocd
  history_size:
    description:
      - Number of records the history keeps (the oldest are dropped).
    type: int
    default: 50
  image_tag:
    description:
      - Image tag to deploy. By default the tag the source environment runs (or ran) with O(version).
      - Required, with O(version), when O(target) is the first environment and O(source) is not given.
    type: str
  mlflow_timeout:
    description:
      - Timeout in seconds of each MLflow REST call.
    type: float
    default: 10.0
  mlflow_token:
    description:
      - Bearer token for the MLflow tracking server, if it requires one.
    type: str
  mlflow_tracking_uri:
    description:
      - URL of the MLflow tracking server. Required when O(update_alias=true).
    type: str
  mlflow_validate_certs:
    description:
      - Verify the TLS certificate of the MLflow server.
    type: bool
    default: true
  model_name:
    description:
      - MLflow registered model whose alias follows the environments. Required when O(update_alias=true).
    type: str
  operation:
    description:
      - V(promote) moves a version from O(source) to O(target).
      - V(rollback) returns O(target) to its previous version, from the history.
      - V(history) returns the history (of O(target) only, when given); changes nothing.
    type: str
    default: promote
    choices: [promote, rollback, history]
  source:
    description:
      - Environment the version comes from. Omit it only to deploy O(version) and O(image_tag)
        into the first environment.
    type: str
    aliases: [from]
  target:
    description:
      - Environment to promote to (or to roll back, or whose history to read).
    type: str
    aliases: [to, environment]
  update_alias:
    description:
      - Move the MLflow alias named after O(target) to the version.
    type: bool
    default: true
  version:
    description:
      - MLflow model version (a positive integer) to promote. By default the version the source runs.
    type: str
  wait:
    description:
      - Wait for the target to be Synced and Healthy on the new version (and roll back if it is not).
      - Without waiting, the history records the promotion as C(requested).
  wait_timeout:
    description:
      - Seconds to wait for the target to become healthy before rolling back.
notes:
  - The environments stage sets the initial image and version in the Application's Helm values;
    promotions set Helm parameters with their own field manager (mlops-platform-promotion), so
    re-running the stage does not undo a promotion.
seealso:
  - module: mlops.platform.argocd_application
"""

EXAMPLES = r"""
- name: Promote what staging runs to canary
  mlops.platform.environment_promote:
    environments: [staging, canary, production]
    source: staging
    target: canary
    model_name: bird-classifier
    mlflow_tracking_uri: http://mlflow.platform.svc:5000

- name: Promote version 7 from canary to production, waiting at most 10 minutes
  mlops.platform.environment_promote:
    environments: [staging, canary, production]
    source: canary
    target: production
    version: "7"
    wait_timeout: 600
    model_name: bird-classifier
    mlflow_tracking_uri: http://mlflow.platform.svc:5000

- name: Deploy a newly built image into the first environment
  mlops.platform.environment_promote:
    environments: [staging, canary, production]
    target: staging
    version: "8"
    image_tag: "8"
    update_alias: false

- name: Return canary to its previous version
  mlops.platform.environment_promote:
    environments: [staging, canary, production]
    operation: rollback
    target: canary
    model_name: bird-classifier
    mlflow_tracking_uri: http://mlflow.platform.svc:5000

- name: Read the promotion history of production
  mlops.platform.environment_promote:
    environments: [staging, canary, production]
    operation: history
    target: production
"""

RETURN = r"""
operation:
  description: What was done (promote, rollback or history).
  returned: always
  type: str
  sample: promote
source:
  description: Source environment.
  returned: always
  type: str
  sample: staging
target:
  description: Target environment.
  returned: always
  type: str
  sample: canary
version:
  description: Model version the target runs now (or would run, in check mode).
  returned: always
  type: str
  sample: "7"
image:
  description: Image tag the target runs now (or would run).
  returned: always
  type: str
  sample: "7"
previous_version:
  description: Model version the target ran before.
  returned: always
  type: str
  sample: "6"
previous_image:
  description: Image tag the target ran before.
  returned: always
  type: str
  sample: "6"
deploy_changed:
  description: Whether the target Application was (or would be) changed.
  returned: always
  type: bool
alias:
  description: Name of the MLflow alias kept in step (null when O(update_alias=false)).
  returned: always
  type: str
  sample: canary
alias_previous_version:
  description: Version the alias pointed to before (null if unset).
  returned: always
  type: str
  sample: "6"
alias_changed:
  description: Whether the MLflow alias was (or would be) moved.
  returned: always
  type: bool
record:
  description: The history record written by this run (null when nothing was deployed).
  returned: always
  type: dict
  sample: {"time": "2026-11-22T23:00:00Z", "operation": "promote", "from": "staging", "to": "canary",
           "version": "7", "image": "7", "previous_version": "6", "previous_image": "6",
           "result": "succeeded", "message": ""}
history:
  description:
    - The promotion history, oldest first.
    - With O(operation=history) and O(target), only the records of O(target).
  returned: always
  type: list
  elements: dict
"""

from ansible_collections.mlops.platform.plugins.module_utils.module import run_module  # noqa: E402
from ansible_collections.mlops.platform.plugins.module_utils.promotion import runner as domain  # noqa: E402


def main():
    run_module(domain)


if __name__ == "__main__":
    main()
