"""A promotion's "started" record: replaced by its outcome, and found again when it was cut off."""

from __future__ import annotations

from ansible_collections.mlops.platform.plugins.module_utils.promotion import history as hist


def rec(result, version="4", to="staging"):
    return hist.record(
        operation="promote",
        source=None,
        target=to,
        version=version,
        image=version,
        previous_version="3",
        previous_image="3",
        result=result,
    )


def test_the_outcome_replaces_the_started_record():
    records = hist.append([rec("succeeded", "3")], rec("started"), 10)
    records = hist.append(records, rec("succeeded"), 10)
    assert [(r["version"], r["result"]) for r in records] == [("3", "succeeded"), ("4", "succeeded")]


def test_an_unfinished_promotion_is_found_only_while_it_is_the_newest_record():
    records = [rec("succeeded", "3"), rec("started")]
    assert hist.unfinished(records, "staging", "4", "4")["result"] == "started"
    assert hist.unfinished(records, "staging", "5", "5") is None
    assert hist.unfinished(records + [rec("interrupted")], "staging", "4", "4") is None
    assert hist.unfinished(records, "canary", "4", "4") is None
