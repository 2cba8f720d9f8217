# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""An environment's names for the roles: the rules of plugins/module_utils/promotion/names.py."""

from __future__ import annotations

from ansible_collections.mlops.platform.plugins.module_utils.promotion import names


class FilterModule:
    def filters(self):
        return {
            "environment_name": lambda environment, prefix: names.qualified(prefix, environment),
            "environment_name_format": names.name_format,
            "environment_of": names.environment_of,
            "invalid_environment_names": names.invalid,
        }
