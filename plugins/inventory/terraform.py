# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: terraform
short_description: Hosts and Kubespray groups from the platform's Terraform outputs
version_added: "0.1.0"
description:
  - Reads the C(inventory), C(floating_ip), C(api_endpoint) and C(data_volume) outputs of the cluster root
    (C(terraform/)), through C(terraform output) or straight from a state file, and builds the hosts.
  - Each host gets C(ansible_host) (the floating IP for the host that has it, else its private IP),
    C(ip), C(access_ip), C(ansible_user); hosts without the floating IP are reached through the one that
    has it (C(ansible_ssh_common_args) with C(ProxyJump)).
  - Groups are Kubespray's C(kube_control_plane), C(etcd), C(kube_node) and C(k8s_cluster).
  - The host carrying the data volume gets C(mlops_data_volume) (id, device); every host gets
    C(mlops_floating_ip) and C(mlops_api_endpoint).
  - The file must be named C(terraform.yml) or C(terraform.yaml), or end with C(.terraform.yml).
author:
  - MLOps platform team (@mlops-platform)
extends_documentation_fragment:
  - inventory_cache
options:
  plugin:
    description: Marks this file as a config of this plugin.
    type: str
    required: true
    choices: [mlops.platform.terraform]
  binary:
    description: Terraform binary (C(terraform) or C(tofu)) used with O(project_path).
    type: str
    default: terraform
  project_path:
    description:
      - The cluster's Terraform root; C(terraform output) is run there. Relative paths are relative to
        this inventory file.
      - Ignored when O(state_file) is set.
    type: str
  ssh_user:
    description: SSH user of every host; default the C(ssh_user) in the C(inventory) output.
    type: str
  state_file:
    description:
      - Read the outputs from this Terraform state file instead of running Terraform. Relative paths
        are relative to this inventory file.
    type: str
  workspace:
    description: Terraform workspace to read with O(project_path).
    type: str
    default: default
"""

EXAMPLES = r"""
# inventory/openstack/terraform.yml
plugin: mlops.platform.terraform
project_path: ../../terraform
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: .cache/inventory
"""

import os  # noqa: E402

from ansible.errors import AnsibleParserError  # noqa: E402
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable  # noqa: E402
from ansible_collections.mlops.platform.plugins.module_utils.errors import PlatformError  # noqa: E402
from ansible_collections.mlops.platform.plugins.module_utils.terraform.inventory import (  # noqa: E402
    build,
    outputs_from_state,
)


class InventoryModule(BaseInventoryPlugin, Cacheable):
    NAME = "mlops.platform.terraform"

    def verify_file(self, path):
        return super().verify_file(path) and os.path.basename(path).endswith(
            ("terraform.yml", "terraform.yaml")
        )

    def _read_outputs(self, base_dir):
        state_file = self.get_option("state_file")
        if state_file:
            return outputs_from_state(os.path.join(base_dir, os.path.expanduser(state_file)))
        project = self.get_option("project_path")
        if not project:
            raise AnsibleParserError(f"{self.NAME}: set project_path or state_file")
        from ansible_collections.mlops.platform.plugins.module_utils.terraform.cli import TerraformCli

        cli = TerraformCli(
            os.path.join(base_dir, os.path.expanduser(project)), binary=self.get_option("binary")
        )
        # TF_WORKSPACE reads the workspace without switching the project's selected one.
        saved = os.environ.get("TF_WORKSPACE")
        os.environ["TF_WORKSPACE"] = self.get_option("workspace")
        try:
            return cli.outputs()
        finally:
            if saved is None:
                os.environ.pop("TF_WORKSPACE", None)
            else:
                os.environ["TF_WORKSPACE"] = saved

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        base_dir = os.path.dirname(os.path.abspath(path))
        cache_key = self.get_cache_key(path)
        use_cache = self.get_option("cache") and cache
        outputs = None
        if use_cache:
            try:
                outputs = self._cache[cache_key]
            except KeyError:
                outputs = None
        try:
            if outputs is None:
                outputs = self._read_outputs(base_dir)
            if not outputs:
                # A fresh checkout: nothing applied yet. One warning, an empty inventory.
                self.display.warning(
                    f"{self.NAME}: no Terraform outputs yet ({path}): run playbooks/infra.yml"
                )
                return
            inv = build(outputs, ssh_user=self.get_option("ssh_user"))
        except PlatformError as e:
            raise AnsibleParserError(f"{self.NAME}: {e}") from e
        if self.get_option("cache"):
            self._cache[cache_key] = outputs

        for group in [*inv.groups, *inv.children]:
            self.inventory.add_group(group)
        for parent, kids in inv.children.items():
            for kid in kids:
                self.inventory.add_child(parent, kid)
        for name, hostvars in inv.hosts.items():
            self.inventory.add_host(name)
            for key, value in hostvars.items():
                self.inventory.set_variable(name, key, value)
        for group, hosts in inv.groups.items():
            for name in hosts:
                self.inventory.add_host(name, group=group)
        for key, value in inv.all_vars.items():
            self.inventory.set_variable("all", key, value)
