# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""Input rules of a promotion: environment order, version and image tag formats.

Pure functions; every violation is a PromotionError naming the value and what is allowed,
raised before anything is read from or written to the cluster.
"""

from __future__ import annotations

import re

from ansible_collections.mlops.platform.plugins.module_utils.errors import InputError
from ansible_collections.mlops.platform.plugins.module_utils.promotion.names import ENV_NAME, ENV_NAME_RULE

# Docker's tag grammar: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
IMAGE_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
# An MLflow registered-model version is a positive integer.
MODEL_VERSION = re.compile(r"^[1-9][0-9]{0,9}$")


class PromotionError(InputError):
    """A promotion or rollback was refused or failed; the message says which and why."""


def check_environments(environments: list[str]) -> list[str]:
    """The configured order: non-empty, unique, DNS-label names."""
    if not environments:
        raise PromotionError(
            "environments is empty: list the environments in promotion order "
            "(for example [staging, canary, production])"
        )
    seen: set[str] = set()
    for name in environments:
        if not isinstance(name, str) or not ENV_NAME.match(name):
            raise PromotionError(
                f"environment name {name!r} is not allowed: use {ENV_NAME_RULE}"
            )
        if name in seen:
            raise PromotionError(f"environment {name!r} appears twice in environments {environments}")
        seen.add(name)
    return list(environments)


def order_text(environments: list[str]) -> str:
    return " -> ".join(environments)


def check_known(name: str, environments: list[str], role: str) -> None:
    if name not in environments:
        raise PromotionError(
            f"unknown {role} environment {name!r}: the environments are {order_text(environments)}"
        )


def check_step(source: str | None, target: str, environments: list[str]) -> None:
    """A promotion goes from one environment to the next one, never skipping one.

    Without a source, only the first environment can be deployed to (a new version
    enters the chain there).
    """
    check_environments(environments)
    check_known(target, environments, "target")
    if source is None:
        if target != environments[0]:
            raise PromotionError(
                f"no source environment given for target {target!r}: only the first environment "
                f"({environments[0]!r}) takes a new version directly; the order is {order_text(environments)}"
            )
        return
    check_known(source, environments, "source")
    if source == target:
        raise PromotionError(
            f"source and target are both {source!r}: a promotion moves a version to the "
            f"next environment ({order_text(environments)})"
        )
    i, j = environments.index(source), environments.index(target)
    if j < i:
        raise PromotionError(
            f"{source} -> {target} goes backwards: promotions follow the order {order_text(environments)}; "
            f"to return {target} to its previous version use a rollback"
        )
    if j > i + 1:
        skipped = ", ".join(environments[i + 1 : j])
        raise PromotionError(
            f"{source} -> {target} would skip {skipped}: promotions follow the order "
            f"{order_text(environments)}; promote {source} -> {environments[i + 1]} first"
        )


def check_version(version: str | None) -> str | None:
    if version is None:
        return None
    text = str(version).strip()
    if not MODEL_VERSION.match(text):
        raise PromotionError(
            f"version {version!r} is not an MLflow model version: it must be a positive integer such as 3"
        )
    return text


def check_image_tag(tag: str | None) -> str | None:
    if tag is None:
        return None
    if not IMAGE_TAG.match(str(tag)):
        raise PromotionError(
            f"image_tag {tag!r} is not a valid image tag: up to 128 letters, digits, '_', "
            "'.' and '-', not starting with '.' or '-'"
        )
    return str(tag)


def check_name_format(fmt: str, option: str) -> str:
    if "{environment}" not in fmt:
        raise PromotionError(f"{option} {fmt!r} must contain '{{environment}}'")
    try:
        fmt.format(environment="x")
    except (KeyError, IndexError, ValueError) as e:
        raise PromotionError(
            f"{option} {fmt!r} is not a valid format: only '{{environment}}' may be used ({e})"
        ) from e
    return fmt
