from __future__ import annotations

import pytest

from mlops_platform.errors import MlopsError
from mlops_platform.stages import STAGES, select_stages, stage_of_play


@pytest.mark.parametrize(
    ("play", "expected"),
    [
        ("Infra stage", "infra"),
        ("GitOps stage: install ArgoCD", "gitops"),
        ("Platform stage (second play)", "platform"),
        ("environments: declare staging", "environments"),
        ("Promote a model version", "promote"),  # not a stage: the playbook's default
        ("", "promote"),
        (None, "promote"),
        ("Kubespray preflight", None),
    ],
)
def test_stage_of_play(play, expected):
    assert stage_of_play(play, "promote" if expected else None) == expected


@pytest.mark.parametrize(
    ("asked", "expected"),
    [
        (None, list(STAGES)),
        ([], list(STAGES)),
        (["platform", "gitops"], ["gitops", "platform"]),  # site.yml order, whatever was typed
        (["GitOps", " workflows "], ["gitops", "workflows"]),
    ],
)
def test_select_stages(asked, expected):
    assert select_stages(asked) == expected


def test_select_unknown_stage_names_the_choices():
    with pytest.raises(MlopsError) as err:
        select_stages(["gitops", "argo"])
    assert err.value.exit_code == 2
    assert "argo" in str(err.value) and "environments" in str(err.value)
