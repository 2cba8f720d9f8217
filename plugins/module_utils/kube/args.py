# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""The connection options every kube module shares (doc fragment mlops.platform.kube)."""

from __future__ import annotations

import copy

KUBE_ARGSPEC: dict = {
    "api_key": {"type": "str", "no_log": True},
    "ca_cert": {"type": "path", "aliases": ["ssl_ca_cert"]},
    "client_cert": {"type": "path", "aliases": ["cert_file"]},
    "client_key": {"type": "path", "aliases": ["key_file"], "no_log": False},
    "context": {"type": "str"},
    "host": {"type": "str"},
    "kubeconfig": {"type": "path"},
    "request_timeout": {"type": "float", "default": 30.0},
    "validate_certs": {"type": "bool", "aliases": ["verify_ssl"]},
}

CONNECTION_KEYS = frozenset(KUBE_ARGSPEC)


def kube_argspec(**extra) -> dict:
    """A fresh copy of the shared argspec merged with a module's own options."""
    spec = copy.deepcopy(KUBE_ARGSPEC)
    spec.update(extra)
    return spec
