"""Field trees: change detection compares only the fields we set or managed before."""

from __future__ import annotations

import pytest
from ansible_collections.mlops.platform.plugins.module_utils.kube.secrets import secret_redactor
from ansible_collections.mlops.platform.plugins.module_utils.kube.service import (
    LEAF,
    compare_view,
    desired_tree,
    managed_tree,
    merge_trees,
    our_managed_fields,
)

DESIRED = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "a", "namespace": "n", "labels": {"x": "1"}},
    "data": {"k": "v"},
}


@pytest.mark.parametrize(
    ("current", "same"),
    [
        # status, server defaults and other managers' labels do not count
        (
            {
                **DESIRED,
                "metadata": {
                    **DESIRED["metadata"],
                    "uid": "u",
                    "resourceVersion": "7",
                    "labels": {"x": "1", "other": "y"},
                },
                "status": {"phase": "x"},
            },
            True,
        ),
        ({**DESIRED, "data": {"k": "changed"}}, False),
        ({**DESIRED, "metadata": {"name": "a", "namespace": "n", "labels": {"x": "2"}}}, False),
        ({**DESIRED, "data": {"k": "v", "extra": "other-manager"}}, True),
    ],
)
def test_compare_view_ignores_unmanaged(current, same):
    tree = desired_tree(DESIRED)
    assert (compare_view(current, tree) == compare_view(DESIRED, tree)) is same


def test_managed_tree_from_fields_v1_lists_are_leaves():
    fields = {
        "f:metadata": {"f:labels": {".": {}, "f:x": {}}},
        "f:spec": {"f:containers": {'k:{"name":"a"}': {".": {}, "f:image": {}}}},
    }
    assert managed_tree(fields) == {"metadata": {"labels": {"x": LEAF}}, "spec": {"containers": LEAF}}


def test_fields_we_managed_before_are_compared():
    current = {
        **DESIRED,
        "data": {"k": "v", "old": "o"},
        "metadata": {
            **DESIRED["metadata"],
            "managedFields": [
                {
                    "manager": "mlops-platform",
                    "operation": "Apply",
                    "fieldsV1": {"f:data": {"f:k": {}, "f:old": {}}},
                },
                {"manager": "someone", "operation": "Update", "fieldsV1": {"f:data": {"f:x": {}}}},
            ],
        },
    }
    ours = our_managed_fields(current)
    assert ours == {"data": {"k": LEAF, "old": LEAF}}
    tree = merge_trees(desired_tree(DESIRED), ours)
    assert compare_view(current, tree) != compare_view(DESIRED, tree)


def test_merge_trees_leaf_wins():
    assert merge_trees({"a": {"b": LEAF}}, {"a": LEAF, "c": LEAF}) == {"a": LEAF, "c": LEAF}


def test_secret_redactor_shows_keys_never_values():
    before = {"kind": "Secret", "data": {"a": "c2VjcmV0MQ==", "b": "eA=="}}
    after = {"kind": "Secret", "data": {"a": "c2VjcmV0Mg==", "b": "eA==", "c": "eQ=="}}
    b, a = secret_redactor()(before, after)
    assert b["data"] == {"a": "<hidden>", "b": "<hidden>"}
    assert a["data"] == {"a": "<hidden, changed>", "b": "<hidden>", "c": "<hidden>"}
    assert "c2VjcmV0" not in repr((b, a))
    assert before["data"]["a"] == "c2VjcmV0MQ=="  # inputs untouched
