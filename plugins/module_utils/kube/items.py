# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""One object or a list of them per module call: expansion, validation, names, results.

The object modules (argocd_*, generated_secret) take either the options of one object or
a list of objects whose unset options fall back to the top-level ones. Errors are raised
as the calling domain's error class (`error=`), an InputError: nothing was changed yet.
"""

from __future__ import annotations

import re

from ansible_collections.mlops.platform.plugins.module_utils.errors import InputError
from ansible_collections.mlops.platform.plugins.module_utils.kube.args import CONNECTION_KEYS, kube_argspec

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


class ItemError(InputError):
    """Invalid options for one of the objects a module call manages."""


def check_namespace(value: str, field: str, where: str, error=ItemError) -> None:
    if not value or len(value) > 63 or not DNS1123_LABEL.match(value):
        raise error(
            f"{where}: {field} {value!r} is not a valid namespace name: lower-case letters, digits "
            "and '-', starting and ending with a letter or digit, at most 63 characters"
        )


def check_name(value: str, field: str, where: str, error=ItemError) -> None:
    if not value or len(value) > 253 or not DNS1123_SUBDOMAIN.match(value):
        raise error(
            f"{where}: {field} {value!r} is not a valid object name: lower-case letters, digits, "
            "'-' and '.', starting and ending with a letter or digit"
        )


def expand_items(params: dict, item_spec: dict, list_key: str, error=ItemError) -> list[dict]:
    """The objects one module call manages, each validated against `item_spec`.

    With `list_key` set, each element is one object; top-level options that are set
    act as defaults for every element. Without it, the top-level options are the object.
    """
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

    top = {k: v for k, v in params.items() if k in item_spec and k not in CONNECTION_KEYS and v is not None}
    raw_items = params.get(list_key)
    sources = (
        [dict(top, **{k: v for k, v in item.items() if v is not None}) for item in raw_items]
        if raw_items
        else [top]
    )
    validator = ArgumentSpecValidator(item_spec)
    items = []
    for index, source in enumerate(sources):
        where = f"{list_key}[{index}]" if raw_items else "options"
        unknown = sorted(set(source) - set(item_spec))
        if unknown:
            raise error(
                f"{where}: unknown option(s) {', '.join(unknown)}; allowed: {', '.join(sorted(item_spec))}"
            )
        result = validator.validate(source)
        if result.error_messages:
            raise error(f"{where} ({source.get('name', '?')}): " + "; ".join(result.error_messages))
        items.append(result.validated_parameters)
    return items


def check_unique(objects: list[dict], what: str, error=ItemError) -> None:
    """Two items claiming the same namespace/name are an error, before anything changes."""
    seen: dict = {}
    for index, obj in enumerate(objects):
        meta = obj["metadata"]
        key = (meta.get("namespace"), meta["name"])
        if key in seen:
            raise error(
                f"two {what} claim {key[0]}/{key[1]} (items {seen[key]} and {index}): "
                "give each a different name"
            )
        seen[key] = index


def summarize(results, key: str) -> dict:
    """Module result: changed, one entry per object, a combined diff."""
    out = {
        "changed": any(r.changed for r in results),
        key: [{"ref": r.ref, "action": r.action, "changed": r.changed, "object": r.object} for r in results],
    }
    diffs = [dict(r.diff, before_header=r.ref, after_header=r.ref) for r in results if r.diff]
    if diffs:
        out["diff"] = diffs
    return out


def top_level_spec(item_spec: dict, list_key: str, with_suboptions: bool = False) -> dict:
    """A module's argspec: the item options (none required at top level) + the list + connection.

    with_suboptions declares the list's element options (needed when an element has a
    no_log option, so only that value is masked); they carry no defaults there, so
    unset element options fall back to the top-level ones.
    """
    import copy

    spec = {}
    for name, opt in item_spec.items():
        opt = copy.deepcopy(opt)
        opt.pop("required", None)
        spec[name] = opt
    # The list holds objects (their secret options carry no_log themselves).
    spec[list_key] = {"type": "list", "elements": "dict", "no_log": False}
    if with_suboptions:
        sub = {}
        for name, opt in item_spec.items():
            opt = {k: v for k, v in copy.deepcopy(opt).items() if k not in ("required", "default")}
            sub[name] = opt
        spec[list_key]["options"] = sub
    return kube_argspec(**spec)


def run_objects(
    params: dict,
    check_mode: bool,
    item_spec: dict,
    list_key: str,
    build,
    *,
    what: str,
    result_key: str,
    error=ItemError,
    redact=None,
    after=None,
) -> dict:
    """Validate every item, build every object, then apply/delete them in order with one client."""
    from ansible_collections.mlops.platform.plugins.module_utils.kube.client import KubeClient
    from ansible_collections.mlops.platform.plugins.module_utils.kube.service import apply, delete

    items = expand_items(params, item_spec, list_key, error)
    objects = [build(item) for item in items]
    check_unique(objects, what, error)
    client = KubeClient.from_params(params)
    results = []
    for item, obj in zip(items, objects, strict=True):
        if item["state"] == "absent":
            results += delete(client, [obj], check_mode=check_mode)
        else:
            results += apply(client, [obj], check_mode=check_mode, redact=redact)
    out = summarize(results, result_key)
    if after is not None:
        after(client, items, objects, results, out)
    out["api_requests"] = client.requests
    return out
