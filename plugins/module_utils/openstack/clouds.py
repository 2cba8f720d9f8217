# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""Find a cloud in clouds.yaml the way openstacksdk and the Terraform provider do."""

from __future__ import annotations

import os
from pathlib import Path

from ansible_collections.mlops.platform.plugins.module_utils.errors import InputError


class CloudsYamlError(InputError):
    """clouds.yaml is missing, unreadable, or does not name the cloud."""


def candidate_files(extra_dirs: list[str] | tuple[str, ...] = ()) -> list[Path]:
    """clouds.yaml locations in lookup order: $OS_CLIENT_CONFIG_FILE, extra dirs, cwd, user, system."""
    files: list[Path] = []
    env = os.environ.get("OS_CLIENT_CONFIG_FILE")
    if env:
        files.append(Path(env).expanduser())
    for d in [*extra_dirs, os.getcwd(), "~/.config/openstack", "/etc/openstack"]:
        path = Path(d).expanduser() / "clouds.yaml"
        if path not in files:
            files.append(path)
    return files


def find_cloud(cloud: str, extra_dirs: list[str] | tuple[str, ...] = ()) -> Path:
    """Return the clouds.yaml that defines `cloud`, or raise naming the files searched."""
    searched = candidate_files(extra_dirs)
    existing = [p for p in searched if p.is_file()]
    if not existing:
        raise CloudsYamlError(
            f"no clouds.yaml found (searched {', '.join(map(str, searched))}); download it from Horizon "
            "(Identity > Application Credentials) and put it in ~/.config/openstack/ "
            "or set OS_CLIENT_CONFIG_FILE"
        )
    import yaml  # PyYAML comes with ansible-core; imported here so the module imports without it

    known: list[str] = []
    for path in existing:
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError) as e:
            raise CloudsYamlError(f"{path} cannot be read as YAML: {e}") from e
        clouds = data.get("clouds") or {}
        if cloud in clouds:
            return path
        known.extend(f"{name} ({path})" for name in clouds)
    raise CloudsYamlError(
        f"cloud {cloud!r} is not in {', '.join(map(str, existing))}; "
        f"clouds defined: {', '.join(known) or 'none'}"
    )
