# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""The platform's DNS domain, for every stage that names one of its hosts (platform, workflows)."""

from __future__ import annotations


def platform_domain(ingress_domain: str, floating_ip: str) -> str:
    """platform_ingress_domain when set, else <floating IP>.sslip.io (which resolves to that IP)."""
    return ingress_domain if ingress_domain else f"{floating_ip}.sslip.io"


class FilterModule:
    def filters(self):
        return {"platform_domain": platform_domain}
