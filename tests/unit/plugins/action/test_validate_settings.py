"""validate_settings: the ranges written in a role's argument spec, checked with field names."""

from __future__ import annotations

import pytest
from ansible_collections.mlops.platform.plugins.action.validate_settings import check, constraint

OPTIONS = {
    "timeout": {"type": "int", "description": "Seconds to wait (1 to 86400)."},
    "size": {"type": "int", "description": ["Records kept.", "More text (at least 1)."]},
    "prefix": {"type": "str", "description": "Prefix (non-empty)."},
    "envs": {
        "type": "list",
        "elements": "dict",
        "options": {
            "replicas": {"type": "int", "description": "Replicas (0 to 100)."},
            "scale": {"type": "dict", "options": {"max": {"type": "int", "description": "Most (1 to 100)."}}},
        },
    },
}


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({"timeout": -1}, "timeout: -1 is not allowed: use a number from 1 to 86400"),
        ({"timeout": "abc"}, "timeout: 'abc' is not allowed: use a number from 1 to 86400"),
        ({"size": 0}, "size: 0 is not allowed: use a number from at least 1"),
        ({"prefix": "  "}, "prefix: '  ' is not allowed: give a non-empty value"),
        ({"envs": [{"replicas": -3}]}, "envs[0].replicas: -3 is not allowed: use a number from 0 to 100"),
        (
            {"envs": [{"scale": {"max": 101}}]},
            "envs[0].scale.max: 101 is not allowed: use a number from 1 to 100",
        ),
    ],
)
def test_out_of_range_values_name_field_value_and_range(values, problem):
    assert check(OPTIONS, values) == [problem]


def test_values_in_range_and_options_without_a_rule_pass():
    assert check(OPTIONS, {"timeout": 600, "size": "5", "prefix": "x", "envs": [{"replicas": 0}]}) == []
    assert constraint({"description": "No rule here."}) is None
