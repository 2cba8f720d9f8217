"""API errors become messages naming the object, what happened and what to check."""

from __future__ import annotations

import json

import pytest
from ansible_collections.mlops.platform.plugins.module_utils.errors import PlatformError
from ansible_collections.mlops.platform.plugins.module_utils.kube.errors import (
    KubeError,
    translate,
    unreachable,
)

REF = "Application argocd/minio"


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (401, {"reason": "Unauthorized", "message": "Unauthorized"}, ["401", "credentials", "kubeconfig k"]),
        (
            403,
            {"reason": "Forbidden", "message": "user x cannot patch"},
            ["403", "user x cannot patch", "RBAC"],
        ),
        (
            404,
            {"reason": "NotFound", "message": 'namespaces "gone" not found'},
            ["404", "create the namespace"],
        ),
        (
            404,
            {"reason": "NotFound", "message": "the server could not find the requested resource"},
            ["404", "CRD is installed"],
        ),
        (
            409,
            {
                "reason": "Conflict",
                "message": 'Apply failed with 1 conflict: conflict with "kubectl"',
                "details": {"causes": [{"message": 'conflict with "kubectl": .data.k'}]},
            },
            ["409", "another field manager", ".data.k"],
        ),
        (409, {"reason": "AlreadyExists", "message": "already exists"}, ["409", "run again"]),
        (
            422,
            {
                "reason": "Invalid",
                "message": "x",
                "details": {"causes": [{"field": "spec.source.repoURL", "message": "Required value"}]},
            },
            ["422", "spec.source.repoURL: Required value", "Fix these fields"],
        ),
    ],
)
def test_translate(status, body, expected):
    err = translate(
        status,
        json.dumps(body).encode(),
        action="applying",
        ref=REF,
        server="https://api:6443",
        auth_source="kubeconfig k",
    )
    assert isinstance(err, PlatformError) and isinstance(err, KubeError)
    assert err.status == status
    text = str(err)
    assert text.startswith(f"applying {REF} on https://api:6443 failed")
    for part in expected:
        assert part in text


def test_translate_non_json_body():
    err = translate(500, b"<html>boom</html>", action="reading", ref=REF, server="s", auth_source="a")
    assert "boom" in str(err)


@pytest.mark.parametrize(
    ("detail", "hint"),
    [
        ("[Errno 111] Connection refused", "connection refused"),
        ("certificate verify failed", "TLS handshake"),
        ("Name or service not known", "does not resolve"),
        ("read timed out", "timed out"),
    ],
)
def test_unreachable(detail, hint):
    err = unreachable(OSError(detail), action="reading", ref=REF, server="https://x", auth_source="kc")
    assert REF in str(err) and "https://x" in str(err) and hint in str(err)
