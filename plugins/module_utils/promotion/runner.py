# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""The environment_promote module's domain side: its options and run(params, check_mode) -> result."""

from __future__ import annotations

from ansible_collections.mlops.platform.plugins.module_utils.kube import KubeClient, kube_argspec
from ansible_collections.mlops.platform.plugins.module_utils.kube.args import wait_argspec
from ansible_collections.mlops.platform.plugins.module_utils.mlflow.client import MlflowClient
from ansible_collections.mlops.platform.plugins.module_utils.module import options_to
from ansible_collections.mlops.platform.plugins.module_utils.promotion import names
from ansible_collections.mlops.platform.plugins.module_utils.promotion.order import PromotionError
from ansible_collections.mlops.platform.plugins.module_utils.promotion.service import Promoter, Settings

OPTIONS = dict(
    alias_format={"type": "str", "default": "{environment}"},
    application_format={"type": "str", "default": names.name_format()},
    application_namespace={"type": "str", "default": "argocd"},
    environments={"type": "list", "elements": "str", "required": True},
    force={"type": "bool", "default": False},
    history_name={"type": "str", "default": names.HISTORY_NAME},
    history_namespace={"type": "str", "default": "argocd"},
    history_size={"type": "int", "default": 50},
    image_tag={"type": "str"},
    mlflow_timeout={"type": "float", "default": 10.0},
    mlflow_token={"type": "str", "no_log": True},
    mlflow_tracking_uri={"type": "str"},
    mlflow_validate_certs={"type": "bool", "default": True},
    model_name={"type": "str"},
    operation={"type": "str", "default": "promote", "choices": ["promote", "rollback", "history"]},
    source={"type": "str", "aliases": ["from"]},
    target={"type": "str", "aliases": ["to", "environment"]},
    update_alias={"type": "bool", "default": True},
    version={"type": "str"},
    **wait_argspec(),
)


def build(params: dict, check_mode: bool) -> Promoter:
    """Validate the options that need no cluster, then build the clients (once per run)."""
    update_alias = params["update_alias"] and params["operation"] != "history"
    if update_alias and not params.get("mlflow_tracking_uri"):
        raise PromotionError(
            "mlflow_tracking_uri is missing while update_alias is on: set it to the MLflow tracking server "
            "(for example http://mlflow.platform.svc:5000), or set update_alias: false to leave the "
            "registry alone"
        )
    settings = options_to(Settings, params, update_alias=update_alias, model_name=params.get("model_name"))
    mlflow = None
    if update_alias:
        mlflow = MlflowClient(
            params["mlflow_tracking_uri"],
            token=params.get("mlflow_token"),
            timeout=params["mlflow_timeout"],
            validate_certs=params["mlflow_validate_certs"],
        )
    return Promoter(KubeClient.from_params(params), settings, mlflow=mlflow, check_mode=check_mode)


def run(params: dict, check_mode: bool) -> dict:
    """One promotion, rollback or history read; raises PromotionError, KubeError or MlflowError."""
    op = params["operation"]
    if op == "promote" and not params.get("target"):
        raise PromotionError("target is required for a promotion (the environment to promote to)")
    if op == "rollback" and not params.get("target"):
        raise PromotionError(
            "target is required for a rollback (the environment to return to its previous version)"
        )
    if op == "rollback" and (params.get("source") or params.get("version") or params.get("image_tag")):
        raise PromotionError("a rollback takes only target: the version comes from the history")
    promoter = build(params, check_mode)
    if op == "history":
        outcome = promoter.history(params.get("target"))
    elif op == "rollback":
        outcome = promoter.rollback(params["target"])
    else:
        outcome = promoter.promote(
            params.get("source"),
            params["target"],
            params.get("version"),
            params.get("image_tag"),
            params["force"],
        )
    return outcome.as_dict()


ARGUMENT_SPEC = kube_argspec(**OPTIONS)
MODULE_RULES = {"supports_check_mode": True}
