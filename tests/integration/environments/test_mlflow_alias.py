"""The MLflow side of a promotion, against a real `mlflow server` (SQLite, local artifacts).

The promotions that deploy run on `live_platform` (the real ArgoCD syncs them); the
ones that must write nothing use `platform` (status written by the test, see
environments_support).
"""

from __future__ import annotations

import json
import urllib.request

import pytest
from ansible_collections.mlops.platform.plugins.module_utils.errors import PlatformError
from ansible_collections.mlops.platform.plugins.module_utils.mlflow.client import MlflowClient, MlflowError
from ansible_collections.mlops.platform.plugins.module_utils.promotion import runner, service
from ansible_collections.mlops.platform.plugins.module_utils.promotion.runner import run as execute
from environments_support import free_port, live_params, params, read_app, running, snapshot

pytestmark = [pytest.mark.mlflow, pytest.mark.controlplane]


def alias_via_rest(url: str, model: str, alias: str) -> str | None:
    """What MLflow's own API says the alias points to (not our client)."""
    q = f"{url}/api/2.0/mlflow/registered-models/get?name={model}"
    with urllib.request.urlopen(q, timeout=10) as r:
        aliases = json.load(r)["registered_model"].get("aliases") or []
    return next((a["version"] for a in aliases if a["alias"] == alias), None)


def mparams(ns, url, model, **extra):
    return params(ns, update_alias=True, mlflow_tracking_uri=url, model_name=model, **extra)


def live_mparams(ns, url, model, **extra):
    return live_params(ns, update_alias=True, mlflow_tracking_uri=url, model_name=model, **extra)


def test_promotions_move_the_aliases(crds, live_platform, mlflow_server, registered_model):
    _client, model = registered_model
    url, platform = mlflow_server.url, live_platform
    to_canary = execute(live_mparams(platform, url, model, source="staging", target="canary"), False)
    to_prod = execute(live_mparams(platform, url, model, source="canary", target="production"), False)
    again = execute(live_mparams(platform, url, model, source="canary", target="production"), False)
    assert to_canary["alias"] == "canary" and to_canary["alias_changed"] is True
    assert to_canary["alias_previous_version"] is None
    assert alias_via_rest(url, model, "canary") == "2"
    assert alias_via_rest(url, model, "production") == "2"
    assert to_prod["changed"] and again["changed"] is False and again["alias_changed"] is False
    assert alias_via_rest(url, model, "staging") is None  # only the target's alias moves


def test_check_mode_leaves_the_alias(crds, platform, mlflow_server, registered_model):
    """`platform`: nothing may be written, and a live controller writes .status all the time."""
    _client, model = registered_model
    out = execute(mparams(platform, mlflow_server.url, model, source="staging", target="canary"), True)
    assert out["changed"] and out["alias_changed"]
    assert out["diff"]["after"]["alias"] == "2"
    assert alias_via_rest(mlflow_server.url, model, "canary") is None


def test_rollback_moves_the_alias_back(crds, live_platform, mlflow_server, registered_model):
    _client, model = registered_model
    url, platform = mlflow_server.url, live_platform
    execute(live_mparams(platform, url, model, source="staging", target="canary"), False)
    back = execute(live_mparams(platform, url, model, operation="rollback", target="canary"), False)
    assert back["alias_changed"] and alias_via_rest(url, model, "canary") == "1"


def test_unknown_version_in_mlflow_is_refused_before_deploying(
    crds, platform, mlflow_server, registered_model
):
    """`platform`: nothing may be written, and a live controller writes .status all the time."""
    _client, model = registered_model
    before = snapshot(crds, platform)
    with pytest.raises(PlatformError) as e:
        execute(
            mparams(
                platform,
                mlflow_server.url,
                model,
                source="staging",
                target="canary",
                version="9",
                image_tag="9",
                force=True,
            ),
            False,
        )
    assert f"MLflow at {mlflow_server.url} has no version 9 of registered model {model!r}" in str(e.value)
    assert snapshot(crds, platform) == before


def test_unknown_model_is_named(crds, platform, mlflow_server):
    """`platform`: nothing may be written, and a live controller writes .status all the time."""
    with pytest.raises(PlatformError, match="has no registered model 'no-such-model'"):
        execute(
            mparams(platform, mlflow_server.url, "no-such-model", source="staging", target="canary"), False
        )


def test_mlflow_down_is_a_clear_error_and_nothing_changes(crds, platform):
    """`platform`: nothing may be written, and a live controller writes .status all the time."""
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    before = snapshot(crds, platform)
    with pytest.raises(PlatformError) as e:
        execute(mparams(platform, url, "bird-classifier", source="staging", target="canary"), False)
    assert f"MLflow at {url} cannot be reached" in str(e.value)
    assert "mlflow_tracking_uri" in str(e.value)
    assert snapshot(crds, platform) == before


class AliasWriteFails(MlflowClient):
    """The real client, except that setting an alias fails as if MLflow went away at that moment.

    (Stopping the shared server mid-promotion would race with the deployment wait; this is
    the one boundary replaced, and only the alias write.)
    """

    def set_alias(self, name, alias, version):
        raise MlflowError(
            f"MLflow at {self.url} cannot be reached while trying to set alias {alias!r}: Connection refused"
        )


def test_alias_failure_after_deploy_says_so_and_a_rerun_completes_it(
    crds, live_platform, mlflow_server, registered_model, monkeypatch
):
    """The re-run must leave the Application's spec as it is (the real controller keeps
    writing its status) and only move the alias."""
    _client, model = registered_model
    url, platform = mlflow_server.url, live_platform
    monkeypatch.setattr(runner, "MlflowClient", AliasWriteFails)
    with pytest.raises(PlatformError) as e:
        execute(live_mparams(platform, url, model, source="staging", target="canary"), False)
    msg = str(e.value)
    assert "version 2 is deployed to canary, but moving the MLflow alias 'canary'" in msg
    assert "run the same promotion again" in msg
    assert running(crds, platform, "canary") == ("2", "2")
    assert alias_via_rest(url, model, "canary") is None
    spec = read_app(crds, platform, "canary")["spec"]
    monkeypatch.setattr(runner, "MlflowClient", MlflowClient)
    rerun = execute(live_mparams(platform, url, model, source="staging", target="canary"), False)
    assert rerun["changed"] and rerun["deploy_changed"] is False and rerun["alias_changed"] is True
    assert alias_via_rest(url, model, "canary") == "2"
    # The history shows the repair (issue 28: it recorded nothing new, as if nothing changed).
    assert rerun["record"]["result"] == "succeeded" and rerun["history"][-1] == rerun["record"]
    assert "MLflow alias 'canary' moved to version 2 (it was unset)" in rerun["record"]["message"]
    assert read_app(crds, platform, "canary")["spec"] == spec
    assert service.FIELD_MANAGER == "mlops-platform-promotion"
