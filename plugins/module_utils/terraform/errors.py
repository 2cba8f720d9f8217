# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""Terraform errors, and the translation of Terraform's stderr into operator messages."""

from __future__ import annotations

import re

from ansible_collections.mlops.platform.plugins.module_utils.errors import PlatformError


class TerraformError(PlatformError):
    """A Terraform run failed; the message says what, on which object, and what to do."""

    def __init__(self, message: str, *, kind: str = "terraform", details: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.details = details

    def report(self) -> dict:
        return {"kind": self.kind}


_ANSI = re.compile(r"\x1b\[[0-9;]*m")

# Terraform's and the OpenStack provider's own words, first match wins.
_QUOTA_PATTERNS = (
    re.compile(r"Quota exceeded for (?:resources: \[?'?)?([A-Za-z_-]+)", re.I),
    re.compile(r"exceeds allowed (\w+) quota", re.I),
    re.compile(r"exceeded for quota '(\w+)'", re.I),
)


def _error_lines(stderr: str) -> str:
    text = _ANSI.sub("", stderr or "")
    lines = [ln.strip(" │╷╵\t") for ln in text.splitlines()]
    return "\n".join(ln for ln in lines if ln).strip()


def classify(stderr: str, *, command: str, cloud: str | None = None, project: str = "") -> TerraformError:
    """Turn a failed command's stderr into one TerraformError with a readable message."""
    text = _error_lines(stderr)
    where = f" in {project}" if project else ""
    if "Error acquiring the state lock" in text:
        who = re.search(r"Who:\s*(\S+)", text)
        lock_id = re.search(r"ID:\s*(\S+)", text)
        holder = f" by {who.group(1)}" if who else ""
        ident = f" (lock ID {lock_id.group(1)})" if lock_id else ""
        return TerraformError(
            f"terraform {command}{where}: the state lock is held{holder}{ident}; "
            "wait for that run to finish, "
            "raise lock_timeout, or release a stale lock with `terraform force-unlock <ID>`",
            kind="lock",
            details=text,
        )
    if re.search(
        r"Failed to query available provider packages|Failed to install provider|"
        r"Missing required provider|Could not retrieve the list of available versions|"
        r"provider registry\.\S+ is not available|Inconsistent dependency lock file",
        text,
    ):
        prov = re.search(r"provider\s+((?:[\w.-]+/)?[\w-]+/[\w-]+)", text)
        name = prov.group(1) if prov else "a required provider"
        return TerraformError(
            f"terraform {command}{where}: {name} is not installed and cannot be downloaded; "
            "build the local mirror (`make test-deps`, scripts/build-go.sh provider) "
            "and set TF_CLI_CONFIG_FILE",
            kind="provider",
            details=text,
        )
    if re.search(r"clouds\.yaml|cloud \S+ does not exist|unable to load clouds", text, re.I):
        return TerraformError(
            f"terraform {command}{where}: the OpenStack provider cannot load cloud {cloud!r} "
            f"from clouds.yaml: {text.splitlines()[0]}",
            kind="clouds_yaml",
            details=text,
        )
    if re.search(
        r"Authentication failed|requires authentication|HTTP 401|Unauthorized|"
        r"Could not find Application Credential|invalid credentials",
        text,
        re.I,
    ):
        return TerraformError(
            f"terraform {command}{where}: the cloud {cloud!r} rejected the credentials in clouds.yaml "
            "(HTTP 401); renew the application credential and check its project",
            kind="credentials",
            details=text,
        )
    if re.search(r"quota", text, re.I):
        for pat in _QUOTA_PATTERNS:
            m = pat.search(text)
            if m:
                return TerraformError(
                    f"terraform {command}{where}: the project's {m.group(1).lower()} quota is exceeded; "
                    "free resources or ask for a higher quota, then run again",
                    kind="quota",
                    details=text,
                )
        return TerraformError(
            f"terraform {command}{where}: a project quota is exceeded: {text}", kind="quota", details=text
        )
    first = next(
        (ln for ln in text.splitlines() if ln.startswith("Error:")), text.splitlines()[0] if text else ""
    )
    return TerraformError(f"terraform {command}{where} failed: {first}", details=text)
