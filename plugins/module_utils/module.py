# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""What every module's main() does: build the module, run the domain, exit or fail.

    def main():
        run_module(domain)

The domain (module_utils/<domain>/) exports the argument spec and `run(params, check_mode)`,
which returns the result (with "diff" and "warnings" when it has them) or raises its
PlatformError; only this file calls exit_json/fail_json.

build_module checks the mappings first: ansible-core names no field when a mapping cannot
be converted ("dictionary requested, could not parse JSON or key=value"), and crashes with
a traceback when an option with sub-options gets a number. This check runs on the raw
arguments and fails with one line naming the field, its value and what is allowed.
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


def options_to(cls, params: dict, **given):
    """The dataclass `cls` from the module options named as its fields; `given` sets the others."""
    import dataclasses

    names = [f.name for f in dataclasses.fields(cls) if f.name not in given]
    return cls(**{name: params[name] for name in names}, **given)


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


def fail_module(module, error) -> None:
    """Fail with the PlatformError's message, its kind ("input" or "run") and its report (problems, ...)."""
    error_kind = "input" if error.kind == "input" else "run"  # a domain may refine kind (terraform's)
    module.fail_json(msg=str(error), error_kind=error_kind, **error.report())


def exit_module(module, result: dict) -> None:
    """Exit with a run's result: warnings warned, the diff only under --diff, a failed result failed."""
    result = dict(result)
    for warning in result.pop("warnings", None) or ():
        module.warn(warning)
    diff = result.pop("diff", None)
    if module._diff and diff:
        result["diff"] = diff
    if result.get("failed"):
        module.fail_json(**result)
    module.exit_json(**result)


#: The shared connection and wait options (kube_argspec, wait_argspec), which must be above 0:
#: a negative timeout is no timeout at all (a Workflow submitted, then an immediate "timed out").
POSITIVE = ("request_timeout", "wait_timeout", "poll_interval")


def positive_problems(params: dict) -> list[str]:
    """The POSITIVE options of `params` that are set and not above 0, each naming its field."""
    return [
        f"{name}: {params[name]!r} is not allowed: give a number of seconds above 0"
        for name in POSITIVE
        if isinstance(params.get(name), (int, float)) and params[name] <= 0
    ]


def run_module(domain) -> None:
    """Build the module from the domain's ARGUMENT_SPEC and MODULE_RULES, run it, exit or fail."""
    from ansible_collections.mlops.platform.plugins.module_utils.errors import PlatformError

    module = build_module(domain.ARGUMENT_SPEC, **domain.MODULE_RULES)
    problems = positive_problems(module.params)
    if problems:  # before the domain runs: nothing is read or changed
        module.fail_json(msg="; ".join(problems), error_kind="input", problems=problems)
    try:
        result = domain.run(module.params, module.check_mode)
    except PlatformError as e:
        fail_module(module, e)
    exit_module(module, result)
