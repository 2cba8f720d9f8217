# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""Terraform's stderr turned into one readable error per cause."""

from __future__ import annotations

import pytest
from ansible_collections.mlops.platform.plugins.module_utils.terraform.errors import classify

LOCK = """
╷
│ Error: Error acquiring the state lock
│
│ Error message: resource temporarily unavailable
│ Lock Info:
│   ID:        8f0c3b5e-2f55-5d6e-8a1c-6f6a3c1d2e11
│   Path:      terraform.tfstate
│   Operation: OperationTypeApply
│   Who:       ops@bastion
│   Version:   1.11.4
╵
"""
PROVIDER = """
Error: Failed to query available provider packages

Could not retrieve the list of available versions for provider
terraform-provider-openstack/openstack: no available releases match the given constraints ~> 3.4
"""
CLOUDS = """
Error: One of 'auth_url' or 'cloud' must be specified

  with provider["registry.terraform.io/terraform-provider-openstack/openstack"],
Error: Error creating OpenStack client: cloud mlops does not exist in clouds.yaml
"""
AUTH = """
Error: Error creating OpenStack compute client: Authentication failed:
The request you have made requires authentication.
"""
NOVA_QUOTA = """
Error: Error creating OpenStack server: Expected HTTP response code [202] when accessing [POST
https://nova.example.test/v2.1/servers], but got 403 instead: {"forbidden": {"code": 403, "message":
"Quota exceeded for cores: Requested 8, but already used 36 of 40 cores"}}
"""
NEUTRON_QUOTA = """
Error: Error creating openstack_networking_floatingip_v2: Request forbidden: [POST
https://neutron.example.test/v2.0/floatingips], error message: {"NeutronError": {"type": "OverQuota",
"message": "Quota exceeded for resources: ['floatingip'].", "detail": ""}}
"""
CINDER_QUOTA = """
Error: Error creating OpenStack volume: Expected HTTP response code [202], but got 413 instead:
{"overLimit": {"code": 413, "message": "VolumeSizeExceedsAvailableQuota: Requested volume or snapshot
exceeds allowed gigabytes quota. Requested 100G, quota is 1000G and 950G has been consumed."}}
"""


@pytest.mark.parametrize(
    ("stderr", "kind", "message"),
    [
        (
            LOCK,
            "lock",
            "the state lock is held by ops@bastion (lock ID 8f0c3b5e-2f55-5d6e-8a1c-6f6a3c1d2e11)",
        ),
        (PROVIDER, "provider", "terraform-provider-openstack/openstack is not installed"),
        (CLOUDS, "clouds_yaml", "cannot load cloud 'mlops' from clouds.yaml"),
        (AUTH, "credentials", "the cloud 'mlops' rejected the credentials"),
        (NOVA_QUOTA, "quota", "the project's cores quota is exceeded"),
        (NEUTRON_QUOTA, "quota", "the project's floatingip quota is exceeded"),
        (CINDER_QUOTA, "quota", "the project's gigabytes quota is exceeded"),
        (
            "Error: Unsupported argument\n\n  on main.tf line 3",
            "terraform",
            "failed: Error: Unsupported argument",
        ),
    ],
)
def test_classify(stderr, kind, message):
    err = classify(stderr, command="apply", cloud="mlops", project="/srv/terraform")
    assert err.kind == kind
    assert message in str(err)
    assert "/srv/terraform" in str(err)


def test_server_in_error_is_explained_by_nova_fault(monkeypatch):
    """Seen on the local cloud: Nova's quota re-check puts a server into ERROR after the API
    accepted it, and the provider prints no reason; Nova's fault names the quota."""
    from ansible_collections.mlops.platform.plugins.module_utils.openstack import faults
    from ansible_collections.mlops.platform.plugins.module_utils.terraform import stack

    sid = "2af36e01-d3ad-4d25-a2dd-e1877d5281bc"
    err = classify(
        f"Error: Error waiting for instance ({sid}) to become ready: unexpected state 'ERROR', "
        "wanted target 'ACTIVE'. last error: %!s(<nil>)",
        command="apply",
        cloud="mlops",
    )
    assert err.kind == "terraform"
    monkeypatch.setattr(
        faults,
        "server_faults",
        lambda cloud, ids: {
            sid: "Quota exceeded for instances: Requested 1, but already used 2 of 2 instances"
        },
    )
    explained = stack.with_server_faults(err, "mlops", "/p")
    assert explained.kind == "quota"
    assert "the project's instances quota is exceeded" in str(explained)
    monkeypatch.setattr(faults, "server_faults", lambda cloud, ids: {})
    assert stack.with_server_faults(err, "mlops", "/p") is err
