#!/usr/bin/python
# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: openstack_preflight
short_description: Check the infra config and the OpenStack cloud before Terraform runs
version_added: "0.1.0"
description:
  - Validates the infra section of the platform config across fields (CIDRs parse and do not overlap,
    an odd number of etcd members, at least one control plane, unique node names, fixed IPs inside the
    subnet, admin CIDRs set) and derives the Terraform variables of C(terraform/) and
    C(terraform/data-volume) from it.
  - With O(cloud_checks=true), then checks the cloud with openstacksdk and fails with one report listing
    every problem, each naming the config field and the value found. The cloud in clouds.yaml
    authenticates; the image, flavors, external network, key pair, reserved floating IP and existing
    volume exist; the quotas (instances, cores, RAM, floating IPs, volumes, gigabytes, security groups
    and rules, ports) leave room for what the plan adds. Nodes that already exist add nothing.
  - Reads only; never changes the cloud.
author:
  - MLOps platform team (@mlops-platform)
extends_documentation_fragment:
  - mlops.platform.attributes
requirements:
  - openstacksdk >= 4.0
options:
  cloud_checks:
    description: Contact the cloud. C(false) only validates the config and derives the variables.
    type: bool
    default: true
  config:
    description:
      - The infra settings of platform.yml, keys without their C(infra_) prefix (cloud, image, ssh_user,
        nodes, network, admin_cidrs, ingress_cidrs, ingress_ports, keypair, floating_ip, data_volume,
        server_group_policy, terraform_backend) plus cluster_name, pod_cidr and service_cidr.
    type: dict
    required: true
  data_volume_id:
    description:
      - ID of the data volume (the output of C(terraform/data-volume)) to attach; put in the cluster
        variables.
    type: str
attributes:
  check_mode:
    details:
      - The module only reads.
  diff_mode:
    support: none
    details:
      - Nothing changes, so there is nothing to diff.
"""

EXAMPLES = r"""
- name: Validate the infra config only
  mlops.platform.openstack_preflight:
    cloud_checks: false
    config:
      cloud: mlops
      cluster_name: mlops
      image: Debian 12
      nodes:
        cp1:
          roles: [control_plane, etcd, worker]
          flavor: m1.xlarge
      network:
        external_network: public
      pod_cidr: 10.233.64.0/18
      service_cidr: 10.233.0.0/18
      admin_cidrs: [198.51.100.0/24]
      keypair:
        name: ops

- name: Check the cloud (credentials, named resources, quotas)
  mlops.platform.openstack_preflight:
    config: "{{ __infra_config }}"
"""

RETURN = r"""
terraform_variables:
  description: Variables of the cluster root C(terraform/).
  returned: always
  type: dict
data_volume_variables:
  description: Variables of C(terraform/data-volume) (empty when no data volume is configured).
  returned: always
  type: dict
security_group_rules:
  description: Number of security group rules the cluster needs.
  returned: always
  type: int
  sample: 5
report:
  description: What the cloud check found (empty without O(cloud_checks)).
  returned: always
  type: dict
  contains:
    existing_nodes:
      description: Nodes of this cluster that already exist (they need no quota).
      type: list
      elements: str
    needs:
      description: Quota name => amount the plan adds.
      type: dict
      sample: {"instances": 3, "cores": 20}
    quotas:
      description: Quota name => limit and used (-1 is unlimited).
      type: dict
    create_data_volume:
      description: Whether the data volume will be created.
      type: bool
problems:
  description: Each problem as C(field, message) on failure.
  returned: failure
  type: list
  elements: dict
"""

from ansible_collections.mlops.platform.plugins.module_utils.module import run_module  # noqa: E402
from ansible_collections.mlops.platform.plugins.module_utils.openstack import preflight as domain  # noqa: E402


def main():
    run_module(domain)


if __name__ == "__main__":
    main()
