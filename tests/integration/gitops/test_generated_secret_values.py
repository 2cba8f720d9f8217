"""generated_secret: values made once, kept across runs and a control-plane restart, never shown."""

from __future__ import annotations

import base64

import pytest

pytestmark = pytest.mark.controlplane


def values(kube, name, ns):
    from ansible_collections.mlops.platform.plugins.module_utils.kube import get

    obj = get(kube, "v1", "Secret", name, ns)
    return {k: base64.b64decode(v).decode() for k, v in (obj or {}).get("data", {}).items()}


def test_values_kept_across_runs_and_restart_and_never_logged(play, kube, controlplane, namespace):
    args = {
        "name": "minio-credentials",
        "namespace": namespace,
        "fixed_data": {"rootUser": "admin"},
        "keys": [{"name": "rootPassword", "length": 40}, {"name": "pin", "length": 12, "alphabet": "digits"}],
    }
    tasks = [{"name": "credentials", "mlops.platform.generated_secret": args}]

    r = play.run(tasks, check=True, diff=True, verbosity=3)["results"][0]
    assert r["changed"] is True and values(kube, "minio-credentials", namespace) == {}

    r = play.run(tasks, diff=True, verbosity=3)["results"][0]
    assert r["changed"] is True
    assert r["secrets"][0]["generated"] == ["rootPassword", "pin"]
    first = values(kube, "minio-credentials", namespace)
    assert len(first["rootPassword"]) == 40 and first["rootPassword"].isalnum()
    assert len(first["pin"]) == 12 and first["pin"].isdigit()
    assert first["rootUser"] == "admin"
    assert r["diff"][0]["after"]["data"] == {
        "rootPassword": "<hidden>",
        "pin": "<hidden>",
        "rootUser": "<hidden>",
    }

    r = play.run(tasks, diff=True, verbosity=3)["results"][0]
    assert r["changed"] is False and r["secrets"][0]["generated"] == []
    assert values(kube, "minio-credentials", namespace) == first

    controlplane.restart()
    r = play.run(tasks, verbosity=3)["results"][0]
    assert r["changed"] is False
    assert values(kube, "minio-credentials", namespace) == first

    # a new key is added; the existing values stay
    grown = dict(args, keys=args["keys"] + [{"name": "console", "length": 16}])
    r = play.one("generated_secret", grown, diff=True, verbosity=3)
    assert r["changed"] is True and r["secrets"][0]["generated"] == ["console"]
    after = values(kube, "minio-credentials", namespace)
    assert {k: after[k] for k in first} == first

    # rotate: new values for the listed keys, the diff says which changed, not to what
    r = play.one("generated_secret", dict(grown, rotate=True), diff=True, verbosity=3)
    rotated = values(kube, "minio-credentials", namespace)
    assert rotated["rootPassword"] != after["rootPassword"]
    assert r["diff"][0]["after"]["data"]["rootPassword"] == "<hidden, changed>"
    assert r["diff"][0]["after"]["data"]["rootUser"] == "<hidden>"

    # return_values: the values come back, and the whole result is marked no_log
    shown = play.run(
        [
            {
                "name": "read",
                "mlops.platform.generated_secret": dict(grown, return_values=True),
                "register": "creds",
            },
            {
                "name": "use",
                "ansible.builtin.assert": {
                    "that": ["creds.secrets[0]['values']['rootPassword'] | length == 40"]
                },
            },
        ],
        verbosity=3,
    )
    assert shown["results"][1].get("failed") is not True, shown["results"][1]
    assert shown["results"][0].get("censored"), "a result with values must be no_log"

    generated = [v for k, v in rotated.items() if k != "rootUser"] + [
        first["rootPassword"],
        first["pin"],
        after["console"],
    ]
    for out in play.outputs:
        for value in generated:
            assert value not in out, "a generated value appeared in ansible-playbook -vvv output"


def test_bcrypt_copy_is_stable_and_verifies(play, kube, namespace):
    import bcrypt

    args = {
        "name": "argocd-admin-credentials",
        "namespace": namespace,
        "keys": [{"name": "password"}],
        "bcrypt_copy": {
            "secret": "argocd-secret",
            "from_key": "password",
            "key": "admin.password",
            "mtime_key": "admin.passwordMtime",
        },
    }
    r = play.one("generated_secret", args, verbosity=3)
    assert r["changed"] is True and r["secrets"][0]["bcrypt_copy"]["action"] == "created"
    password = values(kube, "argocd-admin-credentials", namespace)["password"]
    hashed = values(kube, "argocd-secret", namespace)
    assert bcrypt.checkpw(password.encode(), hashed["admin.password"].encode())
    r = play.one("generated_secret", args, verbosity=3)
    assert r["changed"] is False
    assert values(kube, "argocd-secret", namespace) == hashed
    for out in play.outputs:
        assert password not in out and hashed["admin.password"] not in out
