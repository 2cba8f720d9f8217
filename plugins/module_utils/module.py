# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""Build a module's AnsibleModule after a check of the mappings it is given.

ansible-core names no field when a mapping cannot be converted ("dictionary requested,
could not parse JSON or key=value"), and crashes with a traceback when an option with
sub-options gets a number. This check runs first, on the raw arguments, and fails with
one line naming the field, its value and what is allowed.
"""

from __future__ import annotations


def mapping_problems(spec: dict, params: dict, prefix: str = "") -> list[str]:
    """The options of `spec` that should hold a mapping (or a list of them) and do not."""
    from ansible.module_utils.common.validation import check_type_dict

    def is_mapping(value) -> bool:
        if isinstance(value, dict):
            return True
        if not isinstance(value, str):
            return False
        try:
            check_type_dict(value)
        except TypeError:
            return False
        return True

    def allowed(option: dict) -> str:
        keys = option.get("options")
        return "give a mapping" + (f" with keys {', '.join(sorted(keys))}" if keys else "")

    problems = []
    for name, option in spec.items():
        names = [name, *option.get("aliases", [])]
        key = next((n for n in names if n in params and params[n] is not None), None)
        if key is None:
            continue
        value, field = params[key], f"{prefix}{name}"
        kind = option.get("type")
        if kind == "dict":
            items, fields = [value], [field]
        elif kind == "list" and option.get("elements") == "dict":
            items = value if isinstance(value, list) else [value]
            fields = [f"{field}[{index}]" for index in range(len(items))]
        else:
            continue
        for item, where in zip(items, fields, strict=True):
            if not is_mapping(item):
                problems.append(f"{where}: {item!r} is not allowed: {allowed(option)}")
            elif option.get("options") and isinstance(item, dict):
                problems += mapping_problems(option["options"], item, f"{where}.")
    return problems


def build_module(argument_spec: dict, **kwargs):
    """AnsibleModule(argument_spec, **kwargs), failing first with field-named errors for bad mappings.

    The module that reports them is built with the offending options relaxed to raw
    values, so that ansible-core's own conversion never sees them.
    """
    import copy

    from ansible.module_utils import basic

    params = basic._load_params()
    # None while ansible-test introspects the argument spec
    problems = mapping_problems(argument_spec, params) if isinstance(params, dict) else []
    if not problems:
        return basic.AnsibleModule(argument_spec=argument_spec, **kwargs)
    relaxed = copy.deepcopy(argument_spec)
    for problem in problems:
        name = problem.split(":", 1)[0].split("[", 1)[0].split(".", 1)[0]
        old = relaxed.get(name, {})
        relaxed[name] = {"type": "raw", "aliases": old.get("aliases", []), "no_log": old.get("no_log", False)}
    module = basic.AnsibleModule(argument_spec=relaxed, **kwargs)
    module.fail_json(msg="; ".join(problems), error_kind="input", problems=problems)
    return module  # not reached: fail_json exits
