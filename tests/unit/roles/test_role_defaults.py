"""Role defaults live once, in defaults/main.yml; meta/argument_specs.yml documents them.

Ansible takes a role's defaults from defaults/main.yml only: a `default:` in the argument
spec is shown by ansible-doc but never applied, so it can drift from what runs.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
ROLES = sorted(p.parent.parent.name for p in ROOT.glob("roles/*/meta/argument_specs.yml"))


def spec_options(role: str) -> dict[str, dict]:
    """Every top-level option of every entry point of the role."""
    specs = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())
    options: dict[str, dict] = {}
    for entry in specs["argument_specs"].values():
        options.update(entry.get("options") or {})
    return options


def defaults(role: str) -> dict:
    path = ROOT / "roles" / role / "defaults" / "main.yml"
    return (yaml.safe_load(path.read_text()) or {}) if path.exists() else {}


@pytest.mark.parametrize("role", ROLES)
def test_every_default_is_documented_in_the_argument_spec(role):
    undocumented = sorted(set(defaults(role)) - set(spec_options(role)))
    assert not undocumented, f"roles/{role}: defaults/main.yml sets {undocumented}, undocumented in the spec"


@pytest.mark.parametrize("role", ROLES)
def test_no_argument_spec_default_that_ansible_would_not_apply(role):
    values = defaults(role)
    wrong = {
        name: option["default"]
        for name, option in spec_options(role).items()
        if "default" in option and (name not in values or values[name] != option["default"])
    }
    assert not wrong, (
        f"roles/{role}: meta/argument_specs.yml documents defaults {wrong} that defaults/main.yml lacks "
        "(Ansible applies only defaults/main.yml): keep the default there and drop it from the spec"
    )
