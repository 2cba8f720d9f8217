# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""Runs the generated_secret module and marks its result no_log when it carries values.

A module cannot mark its own result no_log; an action plugin can. Without
return_values the result holds no values and is shown as usual.
"""

from __future__ import annotations

from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self._task.args
        wants_values = bool(args.get("return_values")) or any(
            isinstance(item, dict) and item.get("return_values") for item in (args.get("secrets") or [])
        )
        module_result = self._execute_module(
            module_name="mlops.platform.generated_secret", module_args=args, task_vars=task_vars
        )
        result.update(module_result)
        if wants_values:
            result["_ansible_no_log"] = True
        return result
