# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""The promotion history kept in a ConfigMap: parsing, bounds, and what a rollback picks."""

from __future__ import annotations

import json

import pytest
from ansible_collections.mlops.platform.plugins.module_utils.promotion import history as hist


def rec(to, version, prev, result="succeeded", operation="promote", image=None, prev_image=None):
    return hist.record(
        operation=operation,
        source="x",
        target=to,
        version=version,
        image=image or version,
        previous_version=prev,
        previous_image=prev_image or prev,
        result=result,
        time="2026-11-22T23:00:00Z",
    )


def cm(data):
    return {"metadata": {"name": "mlops-promotion-history", "namespace": "argocd"}, "data": data}


def test_round_trip():
    records = [rec("canary", "2", "1"), rec("production", "2", "1")]
    parsed, warnings = hist.parse(cm({"history.json": hist.dump(records)}))
    assert parsed == records and warnings == []


def test_absent_configmap_is_an_empty_history():
    assert hist.parse(None) == ([], [])


@pytest.mark.parametrize(
    ("data", "warning"),
    [
        ({"history.json": "{broken"}, "is not valid JSON"),
        ({"history.json": json.dumps({"a": 1})}, "is not a JSON list"),
        ({}, "has no 'history.json' key"),
    ],
)
def test_garbage_is_ignored_with_a_warning(data, warning):
    parsed, warnings = hist.parse(cm(data))
    assert parsed == []
    assert len(warnings) == 1 and warning in warnings[0]
    assert "ConfigMap argocd/mlops-promotion-history" in warnings[0]


def test_malformed_records_are_dropped_and_counted():
    good = rec("canary", "2", "1")
    parsed, warnings = hist.parse(cm({"history.json": json.dumps([good, "x", {"to": 3}, None])}))
    assert parsed == [good]
    assert warnings == ["ConfigMap argocd/mlops-promotion-history: 3 malformed history record(s) ignored"]


def test_append_keeps_the_newest():
    records = []
    for v in range(1, 8):
        records = hist.append(records, rec("staging", str(v), str(v - 1)), 3)
    assert [r["version"] for r in records] == ["5", "6", "7"]
    with pytest.raises(ValueError):
        hist.append([], rec("staging", "1", None), 0)


def test_healthy_in_ignores_failed_runs_and_other_environments():
    records = [rec("staging", "3", "2", result="rolled-back"), rec("canary", "3", "2")]
    assert hist.healthy_in(records, "staging", "3") is None
    assert hist.healthy_in(records, "canary", "3")["to"] == "canary"
    assert hist.healthy_in(records + [rec("staging", "3", "2")], "staging", "3") is not None


@pytest.mark.parametrize(
    ("current", "expected"),
    [(("3", "3"), "rollback"), (("2", "2"), "done"), (("9", "9"), "moved")],
)
def test_rollback_target(current, expected):
    records = [
        rec("canary", "2", "1"),
        rec("canary", "3", "2"),
        rec("canary", "2", "3", operation="rollback"),
    ]
    kind, chosen = hist.rollback_target(records, "canary", *current)
    assert kind == expected
    assert (chosen["version"], chosen["previous_version"]) == ("3", "2")


def test_rollback_target_without_history():
    assert hist.rollback_target([], "canary", "1", "1") == (None, None)
    assert hist.rollback_target([rec("canary", "1", None)], "canary", "1", "1")[0] is None


def test_record_rejects_unknown_results():
    with pytest.raises(ValueError):
        rec("canary", "2", "1", result="maybe")
