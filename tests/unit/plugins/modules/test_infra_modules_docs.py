# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""terraform_stack and openstack_preflight: documented options match the argument specs."""

from __future__ import annotations

import importlib

import pytest
import yaml


@pytest.mark.parametrize("name", ["terraform_stack", "openstack_preflight"])
def test_documentation_matches_argument_spec(name, rendered_doc):
    mod = importlib.import_module(f"ansible_collections.mlops.platform.plugins.modules.{name}")
    doc = rendered_doc(name)
    documented = yaml.safe_load(mod.DOCUMENTATION)["options"]
    spec = mod.domain.ARGUMENT_SPEC
    assert sorted(documented) == sorted(spec)
    assert list(documented) == sorted(documented), "options must be sorted"
    for option, arg in spec.items():
        assert documented[option]["type"] == arg["type"], option
        assert documented[option].get("default") == arg.get("default"), option
        assert documented[option].get("required", False) == arg.get("required", False), option
        assert documented[option].get("choices") == arg.get("choices"), option
    assert doc["attributes"]["check_mode"]["support"] == "full"
    yaml.safe_load(mod.EXAMPLES)
    yaml.safe_load(mod.RETURN)


def test_secret_options_are_no_log():
    mod = importlib.import_module("ansible_collections.mlops.platform.plugins.modules.terraform_stack")
    assert mod.domain.ARGUMENT_SPEC["sensitive_variables"]["no_log"] is True
    assert mod.domain.ARGUMENT_SPEC["backend_config"]["no_log"] is True
