"""The config files of the local cloud's services (oslo.config INI), from its ports and paths.

Only what differs from each service's defaults is set; the comments say why a setting
is needed on a cloud with no data plane.
"""

from __future__ import annotations

import configparser
import io
from dataclasses import dataclass
from pathlib import Path

SERVICES_PASSWORD_USER = "mlops-services"  # one service user for every service's token checks
REGION = "RegionOne"
COMPUTE_HOST = "mlops-compute"


@dataclass
class Ports:
    mysql: int
    rabbit: int
    rabbit_dist: int
    epmd: int
    keystone: int
    glance: int
    placement: int
    nova: int
    neutron: int
    cinder: int

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{getattr(self, service)}"


def render(sections: dict[str, dict[str, object]]) -> str:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keep option names as written
    for name, options in sections.items():
        if name != "DEFAULT":
            parser.add_section(name)
        for key, value in options.items():
            if isinstance(value, bool):
                value = str(value).lower()
            parser.set(name, key, str(value))
    out = io.StringIO()
    parser.write(out)
    return out.getvalue()


class Configs:
    def __init__(
        self, ports: Ports, state_dir: Path, mysql_socket: Path, service_password: str, venv: Path
    ) -> None:
        self.p = ports
        self.dir = state_dir
        self.socket = mysql_socket
        self.password = service_password
        self.venv = venv

    @staticmethod
    def db_url(socket: Path, name: str) -> str:
        return f"mysql+pymysql://root@localhost/{name}?unix_socket={socket}&charset=utf8"

    def db(self, name: str) -> str:
        return self.db_url(self.socket, name)

    @property
    def transport_url(self) -> str:
        return f"rabbit://guest:guest@127.0.0.1:{self.p.rabbit}/"

    def auth(self, **extra) -> dict:
        """keystoneauth password settings of the services' user."""
        return {
            "auth_type": "password",
            "auth_url": self.p.url("keystone") + "/v3",
            "username": SERVICES_PASSWORD_USER,
            "password": self.password,
            "project_name": "service",
            "user_domain_name": "Default",
            "project_domain_name": "Default",
            "region_name": REGION,
            **extra,
        }

    def authtoken(self) -> dict:
        return {
            "www_authenticate_uri": self.p.url("keystone") + "/v3",
            "service_token_roles_required": True,
            **self.auth(),
        }

    def common(self, service: str) -> dict:
        return {
            "debug": False,
            "use_stderr": True,
            "state_path": str(self.dir / service),
            "transport_url": self.transport_url,
        }

    # -- each service -------------------------------------------------------------------

    def keystone(self) -> str:
        return render(
            {
                "DEFAULT": {"debug": False, "use_stderr": True},
                "database": {"connection": self.db("keystone")},
                "token": {"provider": "fernet"},
                "fernet_tokens": {"key_repository": str(self.dir / "keystone" / "fernet-keys")},
                "fernet_receipts": {"key_repository": str(self.dir / "keystone" / "fernet-keys")},
                "credential": {"key_repository": str(self.dir / "keystone" / "credential-keys")},
                # Without a cache every token validation costs 0.3-0.5 s.
                "cache": {"enabled": True, "backend": "dogpile.cache.memory"},
            }
        )

    def glance(self) -> str:
        return render(
            {
                "DEFAULT": {
                    **self.common("glance"),
                    "enabled_backends": "file:file",
                    "bind_host": "127.0.0.1",
                    "bind_port": self.p.glance,
                },
                "database": {"connection": self.db("glance")},
                "glance_store": {"default_backend": "file"},
                "file": {"filesystem_store_datadir": str(self.dir / "glance" / "images")},
                "os_glance_staging_store": {"filesystem_store_datadir": str(self.dir / "glance" / "staging")},
                "os_glance_tasks_store": {"filesystem_store_datadir": str(self.dir / "glance" / "tasks")},
                "keystone_authtoken": self.authtoken(),
                "paste_deploy": {"flavor": "keystone"},
                "oslo_concurrency": {"lock_path": str(self.dir / "glance" / "locks")},
            }
        )

    def placement(self) -> str:
        return render(
            {
                "DEFAULT": {"debug": False, "use_stderr": True},
                "placement_database": {"connection": self.db("placement")},
                "api": {"auth_strategy": "keystone"},
                "keystone_authtoken": self.authtoken(),
            }
        )

    def nova(self) -> str:
        return render(
            {
                "DEFAULT": {
                    **self.common("nova"),
                    "host": COMPUTE_HOST,
                    "my_ip": "127.0.0.1",
                    # FakeDriver refuses to restart with its made-up nodes.
                    "compute_driver": "fake.FakeDriverWithoutFakeNodes",
                    # No L2 agent sends network-vif-plugged: do not wait for it.
                    "vif_plugging_is_fatal": False,
                    "vif_plugging_timeout": 0,
                    "instances_path": str(self.dir / "nova" / "instances"),
                    "osapi_compute_workers": 1,
                    "metadata_workers": 1,
                },
                "api": {"auth_strategy": "keystone"},
                "api_database": {"connection": self.db("nova_api")},
                "database": {"connection": self.db("nova")},
                "conductor": {"workers": 1},
                "scheduler": {"workers": 1, "discover_hosts_in_cells_interval": -1},
                "keystone_authtoken": self.authtoken(),
                "service_user": {"send_service_user_token": True, **self.auth()},
                "placement": self.auth(),
                "neutron": self.auth(),
                "cinder": {"os_region_name": REGION, **self.auth()},
                "glance": {"region_name": REGION},
                "oslo_concurrency": {"lock_path": str(self.dir / "nova" / "locks")},
                "oslo_messaging_notifications": {"driver": "noop"},
                "wsgi": {"api_paste_config": str(self.dir / "etc" / "nova" / "api-paste.ini")},
                "vnc": {"enabled": False},
                "spice": {"enabled": False},
            }
        )

    def neutron(self) -> str:
        return render(
            {
                "DEFAULT": {
                    **self.common("neutron"),
                    "core_plugin": "ml2",
                    "service_plugins": "router",
                    "auth_strategy": "keystone",
                    "api_paste_config": str(self.venv / "etc" / "neutron" / "api-paste.ini"),
                    # No agents: nothing reports ports up to Nova, and nothing schedules routers.
                    "notify_nova_on_port_status_changes": False,
                    "notify_nova_on_port_data_changes": False,
                    "api_workers": 1,
                    "rpc_workers": 0,
                    "rpc_state_report_workers": 0,
                },
                "database": {"connection": self.db("neutron")},
                "keystone_authtoken": self.authtoken(),
                "nova": self.auth(),
                "ml2": {
                    "type_drivers": "flat,vxlan",
                    "tenant_network_types": "vxlan",
                    "mechanism_drivers": "mlops_bind_all",
                    "extension_drivers": "port_security",
                },
                "ml2_type_flat": {"flat_networks": "public"},
                "ml2_type_vxlan": {"vni_ranges": "1:1000"},
                "oslo_concurrency": {"lock_path": str(self.dir / "neutron" / "locks")},
                "oslo_messaging_notifications": {"driver": "noop"},
            }
        )

    def cinder(self) -> str:
        return render(
            {
                "DEFAULT": {
                    **self.common("cinder"),
                    "auth_strategy": "keystone",
                    "api_paste_config": str(self.venv / "etc" / "cinder" / "api-paste.ini"),
                    # Which list filters users may pass (name, status...): without it, none.
                    "resource_query_filters_file": str(
                        self.venv / "etc" / "cinder" / "resource_filters.json"
                    ),
                    "enabled_backends": "fake",
                    "default_volume_type": "__DEFAULT__",
                    "my_ip": "127.0.0.1",
                    "host": COMPUTE_HOST,
                    "osapi_volume_workers": 1,
                    "glance_api_servers": self.p.url("glance"),
                },
                "database": {"connection": self.db("cinder")},
                "keystone_authtoken": self.authtoken(),
                "nova": self.auth(),
                # The fake driver that ships in cinder's wheel: volumes exist only in the database.
                "fake": {
                    "volume_driver": "cinder.tests.fake_driver.FakeLoggingVolumeDriver",
                    "volume_backend_name": "fake",
                },
                "oslo_concurrency": {"lock_path": str(self.dir / "cinder" / "locks")},
                "oslo_messaging_notifications": {"driver": "noop"},
            }
        )
