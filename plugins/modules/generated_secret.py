#!/usr/bin/python
# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: generated_secret
short_description: Kubernetes Secrets whose values are generated once and kept
version_added: "0.1.0"
description:
  - Ensures a Secret holds the listed keys. A key that is missing gets a random value
    (O(keys[].length) characters from O(keys[].alphabet)); a key that exists keeps its value
    forever unless O(rotate=true). A new Secret is created create-only, so that two runs at once
    never overwrite each other's values (the second keeps the first one's).
    This is how the platform's credentials (MinIO, PostgreSQL,
    MLflow's database user, Grafana and Label Studio admins, the ArgoCD admin) are created
    once and stay in the cluster.
  - Values are never shown in results or diffs (only key names). With O(return_values=true)
    they are returned under C(secrets[].values) and the whole result is marked no_log.
  - O(bcrypt_copy) also writes the bcrypt hash of one key into another Secret (ArgoCD's
    C(argocd-secret) C(admin.password)); the hash is only recomputed when it no longer matches.
  - Several Secrets can be managed in one call with O(secrets).
author:
  - MLOps platform team (@mlops-platform)
extends_documentation_fragment:
  - mlops.platform.attributes
  - mlops.platform.kube
attributes:
  check_mode:
    details:
      - The API server validates the Secret with a dry run; nothing is stored.
  diff_mode:
    details:
      - Shows which keys are added or changed, never the values.
options:
  annotations:
    description: Annotations of the Secret.
    type: dict
    default: {}
  bcrypt_copy:
    description: Also store a bcrypt hash of one key in another Secret of the same namespace.
    type: dict
    suboptions: &bcrypt_copy_options  # the same in each element of O(secrets)
      from_key:
        description: The key of this Secret whose value is hashed.
        type: str
        required: true
      key:
        description: The key of the other Secret that receives the hash.
        type: str
        required: true
      mtime_key:
        description: A key of the other Secret that receives the time the hash was written.
        type: str
      secret:
        description: Name of the other Secret.
        type: str
        required: true
  fixed_data:
    description:
      - Keys with given (not generated) values, such as user names. Updated when they differ.
      - These values are not treated as secrets (they appear in logs); use O(keys) for secrets.
    type: dict
    default: {}
  keys:
    description: The keys to generate.
    type: list
    elements: dict
    default: []
    suboptions: &key_options  # the same in each element of O(secrets)
      alphabet:
        description: Characters to draw from.
        type: str
        default: alphanumeric
        choices: [alphanumeric, digits, hex, letters, symbols, urlsafe]
      length:
        description: Number of characters (8 to 4096).
        type: int
        default: 32
      name:
        description: The key.
        type: str
        required: true
  labels:
    description: Labels of the Secret (C(app.kubernetes.io/managed-by=mlops-platform) is always added).
    type: dict
    default: {}
  name:
    description: Name of the Secret. Required unless O(secrets) is given.
    type: str
  namespace:
    description: Namespace of the Secret. Required unless O(secrets) is given.
    type: str
  regenerate:
    description:
      - Keys that may get a new value when they have gone missing from the Secret.
      - A key whose value was generated before (recorded in the annotation
        C(mlops.platform/generated-keys)) and is missing now makes the module fail, naming the
        Secret and the key, because the apps still expect the old value. List the key here
        to generate a new one anyway (then update every app that uses it).
    type: list
    elements: str
    default: []
  return_values:
    description:
      - Return the values under C(secrets[].values). The task result is then marked no_log.
    type: bool
    default: false
  rotate:
    description: Generate new values for the keys in O(keys) even when they exist.
    type: bool
    default: false
  secrets:
    description:
      - Several Secrets in one call; each element takes the per-Secret options of this module.
        Options given at the top level act as defaults for every element.
    type: list
    elements: dict
    suboptions:
      annotations:
        description: As O(annotations).
        type: dict
      bcrypt_copy:
        description: As O(bcrypt_copy).
        type: dict
        suboptions: *bcrypt_copy_options
      fixed_data:
        description: As O(fixed_data).
        type: dict
      keys:
        description: As O(keys).
        type: list
        elements: dict
        suboptions: *key_options
      labels:
        description: As O(labels).
        type: dict
      name:
        description: Name of the Secret (required in each element).
        type: str
      namespace:
        description: As O(namespace).
        type: str
      regenerate:
        description: As O(regenerate).
        type: list
        elements: str
      return_values:
        description: As O(return_values).
        type: bool
      rotate:
        description: As O(rotate).
        type: bool
      state:
        description: As O(state).
        type: str
        choices: [present, absent]
  state:
    description: Whether the Secret should exist.
    type: str
    default: present
    choices: [present, absent]
notes:
  - Requires the C(bcrypt) Python package on the controller when O(bcrypt_copy) is used.
"""

EXAMPLES = r"""
- name: MinIO root credentials, generated once
  mlops.platform.generated_secret:
    name: minio-credentials
    namespace: platform
    fixed_data:
      root-user: admin
    keys:
      - name: root-password
        length: 40

- name: The ArgoCD admin password, and its bcrypt hash in argocd-secret
  mlops.platform.generated_secret:
    name: argocd-admin-credentials
    namespace: argocd
    fixed_data:
      username: admin
    keys:
      - name: password
    bcrypt_copy:
      secret: argocd-secret
      from_key: password
      key: admin.password
      mtime_key: admin.passwordMtime

- name: Read a generated password for a later task (result is no_log)
  mlops.platform.generated_secret:
    name: grafana-admin
    namespace: monitoring
    keys:
      - name: admin-password
    return_values: true
"""

RETURN = r"""
secrets:
  description: One entry per Secret, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    ref:
      description: C(Secret namespace/name).
      type: str
      sample: Secret platform/minio-credentials
    action:
      description: created, updated, unchanged, deleted or absent.
      type: str
    changed:
      description: Whether the Secret (or its bcrypt copy) changed.
      type: bool
    keys:
      description: The keys the Secret holds.
      type: list
      elements: str
      sample: [root-password, root-user]
    generated:
      description: The keys that received a new random value in this run.
      type: list
      elements: str
      sample: [root-password]
    values:
      description: The values by key. Only with O(return_values=true); the result is then no_log.
      type: dict
      returned: when return_values is true
    bcrypt_copy:
      description: What happened to the Secret receiving the hash.
      type: dict
      returned: when bcrypt_copy is set
api_requests:
  description: Number of Kubernetes API requests this run made.
  returned: always
  type: int
"""

from ansible_collections.mlops.platform.plugins.module_utils.module import run_module  # noqa: E402
from ansible_collections.mlops.platform.plugins.module_utils.secrets import generated as domain  # noqa: E402


def main():
    run_module(domain)


if __name__ == "__main__":
    main()
