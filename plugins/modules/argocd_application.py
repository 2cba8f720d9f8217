#!/usr/bin/python
# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: argocd_application
short_description: Manage ArgoCD Applications declaratively through the Kubernetes API
version_added: "0.1.0"
description:
  - Creates, updates or deletes ArgoCD C(Application) objects from high-level options
    (a Git path or a Helm chart pinned by version, Helm values and parameters, Kustomize images,
    destination, sync policy, sync wave, cascade-delete finalizer).
  - Objects are written by server-side apply with the field manager C(mlops-platform); only the
    fields this module sets are compared, so status written by ArgoCD never counts as a change.
  - Several Applications can be managed in one call with O(applications), which is how the
    platform stages use it (one task per kind, one API client).
  - With O(wait), it sets ArgoCD's refresh annotation and polls C(.status) until the
    Application is Synced (and Healthy), failing early on Degraded with the resources that are
    not healthy and their messages.
author:
  - MLOps platform team (@mlops-platform)
extends_documentation_fragment:
  - mlops.platform.attributes
  - mlops.platform.attributes.dry_run
  - mlops.platform.kube
  - mlops.platform.wait
options:
  annotations:
    description: Extra annotations of the Application.
    type: dict
    default: {}
  applications:
    description:
      - Several Applications in one call. Each element takes the per-Application options of this
        module (O(name), O(repo_url), O(chart), O(chart_version), O(path), O(destination_namespace), ...).
      - Options given at the top level act as defaults for every element.
      - Two elements with the same O(namespace)/O(name) are an error, raised before anything changes.
    type: list
    elements: dict
  cascade_delete:
    description:
      - Add ArgoCD's C(resources-finalizer.argocd.argoproj.io) finalizer, so deleting the
        Application also deletes the resources it deployed.
    type: bool
    default: true
  chart:
    description:
      - Name of a Helm chart in the Helm repository O(repo_url). Requires O(chart_version).
      - Mutually exclusive with O(path).
    type: str
  chart_version:
    description: The chart version to install (charts are always pinned).
    type: str
  destination_namespace:
    description: Namespace the Application deploys into. Required when O(state=present).
    type: str
  destination_server:
    description: API server URL of the destination cluster.
    type: str
    default: https://kubernetes.default.svc
  helm_parameters:
    description: Helm parameters (C(--set)).
    type: list
    elements: dict
    default: []
    suboptions:
      force_string:
        description: Pass the value as a string (C(--set-string)).
        type: bool
        default: false
      name:
        description: Parameter name, for example C(auth.existingSecret).
        type: str
        required: true
      value:
        description: Parameter value.
        type: str
        required: true
  helm_release_name:
    description: Helm release name; the Application name when omitted.
    type: str
  helm_value_files:
    description: Values files inside the chart or repository.
    type: list
    elements: str
    default: []
  helm_values:
    description:
      - Helm values, as a mapping or as YAML text of one. Stored as C(valuesObject).
    type: raw
  kustomize_images:
    description: Kustomize image overrides such as C(ghcr.io/org/app=ghcr.io/org/app:v2) (Git sources only).
    type: list
    elements: str
    default: []
  labels:
    description: Labels of the Application.
    type: dict
    default: {}
  name:
    description: Name of the Application. Required unless O(applications) is given.
    type: str
  namespace:
    description: Namespace ArgoCD watches for Applications.
    type: str
    default: argocd
  path:
    description: Directory in the Git repository O(repo_url). Mutually exclusive with O(chart).
    type: str
  project:
    description: The AppProject the Application belongs to.
    type: str
    default: default
  repo_url:
    description:
      - Git or Helm repository URL (C(https://), C(ssh://), C(git@host:path) or C(oci://)).
      - Required unless O(applications) is given or O(state=absent).
    type: str
  revision:
    description: Git revision (branch, tag, commit) for O(path) sources.
    type: str
  state:
    description: Whether the Application should exist.
    type: str
    default: present
    choices: [present, absent]
  sync_options:
    description: Extra ArgoCD sync options, for example C(PruneLast=true).
    type: list
    elements: str
    default: []
  sync_policy:
    description: How ArgoCD syncs the Application.
    type: dict
    default: {}
    suboptions:
      automated:
        description: Sync automatically when the source changes.
        type: bool
        default: true
      create_namespace:
        description: Let ArgoCD create the destination namespace.
        type: bool
        default: true
      prune:
        description: Delete resources that are no longer in the source.
        type: bool
        default: true
      retry_backoff_duration:
        description: First retry delay.
        type: str
        default: 5s
      retry_backoff_factor:
        description: Factor applied to the delay after each retry.
        type: int
        default: 2
      retry_backoff_max_duration:
        description: Longest retry delay.
        type: str
        default: 3m
      retry_limit:
        description: How many times a failed sync is retried; C(0) disables retries.
        type: int
        default: 5
      self_heal:
        description: Revert changes made to the live resources.
        type: bool
        default: true
      server_side_apply:
        description: Sync with server-side apply (needed for large CRDs such as kube-prometheus-stack's).
        type: bool
        default: false
  sync_wave:
    description: ArgoCD sync wave; lower waves sync first (storage before databases before MLflow).
    type: int
  wait:
    description:
      - Wait until each Application meets O(wait_condition). Not done in check mode.
    default: false
  wait_condition:
    description:
      - C(synced) waits until the Application is Synced; C(healthy) until it is Synced and Healthy.
    type: str
    default: healthy
    choices: [synced, healthy]
  wait_timeout:
    description: Seconds to wait; on timeout the error lists the Applications and resources not ready.
    default: 300.0
"""

EXAMPLES = r"""
- name: MinIO from its Helm chart, pinned
  mlops.platform.argocd_application:
    name: minio
    project: platform
    repo_url: https://charts.bitnami.com/bitnami
    chart: minio
    chart_version: 14.8.5
    destination_namespace: platform
    sync_wave: 0
    helm_values:
      auth:
        existingSecret: minio-credentials

- name: A model service from a Git path with a new image, waiting until it is healthy
  mlops.platform.argocd_application:
    name: bird-classifier-staging
    project: staging
    repo_url: https://github.com/example/bird-classifier-iac.git
    path: k8s/staging
    kustomize_images:
      - registry.example.com/bird-classifier=registry.example.com/bird-classifier:staging-1.4.0
    destination_namespace: staging
    wait: true
    wait_timeout: 600

- name: Several Applications in one call
  mlops.platform.argocd_application:
    project: platform
    destination_namespace: platform
    applications:
      - name: postgresql
        repo_url: https://charts.bitnami.com/bitnami
        chart: postgresql
        chart_version: 16.4.3
        sync_wave: 1
      - name: mlflow
        repo_url: https://community-charts.github.io/helm-charts
        chart: mlflow
        chart_version: 0.17.2
        sync_wave: 2

- name: Remove an Application and what it deployed
  mlops.platform.argocd_application:
    name: label-studio
    state: absent
"""

RETURN = r"""
applications:
  description: One entry per Application, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    ref:
      description: C(Application namespace/name).
      type: str
      sample: Application argocd/minio
    action:
      description: created, updated, unchanged, deleted or absent.
      type: str
      sample: created
    changed:
      description: Whether this Application changed.
      type: bool
    object:
      description: The Application as the API server returned it (after a wait, with its status).
      type: dict
    status:
      description: Sync, health and last operation phase, when O(wait) was used.
      type: dict
      returned: when waited
      sample: {"sync": "Synced", "health": "Healthy", "operation": "Succeeded"}
api_requests:
  description: Number of Kubernetes API requests this run made.
  returned: always
  type: int
  sample: 6
"""

from ansible_collections.mlops.platform.plugins.module_utils.argocd import application as domain  # noqa: E402
from ansible_collections.mlops.platform.plugins.module_utils.module import run_module  # noqa: E402


def main():
    run_module(domain)


if __name__ == "__main__":
    main()
