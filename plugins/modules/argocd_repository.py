#!/usr/bin/python
# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: argocd_repository
short_description: Manage ArgoCD repository and credential-template Secrets
version_added: "0.1.0"
description:
  - Writes a Secret labelled C(argocd.argoproj.io/secret-type=repository) (one repository) or
    C(repo-creds) (a credential template for every repository under a URL prefix), as ArgoCD's
    declarative setup expects; no C(argocd) CLI and no admin password needed.
  - Credentials (an HTTPS token as O(password), or an O(ssh_private_key)) are compared with what
    is stored through the API but never returned, logged or shown in a diff (only key names are).
  - Several Secrets can be managed in one call with O(repositories).
author:
  - MLOps platform team (@mlops-platform)
extends_documentation_fragment:
  - mlops.platform.attributes
  - mlops.platform.attributes.dry_run
  - mlops.platform.kube
attributes:
  diff_mode:
    details:
      - Shows the managed fields before and after, with Secret values hidden.
options:
  enable_oci:
    description: Mark a Helm repository as an OCI registry.
    type: bool
    default: false
  insecure:
    description: Skip TLS verification of the repository (not recommended).
    type: bool
    default: false
  kind:
    description: C(repository) for one repository, C(credential_template) for a URL prefix.
    type: str
    default: repository
    choices: [repository, credential_template]
  name:
    description: Name of the Secret. Required unless O(repositories) is given.
    type: str
  namespace:
    description: ArgoCD's namespace.
    type: str
    default: argocd
  password:
    description: Password or access token for an HTTPS URL.
    type: str
  project:
    description: Restrict the repository to one AppProject.
    type: str
  repo_name:
    description: Display name of the repository in ArgoCD.
    type: str
  repositories:
    description:
      - Several repository Secrets in one call; each element takes the per-repository options of this
        module. Options given at the top level act as defaults for every element.
    type: list
    elements: dict
    suboptions:
      enable_oci:
        description: As O(enable_oci).
        type: bool
      insecure:
        description: As O(insecure).
        type: bool
      kind:
        description: As O(kind).
        type: str
        choices: [repository, credential_template]
      name:
        description: Name of the Secret (required in each element).
        type: str
      namespace:
        description: As O(namespace).
        type: str
      password:
        description: As O(password).
        type: str
      project:
        description: As O(project).
        type: str
      repo_name:
        description: As O(repo_name).
        type: str
      ssh_private_key:
        description: As O(ssh_private_key).
        type: str
      state:
        description: As O(state).
        type: str
        choices: [present, absent]
      type:
        description: As O(type).
        type: str
        choices: [git, helm]
      url:
        description: As O(url) (required in each element with O(state=present)).
        type: str
      username:
        description: As O(username).
        type: str
  ssh_private_key:
    description: SSH private key (PEM or OpenSSH) for an SSH URL.
    type: str
  state:
    description: Whether the Secret should exist.
    type: str
    default: present
    choices: [present, absent]
  type:
    description: Repository type.
    type: str
    default: git
    choices: [git, helm]
  url:
    description:
      - Repository URL (or URL prefix for a credential template), C(https://), C(ssh://),
        C(git@host:path) or C(oci://). Required unless O(repositories) is given or O(state=absent).
    type: str
  username:
    description: User name for HTTPS (C(git) when only a token is given).
    type: str
"""

EXAMPLES = r"""
- name: The GitOps repository, read with a token
  mlops.platform.argocd_repository:
    name: repo-gitops
    url: https://github.com/example/bird-classifier-iac.git
    username: ci-bot
    password: "{{ vault_gitops_token }}"

- name: A credential template for every repository of an organisation, over SSH
  mlops.platform.argocd_repository:
    name: creds-example
    kind: credential_template
    url: git@github.com:example
    ssh_private_key: "{{ lookup('ansible.builtin.file', 'deploy_key') }}"
"""

RETURN = r"""
repositories:
  description: One entry per Secret, in the order given. Values are never returned.
  returned: always
  type: list
  elements: dict
  contains:
    ref:
      description: C(Secret namespace/name).
      type: str
      sample: Secret argocd/repo-gitops
    action:
      description: created, updated, unchanged, deleted or absent.
      type: str
    changed:
      description: Whether this Secret changed.
      type: bool
    keys:
      description: The keys the Secret holds (never their values).
      type: list
      elements: str
      sample: [password, type, url, username]
api_requests:
  description: Number of Kubernetes API requests this run made.
  returned: always
  type: int
"""

from ansible_collections.mlops.platform.plugins.module_utils.argocd import repository as domain  # noqa: E402
from ansible_collections.mlops.platform.plugins.module_utils.module import run_module  # noqa: E402


def main():
    run_module(domain)


if __name__ == "__main__":
    main()
