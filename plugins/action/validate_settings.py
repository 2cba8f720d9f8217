# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""Check a role's settings against the ranges its argument spec states, before anything changes.

Ansible validates types and choices of meta/argument_specs.yml when the role starts;
this adds what an argument spec cannot say natively, written in the option's
description so ansible-doc shows it too: "(MIN to MAX)", "(at least MIN)", "(non-empty)".
The one schema of the role stays meta/argument_specs.yml.
"""

from __future__ import annotations

import os
import re

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase

_NUMBER = r"(-?\d+(?:\.\d+)?)"
_RANGE = re.compile(rf"\({_NUMBER} to {_NUMBER}\)\.?\s*$")
_AT_LEAST = re.compile(rf"\(at least {_NUMBER}\)\.?\s*$")
_NON_EMPTY = re.compile(r"\(non-empty\)\.?\s*$")


def constraint(option: dict):
    """(low, high, non_empty) from the option's description, or None."""
    text = option.get("description") or ""
    text = text[-1] if isinstance(text, list) else text
    if m := _RANGE.search(text):
        return float(m.group(1)), float(m.group(2)), False
    if m := _AT_LEAST.search(text):
        return float(m.group(1)), None, False
    if _NON_EMPTY.search(text):
        return None, None, True
    return None


def _number(value):
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def check(options: dict, values: dict, prefix: str = "") -> list[str]:
    """Every problem of `values` against `options` (recursing into dicts and lists of dicts)."""
    problems = []
    for name, option in options.items():
        if not isinstance(values, dict) or name not in values or values[name] is None:
            continue
        value, field = values[name], f"{prefix}{name}"
        rule = constraint(option)
        if rule is not None:
            low, high, non_empty = rule
            if non_empty and (not isinstance(value, str) or not value.strip()):
                problems.append(f"{field}: {value!r} is not allowed: give a non-empty value")
            elif low is not None:
                number = _number(value)
                allowed = f"{low:g} to {high:g}" if high is not None else f"at least {low:g}"
                if number is None or number < low or (high is not None and number > high):
                    problems.append(f"{field}: {value!r} is not allowed: use a number from {allowed}")
        sub = option.get("options")
        if sub and option.get("type") == "list" and isinstance(value, list):
            for index, item in enumerate(value):
                problems += check(sub, item, f"{field}[{index}].")
        elif sub and isinstance(value, dict):
            problems += check(sub, value, f"{field}.")
    return problems


class ActionModule(ActionBase):
    _supports_check_mode = True
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        import yaml

        result = super().run(tmp, task_vars)
        role = self._task._role
        if role is None:
            raise AnsibleError("mlops.platform.validate_settings must run inside a role")
        entry = self._task.args.get("entry_point", "main")
        path = os.path.join(role._role_path, "meta", "argument_specs.yml")
        with open(path, encoding="utf-8") as f:
            specs = (yaml.safe_load(f) or {}).get("argument_specs") or {}
        options = (specs.get(entry) or {}).get("options") or {}
        task_vars = task_vars or {}
        values = {}
        for name in options:
            if name in task_vars:
                values[name] = self._templar.template(task_vars[name])
        problems = check(options, values)
        result["changed"] = False
        if problems:
            result.update(failed=True, error_kind="input", problems=problems,
                          msg=f"role {role.get_name()}: " + "; ".join(problems))
        else:
            result["msg"] = f"{len(values)} setting(s) of role {role.get_name()} within their ranges"
        return result
