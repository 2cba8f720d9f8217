# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""An environment's names, derived once: the rule for its name, its namespace and Application.

An environment `staging` of prefix `model-service` deploys into namespace
`model-service-staging` through the Application `model-service-staging`. The environments
role (filter plugin mlops.platform.environment_name), environment_promote, mlopsctl's API
and status all derive the names here.
"""

from __future__ import annotations

import re

# Environment names become namespace and Application name parts (DNS-1123 labels).
ENV_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$")
ENV_NAME_RULE = "lower-case letters, digits and '-' (at most 32 characters)"
DEFAULT_PREFIX = "model-service"
DEFAULT_ENVIRONMENTS = ("staging", "canary", "production")
# The ConfigMap of the promotion history (environments_promotion_history_name).
HISTORY_NAME = "mlops-promotion-history"


def is_environment_name(name) -> bool:
    return isinstance(name, str) and bool(ENV_NAME.match(name))


def qualified(prefix: str, environment: str) -> str:
    """`<prefix>-<environment>`: the environment's namespace and its Application's name."""
    return f"{prefix}-{environment}"


def name_format(prefix: str = DEFAULT_PREFIX) -> str:
    """The Application's name with an `{environment}` field (environment_promote's application_format)."""
    return qualified(prefix, "{environment}")


def environment_of(name: str, prefix: str) -> str | None:
    """The environment whose namespace or Application is `name` (None when it is not one)."""
    head = qualified(prefix, "")
    return name[len(head) :] if name.startswith(head) and len(name) > len(head) else None


def invalid(environments: list) -> list:
    """The environment names that break the rule."""
    return [name for name in environments if not is_environment_name(name)]
