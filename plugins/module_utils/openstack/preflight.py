# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""Check a cloud before Terraform touches it: credentials, named resources, quota headroom.

Every problem names the platform-config field and the value found, and all problems are
collected into one report instead of stopping at the first.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ansible_collections.mlops.platform.plugins.module_utils.config import infra
from ansible_collections.mlops.platform.plugins.module_utils.errors import PlatformError
from ansible_collections.mlops.platform.plugins.module_utils.openstack.clouds import find_cloud


class PreflightError(PlatformError):
    """The cloud is not ready for the plan; `problems` lists each one."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p.field}: {p.message}" for p in problems)
        super().__init__(f"OpenStack preflight found {len(problems)} problem(s):\n{lines}")

    def report(self) -> dict:
        return {"problems": [{"field": p.field, "message": p.message} for p in self.problems]}


@dataclass
class Problem:
    field: str
    message: str


@dataclass
class Request:
    """What the infra config asks of the cloud (field names as in platform.yml)."""

    cloud: str
    cluster_name: str
    image: str
    nodes: dict  # name => {flavor, image?, extra_volume_size?}
    keypair_name: str
    keypair_create: bool = False
    external_network: str | None = None
    existing_network: str | None = None
    floating_ip_address: str | None = None
    floating_ip_pool: str | None = None
    data_volume: dict = field(default_factory=dict)  # name, size, existing, existing_id
    security_group_rules: int = 1


# Neutron gives every new security group two egress rules (IPv4 and IPv6, any
# destination); they count against the security_group_rules quota like ours.
NEW_GROUP_EGRESS_RULES = 2


@dataclass
class Need:
    quota: str
    amount: int
    why: str


def _find(method, name_or_id):
    """A proxy's find_* by name or ID; None when absent (without the deprecated ignore_missing=True)."""
    from openstack import exceptions as sdk_exc

    try:
        return method(name_or_id, ignore_missing=False)
    except sdk_exc.NotFoundException:
        return None


def connect(cloud: str, extra_dirs=()):
    """One authenticated openstacksdk connection for the cloud named in clouds.yaml."""
    from keystoneauth1 import exceptions as ks_exc

    import openstack
    import openstack.config
    import openstack.connection

    path = find_cloud(cloud, list(extra_dirs))
    why = "rejected the credentials: renew the application credential (HTTP 401)"
    rejected = PreflightError([Problem("infra_cloud", f"cloud {cloud!r} ({path}) {why}")])
    try:
        region = openstack.config.OpenStackConfig(config_files=[str(path)], load_envvars=False).get_one(
            cloud=cloud
        )
        conn = openstack.connection.Connection(config=region)
        conn.authorize()
    except ks_exc.Unauthorized as e:
        raise rejected from e
    except ks_exc.ClientException as e:
        raise PreflightError(
            [Problem("infra_cloud", f"cannot authenticate to cloud {cloud!r} ({path}): {e}")]
        ) from e
    except openstack.exceptions.SDKException as e:
        # Connection.authorize() re-raises keystoneauth's 401 as a bare SDKException.
        if (
            getattr(e, "status_code", None) == 401
            or isinstance(e.__cause__, ks_exc.Unauthorized)
            or "(HTTP 401)" in str(e)
        ):
            raise rejected from e
        raise PreflightError([Problem("infra_cloud", f"cloud {cloud!r} ({path}) is not usable: {e}")]) from e
    return conn


