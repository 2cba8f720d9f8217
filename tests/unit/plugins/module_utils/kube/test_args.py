"""The shared connection argspec and the doc fragment mlops.platform.kube describe the same options."""

from __future__ import annotations

import yaml
from ansible_collections.mlops.platform.plugins.doc_fragments.kube import ModuleDocFragment
from ansible_collections.mlops.platform.plugins.module_utils.kube.args import KUBE_ARGSPEC, kube_argspec

DOC = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]


def test_same_option_names():
    assert sorted(DOC) == sorted(KUBE_ARGSPEC)


def test_same_types_defaults_aliases():
    for name, spec in KUBE_ARGSPEC.items():
        doc = DOC[name]
        assert doc["type"] == spec["type"], name
        assert doc.get("default") == spec.get("default"), name
        assert sorted(doc.get("aliases", [])) == sorted(spec.get("aliases", [])), name
        assert doc["description"], name


def test_secret_option_is_no_log():
    assert KUBE_ARGSPEC["api_key"]["no_log"] is True


def test_kube_argspec_returns_a_copy():
    spec = kube_argspec(name={"type": "str"})
    spec["kubeconfig"]["type"] = "str"
    assert KUBE_ARGSPEC["kubeconfig"]["type"] == "path"
    assert "name" in spec and "name" not in KUBE_ARGSPEC


def test_wait_fragment_matches_the_wait_argspec():
    from ansible_collections.mlops.platform.plugins.doc_fragments.wait import ModuleDocFragment as Wait
    from ansible_collections.mlops.platform.plugins.module_utils.kube.args import WAIT_ARGSPEC, wait_argspec

    doc = yaml.safe_load(Wait.DOCUMENTATION)["options"]
    assert sorted(doc) == sorted(WAIT_ARGSPEC)
    for name, spec in WAIT_ARGSPEC.items():
        assert (doc[name]["type"], doc[name].get("default")) == (spec["type"], spec.get("default")), name
    assert wait_argspec(wait=False)["wait"]["default"] is False
    assert WAIT_ARGSPEC["wait"]["default"] is True
