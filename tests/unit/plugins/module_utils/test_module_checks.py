"""build_module's check of mappings: the field ansible-core would not name (or would crash on)."""

from __future__ import annotations

from ansible_collections.mlops.platform.plugins.module_utils.module import mapping_problems

SPEC = {
    "sync_policy": {"type": "dict", "options": {"prune": {"type": "bool"}}},
    "helm_parameters": {"type": "list", "elements": "dict", "aliases": ["params"]},
    "labels": {"type": "dict"},
    "name": {"type": "str"},
}


def test_a_number_for_an_option_with_suboptions_names_the_field():
    assert mapping_problems(SPEC, {"sync_policy": 5}) == [
        "sync_policy: 5 is not allowed: give a mapping with keys prune"
    ]


def test_a_list_of_mappings_names_the_element_and_aliases_count():
    assert mapping_problems(SPEC, {"params": ["x", {"a": 1}]}) == [
        "helm_parameters[0]: 'x' is not allowed: give a mapping"
    ]


def test_good_values_and_key_value_strings_pass():
    assert mapping_problems(SPEC, {"sync_policy": {"prune": True}, "labels": "a=b", "name": 5}) == []
