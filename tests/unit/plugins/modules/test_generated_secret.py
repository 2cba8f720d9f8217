"""generated_secret: what it generates, what it keeps, what it refuses."""

from __future__ import annotations

import base64

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible_collections.mlops.platform.plugins.module_utils.secrets import generated


def item(**params):
    base = {"name": "s", "namespace": "ns", "keys": [{"name": "password"}]}
    result = ArgumentSpecValidator(generated.SECRET_SPEC).validate({**base, **params})
    assert not result.error_messages
    return result.validated_parameters


@pytest.mark.parametrize(
    ("alphabet", "check"),
    [
        ("alphanumeric", str.isalnum),
        ("digits", str.isdigit),
        ("hex", lambda v: set(v) <= set("0123456789abcdef")),
        ("letters", str.isalpha),
        ("urlsafe", lambda v: set(v) <= set(generated.ALPHABETS["urlsafe"])),
    ],
)
def test_generate_alphabets(alphabet, check):
    values = {generated.generate(64, alphabet) for dummy in range(5)}
    assert len(values) == 5 and all(len(v) == 64 and check(v) for v in values)


def test_existing_values_kept_new_keys_generated():
    current = {"data": {"password": base64.b64encode(b"keep-me").decode()}}
    obj, made = generated.desired(
        item(keys=[{"name": "password"}, {"name": "token", "length": 16}], fixed_data={"user": "admin"}),
        current,
    )
    assert made == ["token"]
    assert base64.b64decode(obj["data"]["password"]) == b"keep-me"
    assert len(base64.b64decode(obj["data"]["token"])) == 16
    assert base64.b64decode(obj["data"]["user"]) == b"admin"
    assert obj["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "mlops-platform"


def test_rotate_regenerates():
    current = {"data": {"password": base64.b64encode(b"old").decode()}}
    obj, made = generated.desired(item(rotate=True), current)
    assert made == ["password"] and base64.b64decode(obj["data"]["password"]) != b"old"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"keys": [], "fixed_data": {}}, "list at least one key"),
        ({"keys": [{"name": "a"}, {"name": "a"}]}, "key\\(s\\) a listed twice"),
        ({"fixed_data": {"password": "x"}}, "key\\(s\\) password listed twice"),
        ({"keys": [{"name": "a", "length": 7}]}, "length 7 must be between 8 and 4096"),
        ({"namespace": "Bad"}, "not a valid namespace name"),
    ],
)
def test_bad_inputs(params, message):
    with pytest.raises(generated.SecretError, match=message):
        generated.validate(item(**params))
