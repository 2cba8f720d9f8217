#!/usr/bin/python
# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: terraform_stack
short_description: Plan and apply (or destroy) a Terraform root, refusing to touch protected resources
version_added: "0.1.0"
description:
  - Runs C(init), selects the workspace, writes the variables to C(terraform_stack.auto.tfvars.json)
    (mode 0600, never on the command line), saves a plan and applies exactly that plan.
  - In check mode only the plan runs; the result carries a summary (counts and addresses of resources
    to add, change, destroy) and, with C(--diff), the plan text. Nothing is written into the project.
  - Before applying, a plan that would destroy or replace a resource listed in O(protect) fails with
    the addresses and changes nothing.
  - A second run with the same inputs reports C(changed=false) and returns the same outputs.
  - Terraform is driven through python-terraform (C(terraform) or C(tofu)).
author:
  - MLOps platform team (@mlops-platform)
extends_documentation_fragment:
  - mlops.platform.attributes
requirements:
  - python-terraform >= 0.10.1
  - terraform >= 1.10.0 or OpenTofu
options:
  backend:
    description:
      - Where the state lives. C(local) keeps C(terraform.tfstate) in the project.
      - Any other value (C(s3) for an S3-compatible object store) writes C(backend_override.tf.json)
        selecting that backend, and O(backend_config) into a private C(.terraform_stack.tfbackend) file.
      - For C(s3), C(use_lockfile=true) is added unless O(backend_config) sets it.
    type: str
    default: local
  backend_config:
    description:
      - Backend settings (bucket, key, region, endpoints, ...). Prefer credentials from the environment
        (C(AWS_ACCESS_KEY_ID), C(AWS_SECRET_ACCESS_KEY)) over this option.
    type: dict
    default: {}
  binary:
    description: Name or path of the Terraform binary (C(terraform) or C(tofu)).
    type: str
    default: terraform
  cloud:
    description:
      - Name of the cloud in clouds.yaml the root uses. When set, the module checks that a clouds.yaml
        defines it before running Terraform (naming the files searched), and reports rejected
        credentials with that name.
    type: str
  lock_timeout:
    description: How long to wait for the state lock (C(-lock-timeout)), such as C(0s) or C(5m).
    type: str
    default: 0s
  project_path:
    description: Directory of the Terraform root module.
    type: path
    required: true
  protect:
    description:
      - Resource addresses that must never be destroyed or replaced. An address also covers its
        instances (C(x.y[0])) and, for a module address, everything inside the module.
      - The default protects the data volume of C(terraform/data-volume). Pass an empty list to allow
        deleting it.
    type: list
    elements: str
    default: [openstack_blockstorage_volume_v3.this]
  sensitive_variables:
    description:
      - Input variables that are secrets, merged over O(variables) into the same 0600 file; Ansible
        never logs or returns them (C(no_log)).
    type: dict
    default: {}
  state:
    description: C(present) applies the root; C(absent) destroys everything in its state.
    type: str
    choices: [present, absent]
    default: present
  variables:
    description:
      - Input variables of the root, written to a 0600 C(terraform_stack.auto.tfvars.json) file.
      - With O(state=absent) and no variables, the file of the last run is used as it is.
    type: dict
    default: {}
  workspace:
    description: Terraform workspace, created when missing.
    type: str
    default: default
attributes:
  check_mode:
    details:
      - Runs C(plan) only and returns its summary.
  diff_mode:
    details:
      - The diff is Terraform's plan text.
notes:
  - "Errors name their cause: missing or too old binary, provider not installed, clouds.yaml missing
    or without the cloud, rejected credentials, state lock held (with the lock ID), quota exceeded
    (with the quota)."
"""

EXAMPLES = r"""
- name: Create the data volume in its own state
  mlops.platform.terraform_stack:
    project_path: "{{ playbook_dir }}/../terraform/data-volume"
    cloud: mlops
    variables:
      cloud: mlops
      name: mlops-data
      size: 100

- name: Preview the cluster
  mlops.platform.terraform_stack:
    project_path: "{{ playbook_dir }}/../terraform"
    cloud: mlops
    variables:
      cloud: mlops
      cluster_name: mlops
      image: Debian 12
      keypair:
        name: ops
      nodes:
        cp1:
          roles: [control_plane, etcd, worker]
          flavor: m1.xlarge
  check_mode: true

- name: Destroy a cluster kept in an S3-compatible bucket
  mlops.platform.terraform_stack:
    project_path: "{{ playbook_dir }}/../terraform"
    state: absent
    backend: s3
    backend_config:
      bucket: tfstate
      key: mlops/cluster.tfstate
      region: us-east-1
      endpoints:
        s3: https://object.example.org
      use_path_style: true
      skip_credentials_validation: true
"""

RETURN = r"""
outputs:
  description: The root's outputs as structured data (empty after a destroy).
  returned: always
  type: dict
  sample: {"floating_ip": "203.0.113.50", "api_endpoint": "https://203.0.113.50:6443"}
plan:
  description: What the plan does.
  returned: always
  type: dict
  contains:
    add:
      description: Number of resources to create (replacements included).
      type: int
    change:
      description: Number of resources updated in place.
      type: int
    destroy:
      description: Number of resources to delete (replacements included).
      type: int
    addresses:
      description: Addresses by action (add, change, destroy, replace).
      type: dict
    outputs_changed:
      description: Names of outputs whose value changes.
      type: list
      elements: str
    protected_at_risk:
      description: Protected addresses the plan would destroy or replace (empty on success).
      type: list
      elements: str
terraform_version:
  description: Version reported by the binary.
  returned: always
  type: str
  sample: 1.11.4
workspace:
  description: The workspace used.
  returned: always
  type: str
  sample: default
"""

from ansible_collections.mlops.platform.plugins.module_utils.module import run_module  # noqa: E402
from ansible_collections.mlops.platform.plugins.module_utils.terraform import stack as domain  # noqa: E402


def main():
    run_module(domain)


if __name__ == "__main__":
    main()
