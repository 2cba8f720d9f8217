#!/usr/bin/python
# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: release_manifest
short_description: Apply an upstream release manifest by server-side apply, with drift detection
version_added: "0.2.0"
description:
  - Applies every object of one or more release manifests (ArgoCD's or Argo Workflows'
    C(install.yaml)) with server-side apply through one API client, CRDs first, waiting
    until they are Established before the objects that follow.
  - Objects are read with one list call per kind and namespace holding several of them,
    and patched only when a field the manifest sets differs, so a run that changes
    nothing costs less than one API request per object.
  - An object counts as changed when a field the manifest sets differs in the cluster,
    so a hand edit (an image changed with C(kubectl set image)) is reported, shown with
    O(ignore:diff) and put back.
  - Check mode sends the patches as the API server's dry run, so C(mlopsctl plan) shows
    the same drift with a diff. Secret values never appear in diffs or results.
author:
  - MLOps platform team (@mlops-platform)
extends_documentation_fragment:
  - mlops.platform.attributes
  - mlops.platform.kube
attributes:
  check_mode:
    details:
      - The API server validates each patch with a dry run; nothing is stored.
  diff_mode:
    details:
      - Shows the fields that differ (Secret values hidden).
options:
  create_namespace:
    description: Create O(namespace) first when it does not exist.
    type: bool
    default: true
  definition:
    description:
      - Objects given inline (each with C(apiVersion), C(kind), C(metadata.name)), applied after
        the objects of O(src), with the same CRDs-first order, change detection and diff.
      - A role's own objects (RBAC, templates, namespaces) go through one task this way.
      - Like any option, it shows in the task's invocation (-vvv); give a Secret's values
        with C(no_log) on the task, or generate them with M(mlops.platform.generated_secret).
    type: list
    elements: dict
    default: []
  field_manager:
    description: The server-side apply field manager that owns the manifest's fields.
    type: str
    default: mlops-platform-install
  namespace:
    description: Namespace for the namespaced objects that name none.
    type: str
  src:
    description:
      - Paths or http(s) URLs of the manifests, applied in order.
      - At least one of O(src) and O(definition) is needed.
    type: list
    elements: str
    default: []
  state:
    description:
      - V(present) applies the objects; V(absent) deletes those that exist (the objects
        before their CRDs; the O(namespace) itself is kept).
    type: str
    choices: [present, absent]
    default: present
  wait_timeout:
    description: Seconds to wait for each CRD of the manifest to be Established.
    type: float
    default: 300.0
"""

EXAMPLES = r"""
- name: Install ArgoCD's pinned release
  mlops.platform.release_manifest:
    src: [/srv/manifests/argocd-v3.1.8-install.yaml]
    namespace: argocd

- name: Declare a role's own objects in one call
  mlops.platform.release_manifest:
    field_manager: mlops-platform
    definition:
      - {apiVersion: v1, kind: Namespace, metadata: {name: demo}}
      - {apiVersion: v1, kind: ConfigMap, metadata: {name: settings, namespace: demo}, data: {a: "1"}}
"""

RETURN = r"""
objects:
  description: One entry per object (the namespace first when created), without the objects themselves.
  returned: always
  type: list
  elements: dict
  contains:
    ref:
      description: C(Kind namespace/name).
      type: str
    action:
      description: created, updated, unchanged, deleted or absent.
      type: str
    changed:
      description: Whether the object changed (or would, in check mode).
      type: bool
counts:
  description: How many objects had each action.
  returned: always
  type: dict
  sample: {unchanged: 58, updated: 1}
api_requests:
  description: Number of Kubernetes API requests this run made.
  returned: always
  type: int
"""

from ansible_collections.mlops.platform.plugins.module_utils.kube import manifest as domain  # noqa: E402
from ansible_collections.mlops.platform.plugins.module_utils.module import run_module  # noqa: E402


def main():
    run_module(domain)


if __name__ == "__main__":
    main()
