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


#: How the modules of the action group wait (doc fragment mlops.platform.wait); a module may
#: set its own defaults with wait_argspec(wait=False, ...).
WAIT_ARGSPEC: dict = {
    "poll_interval": {"type": "float", "default": 2.0},
    "wait": {"type": "bool", "default": True},
    "wait_timeout": {"type": "float", "default": 600.0},
}


def wait_argspec(**defaults) -> dict:
    """A fresh copy of the shared wait options, with a module's own defaults."""
    unknown = sorted(set(defaults) - set(WAIT_ARGSPEC))
    if unknown:
        raise ValueError(f"not wait options: {', '.join(unknown)}")
    spec = copy.deepcopy(WAIT_ARGSPEC)
    for name, value in defaults.items():
        spec[name]["default"] = value
    return spec
