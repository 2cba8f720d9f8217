"""Platform: argument checks before anything runs, playbook selection, inventory reads."""

from __future__ import annotations

import pytest

from mlops_platform.api import Platform
from mlops_platform.errors import MlopsError
from mlops_platform.results import RunResult


@pytest.fixture
def calls(monkeypatch):
    """Record what Platform would run; ansible-runner is not started (run_playbook is tested on its own)."""
    seen = []

    def fake(root, playbook, inventory, **kw):
        seen.append({"playbook": playbook, "inventory": inventory, **kw})
        return RunResult(playbook=str(playbook), status="successful", rc=0, artifacts="/a")

    monkeypatch.setattr("mlops_platform.api.run_playbook", fake)
    return seen


@pytest.mark.parametrize(
    ("stages", "expected"),
    [
        (None, "site.yml"),
        (["platform"], "playbooks/platform.yml"),
    ],
)
def test_up_picks_the_playbook(checkout, calls, stages, expected):
    Platform(checkout).up(stages)
    assert calls[0]["playbook"] == checkout / expected
    assert calls[0]["inventory"] == checkout / "inventory" / "local"
    assert calls[0]["check"] is False


def test_up_several_stages_imports_them_in_order(checkout, calls):
    Platform(checkout).up(["platform", "gitops"])
    text = calls[0]["playbook"].read_text()
    assert text.index("playbooks/gitops.yml") < text.index("playbooks/platform.yml")
    assert calls[0]["default_stage"] == "gitops"


def test_plan_is_check_and_diff(checkout, calls):
    Platform(checkout).plan(extra_vars={"platform_minio_enabled": False})
    assert calls[0]["check"] is True and calls[0]["diff"] is True
    assert calls[0]["extra_vars"] == {"platform_minio_enabled": False}


def test_kubeconfig_option_reaches_the_run(checkout, calls, tmp_path):
    Platform(checkout, kubeconfig=tmp_path / "kc").up()
    assert calls[0]["env"]["MLOPS_KUBECONFIG"] == str(tmp_path / "kc")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda p: p.up(["nope"]), "unknown stage"),
        (lambda p: p.up(extra_vars={"bad-name": 1}), "not a valid variable name"),
        (lambda p: p.promote("staging", "staging"), "both 'staging'"),
        (lambda p: p.promote("staging", "canary", version="v2"), "positive integer"),
        (lambda p: p.promote("Staging!", "canary"), "not an environment name"),
        (lambda p: p.rollback("prod uction"), "not an environment name"),
        (lambda p: p.train({"1x": "a"}), "workflow parameter name"),
        (lambda p: p.destroy(keep_data=False), "needs its name typed back: pass confirm='unit-data'"),
        (lambda p: p.destroy(keep_data=False, confirm="  "), "needs its name typed back"),
        (lambda p: p.promote("staging", "canary", image_tag="-bad"), "not a valid image tag"),
        (
            lambda p: p.train({}, timeout=0),
            "timeout: 0 is not allowed: give a whole number of seconds above 0",
        ),
        (lambda p: p.train({}, timeout="10m"), "timeout: '10m' is not allowed"),
    ],
)
def test_bad_input_fails_before_running(checkout, calls, call, message):
    with pytest.raises(MlopsError) as err:
        call(Platform(checkout))
    assert message in str(err.value)
    assert err.value.exit_code == 2
    assert calls == []


def test_missing_playbook_is_bad_configuration(checkout, calls):
    with pytest.raises(MlopsError, match="playbooks/promote.yml does not exist") as err:
        Platform(checkout).promote("staging", "canary")
    assert err.value.exit_code == 2


@pytest.mark.parametrize(
    ("method", "args", "playbook", "extra"),
    [
        (
            "promote",
            ("staging", "canary", 3),
            "promote.yml",
            {"from": "staging", "to": "canary", "version": "3"},
        ),
        ("promote", ("canary", "production"), "promote.yml", {"from": "canary", "to": "production"}),
        ("rollback", ("production",), "rollback.yml", {"env": "production"}),
        # train submits without waiting: mlopsctl follows the Workflow itself (training.follow)
        ("train", ({"epochs": 3},), "train.yml", {"train_parameters": {"epochs": "3"}, "train_wait": False}),
        ("destroy", (), "destroy.yml", {"destroy_data": False}),
    ],
)
def test_operations_pass_their_extra_vars(checkout, calls, method, args, playbook, extra):
    (checkout / "playbooks" / playbook).write_text("---\n[]\n")
    getattr(Platform(checkout), method)(*args)
    assert calls[0]["playbook"] == checkout / "playbooks" / playbook
    assert calls[0]["extra_vars"] == extra


def test_destroy_with_data_needs_the_cluster_name(checkout, calls):
    (checkout / "playbooks" / "destroy.yml").write_text("---\n[]\n")
    Platform(checkout).destroy(keep_data=False, confirm="unit-data")
    assert calls[0]["extra_vars"] == {"destroy_data": True, "destroy_data_confirm": "unit-data"}


def test_promote_into_the_first_environment_takes_a_build(checkout, calls):
    (checkout / "playbooks" / "promote.yml").write_text("---\n[]\n")
    Platform(checkout).promote(None, "staging", 4, image_tag="v4", force=True)
    assert calls[0]["extra_vars"] == {"to": "staging", "version": "4", "image_tag": "v4", "force": True}


def test_unknown_inventory_lists_the_known_ones(checkout):
    with pytest.raises(MlopsError, match=r"inventory/nowhere does not exist.*local") as err:
        Platform(checkout, "inventory/nowhere")
    assert err.value.exit_code == 2


def test_kubeconfig_must_exist_and_says_how_to_get_it(checkout, tmp_path):
    with pytest.raises(MlopsError, match="make envtest-up") as err:
        Platform(checkout).kubeconfig()
    assert err.value.exit_code == 1
    path = tmp_path / "kubeconfig"
    path.write_text("{}")
    assert Platform(checkout, kubeconfig=path).kubeconfig() == path


def test_vars_are_templated_from_the_inventory(checkout, monkeypatch):
    monkeypatch.setenv("MLOPS_KUBECONFIG", "/from/env")
    values = Platform(checkout).vars(["mlops_target", "mlops_kubeconfig", "not_set"])
    assert values == {"mlops_target": "local", "mlops_kubeconfig": "/from/env"}
