"""Where things are: the checkout (the collection root), the inventory, its variables."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import EXIT_BAD_INPUT, MlopsError

DEFAULT_INVENTORY = "inventory/local"
_plugin_loader_ready = False


def _is_root(path: Path) -> bool:
    return (path / "site.yml").is_file() and (path / "playbooks").is_dir() and (path / "galaxy.yml").is_file()


def find_root(start: str | os.PathLike | None = None) -> Path:
    """The checkout to run: MLOPS_ROOT, else the first parent of `start` (cwd) holding
    site.yml + playbooks/ + galaxy.yml, else the checkout this package is installed from."""
    env = os.environ.get("MLOPS_ROOT")
    if env:
        root = Path(env).expanduser().resolve()
        if not _is_root(root):
            raise MlopsError(
                f"MLOPS_ROOT={env} is not a checkout of the platform (no site.yml/playbooks/galaxy.yml)"
            )
        return root
    here = Path(start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if _is_root(candidate):
            return candidate
    package_root = Path(__file__).resolve().parents[2]
    if _is_root(package_root):
        return package_root
    raise MlopsError(
        "cannot find the platform checkout: run mlopsctl inside it or set MLOPS_ROOT to its path",
        exit_code=EXIT_BAD_INPUT,
    )


def resolve_inventory(root: Path, inventory: str | os.PathLike | None) -> Path:
    """An inventory path (relative to the cwd or the checkout); default MLOPS_INVENTORY or inventory/local."""
    name = inventory or os.environ.get("MLOPS_INVENTORY")
    if not name:  # the default is the checkout's own, wherever mlopsctl runs from
        name, candidates = DEFAULT_INVENTORY, [root / DEFAULT_INVENTORY]
    elif Path(name).expanduser().is_absolute():
        candidates = [Path(name).expanduser()]
    else:  # as typed: relative to the cwd, else to the checkout
        candidates = [Path.cwd() / name, root / name]
    for path in candidates:
        if path.exists():
            return path.resolve()
    known = (
        ", ".join(sorted(p.name for p in (root / "inventory").iterdir() if p.is_dir()))
        if (root / "inventory").is_dir()
        else "none"
    )
    raise MlopsError(f"inventory {name} does not exist (inventories in {root / 'inventory'}: {known})")


@contextlib.contextmanager
def _environ(env: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def init_collection_loader(root: Path) -> None:
    """Ansible's collection loader, installed once per process with the checkout's
    collections_path (which holds the checkout as mlops.platform), as ansible-playbook does."""
    global _plugin_loader_ready
    if _plugin_loader_ready:
        return
    with _environ({"ANSIBLE_CONFIG": os.environ.get("ANSIBLE_CONFIG", str(root / "ansible.cfg"))}):
        from ansible import constants as C
        from ansible.plugins.loader import init_plugin_loader
        from ansible.utils.collection_loader import AnsibleCollectionConfig

        if AnsibleCollectionConfig.collection_finder is None:  # else a playbook or test installed it
            init_plugin_loader(C.COLLECTIONS_PATHS)
    _plugin_loader_ready = True


def inventory_vars(
    root: Path, inventory: Path, names: list[str], env: dict[str, str] | None = None, host: str = "localhost"
) -> dict[str, Any]:
    """The templated values of `names` for `host`, as a playbook run would see them.

    Read in-process with Ansible's own inventory and variable managers; nothing runs
    on any host. Unknown names are left out of the result.
    """
    with _environ(
        {"ANSIBLE_CONFIG": os.environ.get("ANSIBLE_CONFIG", str(root / "ansible.cfg")), **(env or {})}
    ):
        try:
            from ansible.errors import AnsibleError
            from ansible.inventory.manager import InventoryManager
            from ansible.parsing.dataloader import DataLoader
            from ansible.template import Templar
            from ansible.vars.manager import VariableManager
        except ImportError as e:  # pragma: no cover - ansible-core is a dependency
            raise MlopsError(f"ansible-core is not importable ({e}): run `make deps`") from e
        try:
            init_collection_loader(root)
            loader = DataLoader()
            loader.set_basedir(str(root))
            manager = InventoryManager(loader=loader, sources=[str(inventory)])
            variables = VariableManager(loader=loader, inventory=manager)
            target = manager.get_host(host) or next(iter(manager.get_hosts()), None)
            if target is None:
                raise MlopsError(f"inventory {inventory} has no hosts")
            hostvars = variables.get_vars(host=target)
            templar = Templar(loader=loader, variables=hostvars)
            return {name: templar.template(hostvars[name]) for name in names if name in hostvars}
        except AnsibleError as e:
            raise MlopsError(f"cannot read inventory {inventory}: {e}") from e
