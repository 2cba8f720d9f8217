# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""Runs the generated_secret module and marks its result no_log when it carries values.

A module cannot mark its own result no_log; an action plugin can. Without
return_values the result holds no values and is shown as usual.
"""

from __future__ import annotations

from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self._task.args
        wants_values = boolean(args.get("return_values"), strict=False) or any(
            isinstance(item, dict) and boolean(item.get("return_values"), strict=False)
            for item in (args.get("secrets") or [])
        )
        module_result = self._execute_module(
            module_name="mlops.platform.generated_secret", module_args=args, task_vars=task_vars
        )
        result.update(module_result)
        if wants_values:
            result["_ansible_no_log"] = True
        return result
