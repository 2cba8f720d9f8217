# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""Why Nova put a server into ERROR: the fault it recorded, which the provider does not show."""

from __future__ import annotations

from ansible_collections.mlops.platform.plugins.module_utils.errors import PlatformError
from ansible_collections.mlops.platform.plugins.module_utils.openstack.preflight import connect


def server_faults(cloud: str, server_ids: list[str]) -> dict[str, str]:
    """Server ID => Nova's fault message; best effort (an empty dict when the cloud cannot say)."""
    try:
        from openstack import exceptions as sdk_exc

        conn = connect(cloud)
        out = {}
        for server_id in server_ids:
            try:
                fault = conn.compute.get_server(server_id).fault or {}
            except sdk_exc.SDKException:
                continue
            if fault.get("message"):
                out[server_id] = fault["message"]
        return out
    except (PlatformError, ImportError, OSError):
        return {}
