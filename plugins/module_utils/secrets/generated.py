# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""generated_secret: random values generated the first time only, kept across runs.

A value, once stored, is never regenerated unless `rotate` is set; the keys listed
are added when missing. Values are never put in diffs or results (keys only),
except when `return_values` asks for them (the action plugin then marks the
result no_log).
"""

from __future__ import annotations

import base64
import datetime
import secrets
import string

from ansible_collections.mlops.platform.plugins.module_utils.kube import (
    apply,
    create,
    get,
    ref_of,
    secret_redactor,
)
from ansible_collections.mlops.platform.plugins.module_utils.kube.items import (
    ItemError,
    check_name,
    check_namespace,
    check_unique,
    expand_items,
    top_level_spec,
)

ALPHABETS = {
    "alphanumeric": string.ascii_letters + string.digits,
    "hex": "0123456789abcdef",
    "letters": string.ascii_letters,
    "digits": string.digits,
    "urlsafe": string.ascii_letters + string.digits + "-_",
    # punctuation that is safe in URLs, shells and YAML without quoting
    "symbols": string.ascii_letters + string.digits + "-_.~+=",
}

KEY_SPEC = {
    "alphabet": {"type": "str", "default": "alphanumeric", "choices": sorted(ALPHABETS)},
    "length": {"type": "int", "default": 32},
    "name": {"type": "str", "required": True},
}
# Key and Secret *names*, never values: no_log=False says so to the sanity checks.
BCRYPT_SPEC = {
    "from_key": {"type": "str", "required": True, "no_log": False},
    "key": {"type": "str", "required": True, "no_log": False},
    "mtime_key": {"type": "str", "no_log": False},
    "secret": {"type": "str", "required": True, "no_log": False},
}

SECRET_SPEC = {
    "annotations": {"type": "dict", "default": {}},
    "bcrypt_copy": {"type": "dict", "options": BCRYPT_SPEC},
    "fixed_data": {"type": "dict", "default": {}, "no_log": False},
    "keys": {"type": "list", "elements": "dict", "default": [], "options": KEY_SPEC, "no_log": False},
    "labels": {"type": "dict", "default": {}},
    "name": {"type": "str", "required": True},
    "namespace": {"type": "str", "required": True},
    "regenerate": {"type": "list", "elements": "str", "default": [], "no_log": False},
    "return_values": {"type": "bool", "default": False},
    "rotate": {"type": "bool", "default": False},
    "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
}


class SecretError(ItemError):
    """Invalid options for a generated Secret."""


# The keys whose values were generated (and so handed to the apps): one that goes
# missing later is an error, never silently replaced.
GENERATED_KEYS = "mlops.platform/generated-keys"
ATTEMPTS = 5  # reads + writes when a concurrent run changes the Secret meanwhile


def generate(length: int, alphabet: str) -> str:
    chars = ALPHABETS[alphabet]
    return "".join(secrets.choice(chars) for dummy in range(length))


def _b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


def _unb64(value: str) -> str:
    return base64.b64decode(value).decode(errors="replace")


def validate(item: dict) -> None:
    where = f"Secret {item['namespace']}/{item['name']}"
    check_name(item["name"], "name", where, SecretError)
    check_namespace(item["namespace"], "namespace", where, SecretError)
    if item["state"] == "absent":
        return
    if not item["keys"] and not item["fixed_data"]:
        raise SecretError(f"{where}: list at least one key to generate (keys) or give fixed_data")
    names = [k["name"] for k in item["keys"]]
    dupes = sorted({n for n in names if names.count(n) > 1} | (set(names) & set(item["fixed_data"])))
    if dupes:
        raise SecretError(
            f"{where}: key(s) {', '.join(dupes)} listed twice (keys and fixed_data must not overlap)"
        )
    for key in item["keys"]:
        if not 8 <= key["length"] <= 4096:
            raise SecretError(
                f"{where}: key {key['name']}: length {key['length']} must be between 8 and 4096"
            )


def _handed_out(current: dict | None, item: dict) -> set[str]:
    """The generated keys recorded on the Secret (older Secrets: the listed keys it holds)."""
    if current is None:
        return set()
    meta = current.get("metadata") or {}
    recorded = (meta.get("annotations") or {}).get(GENERATED_KEYS)
    if recorded is not None:
        return {k for k in recorded.split(",") if k}
    return {k["name"] for k in item["keys"]} & set(current.get("data") or {})


def desired(item: dict, current: dict | None) -> tuple[dict, list[str]]:
    """The Secret to apply and the keys generated now. Existing values are kept unless rotate.

    A generated key that has gone missing is an error unless listed in `regenerate`:
    its old value is still in use by the apps it was given to.
    """
    existing = (current or {}).get("data") or {}
    handed = _handed_out(current, item)
    data: dict[str, str] = {}
    generated = []
    for key in item["keys"]:
        name = key["name"]
        if name in existing and not item["rotate"]:
            data[name] = existing[name]
            continue
        if name in handed and not item["rotate"] and name not in item["regenerate"]:
            raise SecretError(
                f"Secret {item['namespace']}/{item['name']}: key {name!r} is missing, but its value was "
                "generated before and given to the apps that use it (they still expect the old value). "
                f"Restore the key with its old value, or set regenerate: [{name}] to generate a new one "
                "and then update every app that uses it",
                kind="run",
            )
        data[name] = _b64(generate(key["length"], key["alphabet"]))
        generated.append(name)
    for name, value in item["fixed_data"].items():
        data[str(name)] = _b64(str(value))
    metadata: dict = {"name": item["name"], "namespace": item["namespace"]}
    labels = {
        "app.kubernetes.io/managed-by": "mlops-platform",
        **{str(k): str(v) for k, v in item["labels"].items()},
    }
    metadata["labels"] = labels
    annotations = {str(k): str(v) for k, v in item["annotations"].items()}
    annotations[GENERATED_KEYS] = ",".join(sorted({k["name"] for k in item["keys"]}))
    metadata["annotations"] = annotations
    obj = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": metadata, "data": data}
    return obj, generated


def _converge(client, item: dict, *, check_mode: bool):
    """Write the Secret so that no concurrent run can overwrite a value it stored.

    A new Secret is created with POST (create-only: a 409 means another run created it
    first, whose values we then keep); generating into an existing one carries its
    resourceVersion (a concurrent change makes the write fail, and we start over).
    """
    from ansible_collections.mlops.platform.plugins.module_utils.kube import KubeError, Result

    ref = f"Secret {item['namespace']}/{item['name']}"
    for _attempt in range(ATTEMPTS):
        current = get(client, "v1", "Secret", item["name"], item["namespace"])
        obj, generated = desired(item, current)
        try:
            if current is None and not check_mode:
                create(client, obj)
                view = {"metadata": {"name": item["name"]}, "data": secret_redactor()(None, obj)[1]["data"]}
                return obj, generated, Result(ref, "created", True, None, {"before": {}, "after": view})
            if generated and current is not None:
                obj["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
            return obj, generated, apply(client, [obj], check_mode=check_mode, redact=secret_redactor())[0]
        except KubeError as e:
            if e.status != 409:
                raise
    raise SecretError(
        f"{ref} kept changing while values were generated for it ({ATTEMPTS} attempts): "
        "another run is writing it; run again when it is done",
        kind="run",
    )


def ensure(client, item: dict, *, check_mode: bool) -> dict:
    """Converge one generated Secret (and its bcrypt copy). Returns a result without values."""
    if item["state"] == "absent":
        from ansible_collections.mlops.platform.plugins.module_utils.kube import delete

        res = delete(
            client,
            [
                {
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "metadata": {"name": item["name"], "namespace": item["namespace"]},
                }
            ],
            check_mode=check_mode,
        )[0]
        return {
            "ref": res.ref,
            "action": res.action,
            "changed": res.changed,
            "keys": [],
            "generated": [],
            "diff": res.diff,
        }
    obj, generated, res = _converge(client, item, check_mode=check_mode)
    out = {
        "ref": res.ref,
        "action": res.action,
        "changed": res.changed,
        "keys": sorted(obj["data"]),
        "generated": generated,
        "diff": res.diff,
    }
    if item["return_values"]:
        out["values"] = {k: _unb64(v) for k, v in obj["data"].items()}
    if item.get("bcrypt_copy"):
        copy_res = _bcrypt_copy(client, item, obj, check_mode=check_mode)
        out["bcrypt_copy"] = {"ref": copy_res.ref, "action": copy_res.action, "changed": copy_res.changed}
        out["changed"] = out["changed"] or copy_res.changed
        if copy_res.diff:
            out["copy_diff"] = dict(copy_res.diff, before_header=copy_res.ref, after_header=copy_res.ref)
    return out


def _bcrypt_copy(client, item: dict, obj: dict, *, check_mode: bool):
    """Store bcrypt(from_key) under `key` of another Secret; re-hash only when it no longer verifies.

    Applied with its own field manager so it owns just these keys of a Secret that
    something else (ArgoCD's install manifest) created.
    """
    import bcrypt

    spec = item["bcrypt_copy"]
    where = f"bcrypt_copy of {ref_of(obj)}"
    if spec["from_key"] not in obj["data"]:
        raise SecretError(
            f"{where}: from_key {spec['from_key']!r} is not one of the keys {sorted(obj['data'])}"
        )
    plain = base64.b64decode(obj["data"][spec["from_key"]])
    target = get(client, "v1", "Secret", spec["secret"], item["namespace"])
    stored = ((target or {}).get("data") or {}).get(spec["key"])
    data: dict[str, str] = {}
    if stored:
        try:
            ok = bcrypt.checkpw(plain, base64.b64decode(stored))
        except ValueError:
            ok = False
        if ok:
            data[spec["key"]] = stored
    if spec["key"] not in data:
        data[spec["key"]] = base64.b64encode(bcrypt.hashpw(plain, bcrypt.gensalt())).decode()
        if spec.get("mtime_key"):
            now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            data[spec["mtime_key"]] = _b64(now)
    elif spec.get("mtime_key"):
        existing_mtime = ((target or {}).get("data") or {}).get(spec["mtime_key"])
        now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        data[spec["mtime_key"]] = existing_mtime or _b64(now)
    copy_obj = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": spec["secret"], "namespace": item["namespace"]},
        "data": data,
    }
    return apply(
        client, [copy_obj], check_mode=check_mode, redact=secret_redactor(), manager="mlops-platform-bcrypt"
    )[0]


def run(params: dict, check_mode: bool) -> dict:
    """The whole generated_secret run: validate all items first, then converge each."""
    from ansible_collections.mlops.platform.plugins.module_utils.kube import KubeClient

    items = expand_items(params, SECRET_SPEC, "secrets", SecretError)
    for item in items:
        validate(item)
    check_unique(
        [{"metadata": {"name": i["name"], "namespace": i["namespace"]}} for i in items],
        "Secrets",
        SecretError,
    )
    client = KubeClient.from_params(params)
    results = [ensure(client, item, check_mode=check_mode) for item in items]
    out: dict = {"changed": any(r["changed"] for r in results), "api_requests": client.requests}
    diffs = []
    for r in results:
        for key in ("diff", "copy_diff"):
            d = r.pop(key, None)
            if d:
                diffs.append({"before_header": r["ref"], "after_header": r["ref"], **d})
    out["secrets"] = results
    if diffs:
        out["diff"] = diffs
    return out


ARGUMENT_SPEC = top_level_spec(SECRET_SPEC, "secrets", with_suboptions=True)
MODULE_RULES = {
    "required_one_of": [("name", "secrets")],
    "mutually_exclusive": [("name", "secrets")],
    "supports_check_mode": True,
}
