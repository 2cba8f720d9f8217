"""roles/platform/files/image-policy.yml as the checks apply it.

The platform's own registry (app registry) is served at platform_registry_host, which depends on
the domain (registry.<platform_ingress_domain>, or registry.<floating IP>.sslip.io): the static
file lists its repositories under `platform_registry`, and these helpers allow them on that host,
as the platform role's __platform_image_policy does for platform_images.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from .render import Rendered

POLICY = Path(__file__).resolve().parents[2] / "roles/platform/files/image-policy.yml"


def load_policy(*registry_hosts: str) -> dict:
    """The policy with the platform registry's repositories allowed on each of these hosts."""
    policy = yaml.safe_load(POLICY.read_text())
    for host in registry_hosts:
        policy["allowed"][host] = list(policy.get("platform_registry") or [])
    return policy


def registry_hosts(rendered: Rendered) -> list[str]:
    """The hosts the rendered registry Application serves (its Ingress rules)."""
    return sorted(
        {
            rule["host"]
            for o in rendered.of_kind("Ingress")
            if o.app == "registry"
            for rule in (o.body.get("spec") or {}).get("rules") or []
        }
    )


def policy_for(rendered: Rendered) -> dict:
    """The policy as it applies to one rendered run: the platform registry at its rendered host."""
    return load_policy(*registry_hosts(rendered))