class Preflight:
    def __init__(self, conn, request: Request) -> None:
        self.conn = conn
        self.req = request
        self.problems: list[Problem] = []
        self.flavors: dict = {}

    def _problem(self, where: str, message: str) -> None:
        self.problems.append(Problem(where, message))

    # -- named resources ----------------------------------------------------------------
    def check_images(self) -> None:
        wanted = {self.req.image: "infra_image"}
        for name, node in self.req.nodes.items():
            if node.get("image"):
                wanted.setdefault(node["image"], f"infra_nodes.{name}.image")
        for image, where in wanted.items():
            found = _find(self.conn.image.find_image, image)
            if found is None:
                self._problem(where, f"image {image!r} does not exist")
            elif found.status != "active":
                self._problem(where, f"image {image!r} is {found.status}, not active")

    def check_flavors(self) -> None:
        for name, node in sorted(self.req.nodes.items()):
            flavor = node["flavor"]
            if flavor not in self.flavors:
                self.flavors[flavor] = _find(self.conn.compute.find_flavor, flavor)
            if self.flavors[flavor] is None:
                self._problem(f"infra_nodes.{name}.flavor", f"flavor {flavor!r} does not exist")

    def check_networks(self) -> None:
        if self.req.external_network:
            net = _find(self.conn.network.find_network, self.req.external_network)
            if net is None:
                self._problem(
                    "infra_network.external_network", f"network {self.req.external_network!r} does not exist"
                )
            elif not net.is_router_external:
                self._problem(
                    "infra_network.external_network",
                    f"network {self.req.external_network!r} is not external (router:external is false)",
                )
        if self.req.existing_network:
            net = _find(self.conn.network.find_network, self.req.existing_network)
            if net is None:
                self._problem(
                    "infra_network.existing_network", f"network {self.req.existing_network!r} does not exist"
                )
        pool = self.req.floating_ip_pool
        if pool and pool != self.req.external_network and _find(self.conn.network.find_network, pool) is None:
            self._problem("infra_floating_ip.pool", f"network {pool!r} does not exist")

    def check_keypair(self) -> None:
        found = _find(self.conn.compute.find_keypair, self.req.keypair_name)
        if found is None and not self.req.keypair_create:
            self._problem(
                "infra_keypair.name",
                f"key pair {self.req.keypair_name!r} does not exist "
                "(set infra_keypair.public_key_file to create it)",
            )

    def check_floating_ip(self, cluster_exists: bool) -> None:
        addr = self.req.floating_ip_address
        if not addr:
            return
        ips = list(self.conn.network.ips(floating_ip_address=addr))
        if not ips:
            self._problem("infra_floating_ip.address", f"floating IP {addr} is not allocated to this project")
        elif ips[0].port_id and not cluster_exists:
            self._problem(
                "infra_floating_ip.address",
                f"floating IP {addr} is already associated with port {ips[0].port_id}",
            )

    def check_data_volume(self) -> bool:
        """Whether the data volume still has to be created."""
        dv = self.req.data_volume or {}
        if not dv:
            return False
        if dv.get("existing_id"):
            vol = _find(self.conn.block_storage.find_volume, dv["existing_id"])
            if vol is None:
                self._problem("infra_data_volume.existing_id", f"volume {dv['existing_id']} does not exist")
            return False
        vol = _find(self.conn.block_storage.find_volume, dv["name"])
        if dv.get("existing"):
            if vol is None:
                self._problem(
                    "infra_data_volume.name", f"volume {dv['name']!r} does not exist (existing: true)"
                )
            elif vol.status not in ("available", "in-use"):
                self._problem("infra_data_volume.name", f"volume {dv['name']!r} is {vol.status}")
            return False
        return vol is None

    # -- quotas --------------------------------------------------------------------------
    def needs(
        self, existing_servers: set[str], create_volume: bool, sg_exists: bool, sg_rules: int
    ) -> list[Need]:
        new = [n for n in sorted(self.req.nodes) if f"{self.req.cluster_name}-{n}" not in existing_servers]
        cores = ram = 0
        for n in new:
            flavor = self.flavors.get(self.req.nodes[n]["flavor"])
            if flavor is not None:
                cores += flavor.vcpus
                ram += flavor.ram
        extra = [self.req.nodes[n].get("extra_volume_size") for n in new]
        extra = [s for s in extra if s]
        gigabytes = sum(extra) + (int((self.req.data_volume or {}).get("size") or 0) if create_volume else 0)
        network_new = not self.req.existing_network and not existing_servers
        egress = 0 if sg_exists else NEW_GROUP_EGRESS_RULES
        needs = [
            Need("instances", len(new), f"{len(new)} new node(s)"),
            Need("cores", cores, "vCPUs of the new nodes' flavors"),
            Need("ram", ram, "MB of RAM of the new nodes' flavors"),
            Need(
                "floating_ips",
                1 if not self.req.floating_ip_address and not existing_servers else 0,
                "the access node's floating IP",
            ),
            Need("volumes", len(extra) + (1 if create_volume else 0), "extra volumes and the data volume"),
            Need("gigabytes", gigabytes, "GB of the new volumes"),
            Need("security_groups", 0 if sg_exists else 1, "the cluster security group"),
            Need(
                "security_group_rules",
                max(self.req.security_group_rules - sg_rules, 0) + egress,
                "the cluster's rules",
            ),
            Need("ports", len(new) + (2 if network_new else 0), "one port per new node (+ router and DHCP)"),
        ]
        return [n for n in needs if n.amount > 0]

    def quota_headroom(self) -> dict:
        """quota name => (limit, used); limit -1 means unlimited."""
        project = self.conn.current_project_id
        out = {}
        lim = self.conn.compute.get_limits().absolute
        out["instances"] = (lim.instances, lim.instances_used)
        out["cores"] = (lim.total_cores, lim.total_cores_used)
        out["ram"] = (lim.total_ram, lim.total_ram_used)
        net = self.conn.network.get_quota(project, details=True)
        for name, attr in (
            ("floating_ips", "floating_ips"),
            ("security_groups", "security_groups"),
            ("security_group_rules", "security_group_rules"),
            ("ports", "ports"),
        ):
            detail = getattr(net, attr) or {}
            out[name] = (detail.get("limit", -1), detail.get("used", 0) + detail.get("reserved", 0))
        vol = self.conn.block_storage.get_quota_set(project, usage=True)
        for name in ("volumes", "gigabytes"):
            usage = (vol.usage or {}).get(name, 0)
            out[name] = (getattr(vol, name), usage + (vol.reservation or {}).get(name, 0))
        return out

    def check_quotas(self, needs: list[Need]) -> dict:
        headroom = self.quota_headroom()
        for need in needs:
            limit, used = headroom[need.quota]
            if limit is None or limit < 0:
                continue
            free = limit - used
            if need.amount > free:
                self._problem(
                    f"quota {need.quota}",
                    f"the plan needs {need.amount} ({need.why}) but only {free} of {limit} are free "
                    f"({used} used)",
                )
        return {k: {"limit": v[0], "used": v[1]} for k, v in headroom.items()}

    def run(self) -> dict:
        self.check_images()
        self.check_flavors()
        self.check_networks()
        self.check_keypair()
        prefix = f"{self.req.cluster_name}-"
        servers = {s.name for s in self.conn.compute.servers() if s.name.startswith(prefix)}
        self.check_floating_ip(bool(servers))
        create_volume = self.check_data_volume()
        groups = list(self.conn.network.security_groups(name=self.req.cluster_name))
        sg_rules = (
            len(
                list(
                    self.conn.network.security_group_rules(
                        security_group_id=groups[0].id, direction="ingress"
                    )
                )
            )
            if groups
            else 0
        )
        needs = self.needs(servers, create_volume, bool(groups), sg_rules)
        quotas = self.check_quotas(needs)
        if self.problems:
            raise PreflightError(self.problems)
        return {
            "existing_nodes": sorted(s[len(prefix) :] for s in servers),
            "needs": {n.quota: n.amount for n in needs},
            "quotas": quotas,
            "create_data_volume": create_volume,
        }


