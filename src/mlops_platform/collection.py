"""The collection's own Python code (plugins/module_utils), imported by the package.

The checkout is the collection `mlops.platform`. The package reuses its rules (an
environment's names, the promotion history, what an Application deploys) instead of
writing them again. When ansible's collection loader is not installed (mlopsctl outside
a playbook), the checkout is mounted as the namespace package
`ansible_collections.mlops.platform`, which is what the modules import themselves as.
"""

from __future__ import annotations

import importlib
import sys
import types
from types import ModuleType

from .config import find_root

PACKAGE = "ansible_collections.mlops.platform"


def _mount() -> None:
    import ansible_collections  # the namespace package of the `ansible` distribution

    mlops = sys.modules.get("ansible_collections.mlops")
    if mlops is None:
        mlops = types.ModuleType("ansible_collections.mlops")
        mlops.__path__ = []
        sys.modules[mlops.__name__] = mlops
        ansible_collections.mlops = mlops
    platform = types.ModuleType(PACKAGE)
    platform.__path__ = [str(find_root())]
    sys.modules[PACKAGE] = platform
    mlops.platform = platform


def module_utils(name: str) -> ModuleType:
    """plugins/module_utils/<name> (dotted, e.g. "promotion.history") of the collection."""
    full = f"{PACKAGE}.plugins.module_utils.{name}"
    try:
        return importlib.import_module(full)
    except ModuleNotFoundError as e:
        if not (e.name or "").startswith("ansible_collections.mlops"):
            raise
    _mount()
    return importlib.import_module(full)
