# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""The infra section of platform.yml: cross-field checks, then the Terraform variables.

Role argument specs check types and choices; this checks what they cannot (CIDR syntax
and overlaps, etcd quorum, unique names, addresses inside the subnet) and derives the
variables of terraform/ and terraform/data-volume, so nothing is typed twice.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from pathlib import Path

from ansible_collections.mlops.platform.plugins.module_utils.errors import InputError

ROLES = ("control_plane", "etcd", "worker")
DNS_NAME = re.compile(r"^[a-z]([-a-z0-9]{0,30}[a-z0-9])?$")
NODE_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9]{0,30}[A-Za-z0-9])?$")
VOLUME_NAME = re.compile(r"^[A-Za-z0-9][-_.A-Za-z0-9]{0,62}$")
PORT = re.compile(r"^(\d{1,5})(?:-(\d{1,5}))?$")


class ConfigError(InputError):
    """The platform config is invalid; `problems` lists `field: what is wrong, what is allowed`."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid infra config:\n" + "\n".join(f"  - {p}" for p in problems))

    def report(self) -> dict:
        return {"problems": [{"field": p.split(":", 1)[0], "message": p} for p in self.problems]}


def _net(value, field, problems, *, host=False):
    try:
        return ipaddress.ip_address(value) if host else ipaddress.ip_network(value, strict=True)
    except (TypeError, ValueError) as e:
        kind = (
            "an IPv4 address such as 198.51.100.7" if host else "a CIDR such as 10.42.0.0/24 (host bits zero)"
        )
        problems.append(f"{field}: {value!r} is not {kind} ({e})")
        return None


def validate(cfg: dict) -> list[str]:
    """Every problem of the infra config, each naming its field; [] when valid."""
    p: list[str] = []
    name = cfg.get("cluster_name") or ""
    if not DNS_NAME.match(name):
        p.append(
            f"mlops_cluster_name: {name!r} is not DNS-safe (lowercase letters, digits, '-', "
            "start with a letter, at most 32 characters)"
        )
    if not cfg.get("cloud"):
        p.append("infra_cloud: empty; name the cloud of your clouds.yaml")

    nodes = cfg.get("nodes") or {}
    if not nodes:
        p.append("infra_nodes: empty; define at least one node with roles [control_plane, etcd, worker]")
    seen: dict[str, str] = {}
    for node, spec in sorted(nodes.items()):
        if not NODE_NAME.match(str(node)):
            p.append(
                f"infra_nodes.{node}: the name is not DNS-safe (letters, digits, '-', at most 32 characters)"
            )
        if str(node).lower() in seen:
            p.append(
                f"infra_nodes.{node}: same host name as {seen[str(node).lower()]} "
                "(names are case-insensitive)"
            )
        seen[str(node).lower()] = node
        roles = spec.get("roles") or []
        bad = [r for r in roles if r not in ROLES]
        if not roles or bad:
            p.append(f"infra_nodes.{node}.roles: {roles!r}; allowed: a non-empty list of {', '.join(ROLES)}")
        if not spec.get("flavor"):
            p.append(f"infra_nodes.{node}.flavor: empty; name a flavor of the cloud")
        size = spec.get("extra_volume_size")
        if size is not None and (not isinstance(size, int) or size < 1):
            p.append(f"infra_nodes.{node}.extra_volume_size: {size!r}; a whole number of GB, at least 1")
    cps = [n for n, s in nodes.items() if "control_plane" in (s.get("roles") or [])]
    etcd = [n for n, s in nodes.items() if "etcd" in (s.get("roles") or [])]
    if nodes and not cps:
        p.append("infra_nodes: no node has the control_plane role; at least one is needed")
    if nodes and len(etcd) % 2 == 0:
        p.append(
            f"infra_nodes: {len(etcd)} etcd members ({', '.join(sorted(etcd)) or 'none'}); "
            "the number must be odd (1, 3, 5) to keep a quorum"
        )

    network = cfg.get("network") or {}
    nets = {}
    if not network.get("existing_network"):
        nets["infra_network.cidr"] = _net(network.get("cidr", "10.42.0.0/24"), "infra_network.cidr", p)
    nets["mlops_pod_cidr"] = _net(cfg.get("pod_cidr"), "mlops_pod_cidr", p)
    nets["mlops_service_cidr"] = _net(cfg.get("service_cidr"), "mlops_service_cidr", p)
    known = [(k, v) for k, v in nets.items() if v is not None]
    for i, (ka, a) in enumerate(known):
        for kb, b in known[i + 1 :]:
            if a.overlaps(b):
                p.append(f"{kb}: {b} overlaps {ka} {a}; the node, pod and service ranges must be disjoint")
    subnet = nets.get("infra_network.cidr")
    fixed: dict[str, str] = {}
    for node, spec in sorted(nodes.items()):
        ip = spec.get("fixed_ip")
        if ip is None:
            continue
        addr = _net(ip, f"infra_nodes.{node}.fixed_ip", p, host=True)
        if addr is None:
            continue
        if subnet is not None and (
            addr not in subnet or addr in (subnet.network_address, subnet.broadcast_address)
        ):
            p.append(
                f"infra_nodes.{node}.fixed_ip: {ip} is not a host address of infra_network.cidr {subnet}"
            )
        if ip in fixed:
            p.append(f"infra_nodes.{node}.fixed_ip: {ip} is also the address of {fixed[ip]}")
        fixed[ip] = node

    admin = cfg.get("admin_cidrs") or []
    if not admin:
        p.append(
            "infra_admin_cidrs: empty; nobody could reach SSH or the Kubernetes API: list your address "
            "range (0.0.0.0/0 only if you mean the whole internet)"
        )
    for i, c in enumerate(admin):
        _net(c, f"infra_admin_cidrs[{i}]", p)
    for i, c in enumerate(cfg.get("ingress_cidrs") or []):
        _net(c, f"infra_ingress_cidrs[{i}]", p)
    for i, port in enumerate(cfg.get("ingress_ports") or []):
        m = PORT.match(str(port))
        if (
            not m
            or not all(1 <= int(x) <= 65535 for x in m.groups() if x)
            or (m.group(2) and int(m.group(2)) < int(m.group(1)))
        ):
            p.append(f"infra_ingress_ports[{i}]: {port!r}; a port 1-65535 or a range such as 30000-32767")

    fip = cfg.get("floating_ip") or {}
    if fip.get("address"):
        _net(fip["address"], "infra_floating_ip.address", p, host=True)
    elif not fip.get("pool") and not network.get("external_network"):
        p.append(
            "infra_floating_ip: no address, no pool and no infra_network.external_network: the nodes "
            "would have no public address for Ansible to reach; set one of them"
        )

    kp = cfg.get("keypair") or {}
    if not kp.get("name"):
        p.append("infra_keypair.name: empty; name an existing key pair, or a new one with public_key_file")
    if kp.get("public_key_file") and not Path(kp["public_key_file"]).expanduser().is_file():
        p.append(f"infra_keypair.public_key_file: {kp['public_key_file']} does not exist")

    dv = cfg.get("data_volume") or {}
    if dv:
        if not VOLUME_NAME.match(str(dv.get("name") or "")):
            p.append(f"infra_data_volume.name: {dv.get('name')!r}; 1-63 letters, digits, '-', '_' or '.'")
        if dv.get("existing_id"):
            try:
                uuid.UUID(str(dv["existing_id"]))
            except ValueError:
                p.append(f"infra_data_volume.existing_id: {dv['existing_id']!r} is not a volume ID (a UUID)")
        elif not dv.get("existing"):
            size = dv.get("size")
            if not isinstance(size, int) or size < 1:
                p.append(f"infra_data_volume.size: {size!r}; a whole number of GB, at least 1")
    backend = cfg.get("terraform_backend") or {}
    if backend.get("type", "local") == "s3":
        missing = [k for k in ("bucket", "key") if not (backend.get("config") or {}).get(k)]
        if missing:
            p.append(f"infra_terraform_backend.config: the s3 backend needs {', '.join(missing)}")
    return p


def check(cfg: dict) -> None:
    problems = validate(cfg)
    if problems:
        raise ConfigError(problems)


def ingress_rule_count(cfg: dict) -> int:
    """Security group rules terraform/modules/security creates for this config."""
    return (
        1
        + 2 * len(cfg.get("admin_cidrs") or [])
        + len(cfg.get("ingress_cidrs") or []) * len(cfg.get("ingress_ports") or ["80", "443"])
    )


def cluster_variables(cfg: dict, data_volume_id: str | None = None) -> dict:
    """Variables of terraform/ (the cluster root)."""
    kp = cfg.get("keypair") or {}
    keypair = {"name": kp["name"]}
    if kp.get("public_key_file"):
        keypair["public_key"] = Path(kp["public_key_file"]).expanduser().read_text().strip()
    network = {k: v for k, v in (cfg.get("network") or {}).items() if v not in (None, "")}
    fip = {k: v for k, v in (cfg.get("floating_ip") or {}).items() if k in ("pool", "address") and v}
    nodes = {}
    for name, spec in (cfg.get("nodes") or {}).items():
        nodes[name] = {
            k: v
            for k, v in spec.items()
            if k in ("roles", "flavor", "image", "fixed_ip", "extra_volume_size") and v is not None
        }
    out = {
        "cloud": cfg["cloud"],
        "cluster_name": cfg["cluster_name"],
        "image": cfg["image"],
        "ssh_user": cfg.get("ssh_user") or "debian",
        "nodes": nodes,
        "network": network,
        "pod_cidr": cfg["pod_cidr"],
        "service_cidr": cfg["service_cidr"],
        "admin_cidrs": list(cfg.get("admin_cidrs") or []),
        "ingress_cidrs": list(cfg.get("ingress_cidrs") or []),
        "ingress_ports": [str(x) for x in (cfg.get("ingress_ports") or ["80", "443"])],
        "keypair": keypair,
        "floating_ip": fip,
        "server_group_policy": cfg.get("server_group_policy") or "soft-anti-affinity",
    }
    if data_volume_id:
        out["data_volume"] = {
            "id": data_volume_id,
            "device": (cfg.get("data_volume") or {}).get("device") or "/dev/vdb",
        }
    return out


def data_volume_variables(cfg: dict) -> dict:
    """Variables of terraform/data-volume."""
    dv = cfg.get("data_volume") or {}
    out = {"cloud": cfg["cloud"], "name": dv["name"], "existing": bool(dv.get("existing"))}
    for key in ("existing_id", "size", "volume_type", "availability_zone"):
        if dv.get(key) is not None:
            out[key] = dv[key]
    return out
