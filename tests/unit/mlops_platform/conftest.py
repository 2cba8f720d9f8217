"""Fixtures of the mlops_platform unit tests: a tiny checkout to run real playbooks in."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

STAGED_PLAYBOOK = """\
---
- name: Gitops stage
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Write the marker
      ansible.builtin.copy:
        content: "{{ marker | default('one') }}\\n"
        dest: "{{ out_dir }}/marker"
        mode: "0644"
    - name: Never runs
      ansible.builtin.debug:
        msg: skipped
      when: false
- name: Platform stage (second play)
  hosts: localhost
  gather_facts: false
  tasks:
    - name: A failure that is ignored
      ansible.builtin.fail:
        msg: ignored
      ignore_errors: true
      when: fail_platform | default(false) | bool
    - name: Fail on request
      ansible.builtin.fail:
        msg: "boom: the platform stage failed"
      when: fail_platform | default(false) | bool
- name: Workflows stage
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Wait a long time
      ansible.builtin.pause:
        seconds: "{{ pause_seconds | default(0) }}"
      when: pause_seconds | default(0) | int > 0
"""


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A minimal checkout (site.yml, playbooks/, galaxy.yml, inventory/local) with real playbooks."""
    root = tmp_path / "checkout"
    (root / "playbooks").mkdir(parents=True)
    (root / "inventory" / "local" / "group_vars" / "all").mkdir(parents=True)
    (root / "galaxy.yml").write_text("namespace: mlops\nname: platform\nversion: 0.1.0\n")
    (root / "site.yml").write_text(STAGED_PLAYBOOK)
    for stage in ("gitops", "platform"):
        (root / "playbooks" / f"{stage}.yml").write_text(
            f"---\n- name: {stage.capitalize()} stage\n  hosts: localhost\n  gather_facts: false\n"
            f"  tasks:\n    - name: Say {stage}\n      ansible.builtin.debug:\n        msg: {stage}\n"
        )
    (root / "inventory" / "local" / "hosts.yml").write_text(
        "all:\n  hosts:\n    localhost:\n      ansible_connection: local\n"
        f"      ansible_python_interpreter: {sys.executable}\n"
    )
    (root / "inventory" / "local" / "group_vars" / "all" / "platform.yml").write_text(
        f"mlops_target: local\nmlops_cluster_name: unit\nout_dir: {root}\n"
        "infra_data_volume: {name: unit-data, size: 10}\n"
        "mlops_kubeconfig: \"{{ lookup('ansible.builtin.env', 'MLOPS_KUBECONFIG',"
        " default='/nonexistent') }}\"\n"
    )
    return root
