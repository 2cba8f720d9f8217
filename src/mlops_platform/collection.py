"""The collection's own Python code (plugins/module_utils), imported by the package.

The checkout is the collection `mlops.platform`. The package reuses its rules (an
environment's names, the promotion history, what an Application deploys) instead of
writing them again. Outside a playbook (mlopsctl), Ansible's own collection loader is
installed with the checkout's collections_path, so the collection is imported as
ansible-playbook imports it, metadata included (its inventory plugin loads in-process).
"""

from __future__ import annotations

import importlib
from types import ModuleType

from .config import find_root, init_collection_loader
from .errors import MlopsError

PACKAGE = "ansible_collections.mlops.platform"


def module_utils(name: str) -> ModuleType:
    """plugins/module_utils/<name> (dotted, e.g. "promotion.history") of the collection."""
    full = f"{PACKAGE}.plugins.module_utils.{name}"
    root = find_root()
    init_collection_loader(root)
    try:
        return importlib.import_module(full)
    except ModuleNotFoundError as e:
        if not (e.name or "").startswith("ansible_collections.mlops"):
            raise
        raise MlopsError(
            f"the collection mlops.platform is not on the collections_path of {root / 'ansible.cfg'} "
            "(.cache/collections links it to the checkout): run `make deps`"
        ) from e
