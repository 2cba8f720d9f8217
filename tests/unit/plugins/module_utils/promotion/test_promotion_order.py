# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""The promotion rules that need no cluster: environment order, version and tag formats."""

from __future__ import annotations

import pytest
from ansible_collections.mlops.platform.plugins.module_utils.promotion.order import (
    PromotionError,
    check_environments,
    check_image_tag,
    check_name_format,
    check_step,
    check_version,
)

ENVS = ["staging", "canary", "production"]


@pytest.mark.parametrize(
    ("source", "target"), [("staging", "canary"), ("canary", "production"), (None, "staging")]
)
def test_allowed_steps(source, target):
    check_step(source, target, ENVS)


@pytest.mark.parametrize(
    ("source", "target", "message"),
    [
        (
            "staging",
            "production",
            "staging -> production would skip canary: promotions follow the order "
            "staging -> canary -> production; promote staging -> canary first",
        ),
        ("canary", "canary", "source and target are both 'canary'"),
        ("production", "staging", "production -> staging goes backwards"),
        (
            "staging",
            "qa",
            "unknown target environment 'qa': the environments are staging -> canary -> production",
        ),
        ("dev", "canary", "unknown source environment 'dev'"),
        (None, "production", "only the first environment ('staging') takes a new version directly"),
    ],
)
def test_refused_steps(source, target, message):
    with pytest.raises(PromotionError) as e:
        check_step(source, target, ENVS)
    assert message in str(e.value)


def test_skip_over_several_environments_names_them_all():
    with pytest.raises(PromotionError, match="would skip b, c"):
        check_step("a", "d", ["a", "b", "c", "d"])


@pytest.mark.parametrize(
    ("envs", "message"),
    [
        ([], "environments is empty"),
        (["staging", "staging"], "appears twice"),
        (["Staging"], "not allowed"),
        (["a" * 33], "not allowed"),
        (["x_y"], "not allowed"),
    ],
)
def test_bad_environment_lists(envs, message):
    with pytest.raises(PromotionError, match=message):
        check_environments(envs)


@pytest.mark.parametrize(("value", "expected"), [("3", "3"), (" 12 ", "12"), (7, "7"), (None, None)])
def test_versions(value, expected):
    assert check_version(value) == expected


@pytest.mark.parametrize("value", ["0", "-1", "v3", "3.1", "latest", "", "12345678901"])
def test_bad_versions(value):
    with pytest.raises(PromotionError, match="is not an MLflow model version: it must be a positive integer"):
        check_version(value)


@pytest.mark.parametrize("tag", ["1", "v1.2.3", "sha-0a1b2c", "2026_11_22", "A" * 128])
def test_image_tags(tag):
    assert check_image_tag(tag) == tag


@pytest.mark.parametrize("tag", ["", ".hidden", "-x", "a:b", "a b", "A" * 129, "ü"])
def test_bad_image_tags(tag):
    with pytest.raises(PromotionError, match="is not a valid image tag"):
        check_image_tag(tag)


@pytest.mark.parametrize(
    ("fmt", "message"), [("model-service", "must contain"), ("{environment}-{x}", "valid format")]
)
def test_name_formats(fmt, message):
    with pytest.raises(PromotionError, match=message):
        check_name_format(fmt, "application_format")


def test_the_charts_schema_enforces_the_promotions_rules():
    """charts/model-service/values.schema.json checks what ArgoCD renders with the same rules
    the promotion checks before it writes: environment name, image tag, model version."""
    import json
    from pathlib import Path

    from ansible_collections.mlops.platform.plugins.module_utils.promotion import names, order

    chart = Path(__file__).resolve().parents[5] / "charts/model-service"
    schema = json.loads((chart / "values.schema.json").read_text())
    props = schema["properties"]
    assert props["environment"]["pattern"] == names.ENV_NAME.pattern
    assert props["image"]["properties"]["tag"]["pattern"] == order.IMAGE_TAG.pattern
    assert props["model"]["properties"]["version"]["pattern"] == order.MODEL_VERSION.pattern
