"""The local cloud's catalog, and a project set up like a small real one (openstacksdk, as admin).

What an operator would have done before handing out a clouds.yaml: the services'
catalog and their user; a project `mlops` with a member user and quotas; public m1.*
flavors, an image `Debian 12` and an external network `public` with a subnet.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from mlops_platform.localcloud.configs import REGION, SERVICES_PASSWORD_USER, Ports

PROJECT = "mlops"
PROJECT_USER = "mlops"
IMAGE = "Debian 12"
EXTERNAL_NETWORK = "public"
EXTERNAL_CIDR = "203.0.113.0/24"  # TEST-NET-3: no data plane, nothing is ever sent there
# name: (vCPUs, RAM MB, disk GB)
FLAVORS = {
    "m1.small": (1, 2048, 20),
    "m1.medium": (2, 4096, 40),
    "m1.large": (4, 8192, 80),
    "m1.xlarge": (8, 16384, 160),
}
# A small real project's quotas: the shipped 3-node example (20 vCPUs, 40 GB) fits, with
# room for a fourth node; ten servers or a second cluster of that size do not.
COMPUTE_QUOTAS = {"instances": 10, "cores": 32, "ram": 65536, "key_pairs": 20, "server_groups": 10}
NETWORK_QUOTAS = {
    "networks": 10,
    "subnets": 10,
    "ports": 50,
    "routers": 3,
    "floating_ips": 4,
    "security_groups": 10,
    "security_group_rules": 100,
}
VOLUME_QUOTAS = {"volumes": 10, "gigabytes": 500, "snapshots": 10}
CATALOG = {
    # service type: (name, path)
    "image": ("glance", ""),
    "placement": ("placement", ""),
    "compute": ("nova", "/v2.1"),
    "network": ("neutron", ""),
    "block-storage": ("cinder", "/v3"),
}


def connect(auth: dict):
    import openstack.connection

    return openstack.connection.Connection(
        auth=auth, region_name=REGION, identity_api_version="3", interface="public"
    )


def _role(conn, name: str):
    return conn.identity.find_role(name) or conn.identity.create_role(name=name)


def register_services(admin_auth: dict, services_password: str, ports: Ports) -> None:
    """The catalog and the user every service checks tokens with (before the services start)."""
    conn = connect(admin_auth)
    ident = conn.identity
    project = ident.find_project("service") or ident.create_project(name="service", domain_id="default")
    user = ident.find_user(SERVICES_PASSWORD_USER) or ident.create_user(
        name=SERVICES_PASSWORD_USER, password=services_password, domain_id="default"
    )
    for role in ("admin", "service"):
        ident.assign_project_role_to_user(project, user, _role(conn, role))
    for stype, (name, path) in CATALOG.items():
        service = next(iter(ident.services(type=stype)), None) or ident.create_service(name=name, type=stype)
        if not list(ident.endpoints(service_id=service.id)):
            ident.create_endpoint(
                service_id=service.id,
                interface="public",
                url=ports.url(name) + path,
                region_id=REGION,
            )


def wait_for_compute(admin_auth: dict, check_alive: Callable[[], None], timeout: float) -> None:
    """Until nova-compute is up and has reported its (fake) hypervisor to Placement."""
    conn = connect(admin_auth)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        check_alive()
        try:
            up = [s for s in conn.compute.services(binary="nova-compute") if s.state == "up"]
            if up and list(conn.placement.resource_providers()):
                return
        except Exception:  # noqa: BLE001 - the APIs may still be starting
            pass
        time.sleep(1)
    raise TimeoutError(f"nova-compute did not report a hypervisor within {timeout:.0f}s")


def setup_project(admin_auth: dict, project_password: str) -> None:
    conn = connect(admin_auth)
    ident = conn.identity
    project = ident.find_project(PROJECT) or ident.create_project(
        name=PROJECT, domain_id="default", description="mlops platform (local cloud)"
    )
    user = ident.find_user(PROJECT_USER) or ident.create_user(
        name=PROJECT_USER, password=project_password, domain_id="default", default_project_id=project.id
    )
    ident.assign_project_role_to_user(project, user, _role(conn, "member"))

    conn.set_compute_quotas(project.id, **COMPUTE_QUOTAS)
    conn.set_network_quotas(project.id, **NETWORK_QUOTAS)
    conn.set_volume_quotas(project.id, **VOLUME_QUOTAS)

    for name, (vcpus, ram, disk) in FLAVORS.items():
        if conn.compute.find_flavor(name) is None:
            conn.compute.create_flavor(name=name, vcpus=vcpus, ram=ram, disk=disk, is_public=True)

    if conn.image.find_image(IMAGE) is None:
        # Nova's fake driver never reads it: a few bytes make the image active.
        conn.image.create_image(
            IMAGE,
            data=b"\0" * 1024,
            disk_format="raw",
            container_format="bare",
            visibility="public",
            wait=True,
            timeout=60,
        )

    if conn.network.find_network(EXTERNAL_NETWORK) is None:
        net = conn.network.create_network(
            name=EXTERNAL_NETWORK,
            is_router_external=True,
            provider_network_type="flat",
            provider_physical_network=EXTERNAL_NETWORK,
        )
        conn.network.create_subnet(
            name=f"{EXTERNAL_NETWORK}-subnet",
            network_id=net.id,
            ip_version=4,
            cidr=EXTERNAL_CIDR,
            gateway_ip="203.0.113.1",
            allocation_pools=[{"start": "203.0.113.10", "end": "203.0.113.250"}],
            is_dhcp_enabled=False,
        )