ARGUMENT_SPEC = dict(
    cloud_checks=dict(type="bool", default=True),
    config=dict(type="dict", required=True),
    data_volume_id=dict(type="str"),
)
MODULE_RULES = {"supports_check_mode": True}


def build_request(cfg: dict) -> Request:
    """What the preflight checks, from the platform config (already checked by infra.check)."""
    network = cfg.get("network") or {}
    fip = cfg.get("floating_ip") or {}
    kp = cfg.get("keypair") or {}
    return Request(
        cloud=cfg["cloud"],
        cluster_name=cfg["cluster_name"],
        image=cfg["image"],
        nodes=cfg["nodes"],
        keypair_name=kp["name"],
        keypair_create=bool(kp.get("public_key_file")),
        external_network=network.get("external_network"),
        existing_network=network.get("existing_network"),
        floating_ip_address=fip.get("address"),
        floating_ip_pool=fip.get("pool"),
        data_volume=cfg.get("data_volume") or {},
        security_group_rules=infra.ingress_rule_count(cfg),
    )


def run(params: dict, check_mode: bool) -> dict:
    """The openstack_preflight module's run: the config checked, Terraform's variables, the cloud's report."""
    cfg = params["config"]
    infra.check(cfg)
    result = {
        "changed": False,
        "terraform_variables": infra.cluster_variables(cfg, params["data_volume_id"]),
        "data_volume_variables": infra.data_volume_variables(cfg) if cfg.get("data_volume") else {},
        "security_group_rules": infra.ingress_rule_count(cfg),
        "report": {},
    }
    if params["cloud_checks"]:
        result["report"] = Preflight(connect(cfg["cloud"]), build_request(cfg)).run()
    return result
