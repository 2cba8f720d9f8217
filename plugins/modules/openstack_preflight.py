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
    support: full
    description: The module only reads.
  diff_mode:
    support: none
    description: Nothing changes, so there is nothing to diff.
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

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.mlops.platform.plugins.module_utils.config import infra  # noqa: E402
from ansible_collections.mlops.platform.plugins.module_utils.errors import PlatformError, fail_module  # noqa: E402
from ansible_collections.mlops.platform.plugins.module_utils.openstack import preflight  # noqa: E402

ARGUMENT_SPEC = dict(
    cloud_checks=dict(type="bool", default=True),
    config=dict(type="dict", required=True),
    data_volume_id=dict(type="str"),
)


def build_request(cfg: dict) -> preflight.Request:
    network = cfg.get("network") or {}
    fip = cfg.get("floating_ip") or {}
    kp = cfg.get("keypair") or {}
    return preflight.Request(
        cloud=cfg["cloud"],
        cluster_name=cfg["cluster_name"],
        image=cfg["image"],
        nodes=cfg["nodes"],
        keypair_name=kp["name"],
        keypair_create=bool(kp.get("public_key_file")),
        external_network=network.get("external_network"),
        existing_network=network.get("existing_network"),
        floating_ip_address=fip.get("address"),
        floating_ip_pool=fip.get("pool"),
        data_volume=cfg.get("data_volume") or {},
        security_group_rules=infra.ingress_rule_count(cfg),
    )


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    cfg = module.params["config"]
    try:
        infra.check(cfg)
        result = {
            "changed": False,
            "terraform_variables": infra.cluster_variables(cfg, module.params["data_volume_id"]),
            "data_volume_variables": infra.data_volume_variables(cfg) if cfg.get("data_volume") else {},
            "security_group_rules": infra.ingress_rule_count(cfg),
            "report": {},
        }
        if module.params["cloud_checks"]:
            conn = preflight.connect(cfg["cloud"])
            result["report"] = preflight.Preflight(conn, build_request(cfg)).run()
    except infra.ConfigError as e:
        fail_module(module, e, problems=[{"field": p.split(":", 1)[0], "message": p} for p in e.problems])
    except preflight.PreflightError as e:
        fail_module(module, e, problems=[{"field": p.field, "message": p.message} for p in e.problems])
    except PlatformError as e:
        fail_module(module, e)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
