#!/usr/bin/python
# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: argocd_project
short_description: Manage ArgoCD AppProjects that restrict sources, destinations and cluster-scoped kinds
version_added: "0.1.0"
description:
  - Creates, updates or deletes ArgoCD C(AppProject) objects through the Kubernetes API
    (server-side apply, field manager C(mlops-platform)).
  - A project lists the repositories its Applications may use, the namespaces they may deploy
    to and the cluster-scoped kinds they may create; an empty O(cluster_resources) denies all.
  - Several projects can be managed in one call with O(projects).
author:
  - MLOps platform team (@mlops-platform)
extends_documentation_fragment:
  - mlops.platform.attributes
  - mlops.platform.attributes.dry_run
  - mlops.platform.kube
options:
  cluster_resources:
    description: Cluster-scoped kinds the project's Applications may create (an allow list).
    type: list
    elements: dict
    default: []
    suboptions: &kinds  # KIND_SPEC, shared with namespace_resources_denied
      group:
        description: API group; empty for the core group.
        type: str
        default: ""
      kind:
        description: Kind, or C(*).
        type: str
        required: true
  description:
    description: Human-readable description.
    type: str
    default: ""
  destinations:
    description: Where the project's Applications may deploy. Required when O(state=present).
    type: list
    elements: dict
    default: []
    suboptions:
      namespace:
        description: Destination namespace (may contain C(*)).
        type: str
        required: true
      server:
        description: API server URL of the destination cluster.
        type: str
        default: https://kubernetes.default.svc
  labels:
    description: Labels of the AppProject.
    type: dict
    default: {}
  name:
    description: Name of the AppProject. Required unless O(projects) is given.
    type: str
  namespace:
    description: ArgoCD's namespace.
    type: str
    default: argocd
  namespace_resources_denied:
    description: Namespaced kinds the project's Applications may not create (a deny list).
    type: list
    elements: dict
    default: []
    suboptions: *kinds
  projects:
    description:
      - Several AppProjects in one call; each element takes the per-project options of this module.
        Options given at the top level act as defaults for every element.
    type: list
    elements: dict
  source_repos:
    description: Repository URLs (or patterns, C(*) for any) the project's Applications may use.
    type: list
    elements: str
    default: []
  state:
    description: Whether the AppProject should exist.
    type: str
    default: present
    choices: [present, absent]
"""

EXAMPLES = r"""
- name: Production may deploy only the service repository into its namespace
  mlops.platform.argocd_project:
    name: production
    description: Model services in production
    source_repos:
      - https://github.com/example/bird-classifier-iac.git
    destinations:
      - namespace: production

- name: The platform project may create namespaces
  mlops.platform.argocd_project:
    name: platform
    source_repos: ["*"]
    destinations:
      - namespace: platform
      - namespace: monitoring
    cluster_resources:
      - kind: Namespace
"""

RETURN = r"""
projects:
  description: One entry per AppProject, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    ref:
      description: C(AppProject namespace/name).
      type: str
      sample: AppProject argocd/staging
    action:
      description: created, updated, unchanged, deleted or absent.
      type: str
    changed:
      description: Whether this project changed.
      type: bool
    object:
      description: The AppProject as the API server returned it.
      type: dict
api_requests:
  description: Number of Kubernetes API requests this run made.
  returned: always
  type: int
"""

from ansible_collections.mlops.platform.plugins.module_utils.argocd import project as domain  # noqa: E402
from ansible_collections.mlops.platform.plugins.module_utils.module import run_module  # noqa: E402


def main():
    run_module(domain)


if __name__ == "__main__":
    main()
