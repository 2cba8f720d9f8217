# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""Kubernetes API errors turned into messages an operator can act on."""

from __future__ import annotations

import json

from ansible_collections.mlops.platform.plugins.module_utils.errors import PlatformError


class KubeError(PlatformError):
    """A Kubernetes API call failed: which object, what happened, what to check.

    `status` is the HTTP status (0 when the server was not reached), `reason` the
    Kubernetes Status reason (NotFound, Conflict, Invalid, ...) when there was one.
    """

    def __init__(self, message: str, status: int = 0, reason: str = "", causes: list | None = None):
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.causes = causes or []


def _status_body(data: bytes | str | None) -> dict:
    if not data:
        return {}
    try:
        body = json.loads(data)
    except (TypeError, ValueError):
        return {"message": data.decode(errors="replace") if isinstance(data, bytes) else str(data)}
    return body if isinstance(body, dict) else {}


def translate(status: int, data, *, action: str, ref: str, server: str, auth_source: str) -> KubeError:
    """Build the KubeError for an HTTP error answer of the API server.

    action: what we were doing ("applying", "reading", "deleting", ...);
    ref: the object ("Application argocd/minio"); server: the API server URL;
    auth_source: where the credentials came from (kubeconfig path + context).
    """
    body = _status_body(data)
    message = (body.get("message") or "").strip()
    reason = body.get("reason") or ""
    causes = (body.get("details") or {}).get("causes") or []
    what = f"{action} {ref} on {server}"
    if status == 401:
        text = (f"{what} failed: the API server rejected the credentials (401 Unauthorized). "
                f"Check the token or client certificate of {auth_source}; it may be expired or "
                "belong to another cluster.")
    elif status == 403:
        text = (f"{what} failed: forbidden (403): {message or 'no detail'}. Check the RBAC "
                f"rights of the user of {auth_source} for this kind and namespace.")
    elif status == 404:
        if "namespaces" in message and "not found" in message:
            hint = "create the namespace first (or let the stage create it)"
        else:
            hint = ("check the name and namespace; for a custom resource, check that its "
                    "CRD is installed (the gitops stage installs ArgoCD's, the workflows "
                    "stage Argo Workflows')")
        text = f"{what} failed: not found (404): {message or 'no detail'}. {hint}."
    elif status == 409:
        fields = "; ".join(c.get("message", "") for c in causes if c.get("message"))
        if reason == "Conflict" and ("apply failed" in message.lower() or "conflict with" in message.lower()):
            text = (f"{what} failed: fields are owned by another field manager (409): "
                    f"{fields or message}. Another tool manages this object; remove its "
                    "ownership or apply with force.")
        else:
            text = (f"{what} failed: conflict (409): {message or 'no detail'}. The object "
                    "changed or is being deleted meanwhile; run again.")
    elif status == 422:
        fields = "; ".join(
            f"{c.get('field', '?')}: {c.get('message', '')}" for c in causes
        ) or message
        text = (f"{what} failed: the API server refused the object as invalid (422): {fields}. "
                "Fix these fields in the configuration.")
    elif status == 400:
        text = f"{what} failed: bad request (400): {message or 'no detail'}. Check the object's structure."
    else:
        text = f"{what} failed: HTTP {status} {reason}: {message or 'no detail'}."
    return KubeError(text, status=status, reason=reason, causes=causes)


def unreachable(exc: Exception, *, action: str, ref: str, server: str, auth_source: str) -> KubeError:
    """The API server could not be reached (connection refused, DNS, TLS)."""
    detail = str(exc)
    low = detail.lower()
    if "certificate" in low or "ssl" in low:
        hint = (f"the TLS handshake failed: check the CA of {auth_source} (certificate-authority) "
                "or that the server name matches its certificate")
    elif "refused" in low:
        hint = ("connection refused: is the cluster running and is the server address in "
                f"{auth_source} right?")
    elif "name or service not known" in low or "nodename nor servname" in low or "resolve" in low:
        hint = f"the host name does not resolve: check the server address in {auth_source}"
    elif "timed out" in low or "timeout" in low:
        hint = "the connection timed out: check network access (VPN, security group, floating IP)"
    else:
        hint = f"check that the API server is up and reachable from here ({auth_source})"
    return KubeError(f"{action} {ref}: cannot reach the API server {server}: {hint}. ({detail})")
