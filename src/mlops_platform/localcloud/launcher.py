"""Start, find and stop the local OpenStack's processes (see the package docstring)."""

from __future__ import annotations

import concurrent.futures
import json
import os
import secrets
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

from mlops_platform import procs, statefile
from mlops_platform.localcloud.configs import Configs, Ports

PLUGINS = Path(__file__).parent / "service_plugins"
READY_TIMEOUT = 180.0
DATABASES = ("keystone", "glance", "placement", "nova_api", "nova", "nova_cell0", "neutron", "cinder")
# Start order: the APIs the others call first.
APIS = ("keystone", "glance", "placement", "nova", "neutron", "cinder")
WORKERS = {
    "nova-conductor": ("nova", "nova-conductor"),
    "nova-scheduler": ("nova", "nova-scheduler"),
    "nova-compute": ("nova", "nova-compute"),
    "cinder-scheduler": ("cinder", "cinder-scheduler"),
    "cinder-volume": ("cinder", "cinder-volume"),
}


class LocalCloudError(Exception):
    """The local cloud could not be installed, started, reached or stopped."""


@dataclass
class State:
    ports: dict
    pids: dict[str, int] = field(default_factory=dict)


class LocalCloud:
    """One local OpenStack, owned through a state directory (data, configs, logs, pids)."""

    def __init__(self, state_dir: str | os.PathLike, venv: str | os.PathLike | None = None) -> None:
        self.state_dir = Path(state_dir).resolve()
        self.venv = Path(venv).resolve() if venv else None
        self.state_file = self.state_dir / "state.json"
        self.clouds_yaml = self.state_dir / "clouds.yaml"
        self.logs = self.state_dir / "logs"
        self.etc = self.state_dir / "etc"
        self.mysql_socket = self.state_dir / "mysql" / "mysqld.sock"
        self.secrets_file = self.state_dir / "secrets.json"
        self.timings: dict[str, float] = {}

    # -- public ----------------------------------------------------------------------

    def is_ready(self) -> bool:
        try:
            state = self._load_state()
        except LocalCloudError:
            return False
        return all(procs.alive(pid) for pid in state.pids.values()) and self._api_ok(
            Ports(**state.ports).url("keystone") + "/v3"
        )

    def up(self, timeout: float = READY_TIMEOUT) -> Path:
        """Start (or find running) and return the clouds.yaml path."""
        if self.is_ready():
            return self.clouds_yaml
        self.down()
        venv = self._venv()
        started = time.monotonic()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.logs.mkdir(exist_ok=True)
        ports = self._ports()
        state = State(ports=asdict(ports))
        self._save_state(state)  # pids recorded as they start, so down() finds every one
        fresh = not (self.state_dir / "initialized").exists()
        try:
            self._write_configs(venv, ports)
            self._start_backends(state, ports, fresh)
            self._mark("backends", started)
            if fresh:
                self._sync_databases(venv, ports)
                self._mark("db sync", started)
            from mlops_platform.localcloud import project

            self._start_api(state, venv, ports, "keystone")
            admin = self._admin_auth(ports)
            if fresh:
                project.register_services(admin, self._secrets()["services"], ports)
            for name in APIS[1:]:
                self._start_api(state, venv, ports, name, wait=False)
            for name in WORKERS:
                self._start_worker(state, venv, name)
            for name in APIS[1:]:
                self._wait_http(state, name, ports.url(name))
            self._mark("apis", started)
            project.wait_for_compute(admin, lambda: self._check_alive(state), timeout)
            if fresh:
                self._run(
                    venv,
                    "nova-manage",
                    "--config-file",
                    self._conf("nova"),
                    "cell_v2",
                    "discover_hosts",
                    env=self._service_env("nova"),
                )
                project.setup_project(admin, self._secrets()["project"])
                (self.state_dir / "initialized").write_text("")
            self._write_clouds_yaml(ports)
            self._mark("ready", started)
        except BaseException:
            self.down()
            raise
        return self.clouds_yaml

    def down(self) -> None:
        """Stop every process this state directory started, newest first; leave no orphan."""
        try:
            state = self._load_state()
        except LocalCloudError:
            return
        for _name, pid in reversed(list(state.pids.items())):
            procs.terminate(pid, grace=15.0)
        self.state_file.unlink(missing_ok=True)

    def stop_service(self, name: str) -> None:
        """Stop one process (fault tests); `start_service` brings it back."""
        state = self._load_state()
        pid = state.pids.pop(name)
        procs.terminate(pid)
        self._save_state(state)

    def start_service(self, name: str) -> None:
        state = self._load_state()
        venv = self._venv()
        ports = Ports(**state.ports)
        if name in APIS:
            self._start_api(state, venv, ports, name)
        else:
            self._start_worker(state, venv, name)

    def pids(self) -> dict[str, int]:
        return dict(self._load_state().pids)

    def rss_mib(self) -> float:
        """Resident memory of every process of the cloud and their children, in MiB."""
        try:
            roots = self._load_state().pids.values()
        except LocalCloudError:
            return 0.0
        return sum(procs.rss_mib(pid) for pid in roots)

    # -- processes -------------------------------------------------------------------

    def _venv(self) -> Path:
        venv = self.venv or Path(os.environ.get("MLOPS_OPENSTACK_VENV", ".cache/openstack")).resolve()
        if not (venv / "bin" / "nova-manage").exists():
            raise LocalCloudError(
                f"{venv} holds no OpenStack services: run scripts/openstack-deps.sh (make test-deps)"
            )
        return venv

    def _ports(self) -> Ports:
        """The ports of the last run when free again (the catalog holds them), else new ones."""
        saved = self.state_dir / "ports.json"
        if saved.exists():
            ports = Ports(**json.loads(saved.read_text()))
            if all(_port_free(p) for p in asdict(ports).values()):
                return ports
            if (self.state_dir / "initialized").exists():
                raise LocalCloudError(f"a port of {saved} is taken; the catalog holds these ports")
        ports = Ports(**{name: procs.free_port() for name in Ports.__dataclass_fields__})
        saved.write_text(json.dumps(asdict(ports)))
        return ports

    def _spawn(self, state: State, name: str, argv: list[str], env: dict | None = None) -> int:
        env = {**os.environ, **(env or {})}
        pid = procs.spawn(argv, self.logs / f"{name}.log", env=env, cwd=str(self.state_dir))
        state.pids[name] = pid
        self._save_state(state)
        return pid

    def _check_alive(self, state: State) -> None:
        for name, pid in state.pids.items():
            if not procs.alive(pid):
                raise LocalCloudError(f"{name} exited; last log lines:\n{self._tail(name)}")

    def _tail(self, name: str) -> str:
        log = self.logs / f"{name}.log"
        return log.read_text(errors="replace")[-3000:] if log.exists() else "(no log)"

    def _all_pids(self) -> list[int]:
        try:
            roots = set(self._load_state().pids.values())
        except LocalCloudError:
            return []
        found = set()
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                pgid = int(stat.read_text().rsplit(")", 1)[1].split()[2])
            except (OSError, IndexError, ValueError):
                continue
            if pgid in roots:
                found.add(int(stat.parent.name))
        return sorted(found)

    def _run(self, venv: Path | None, *argv: str, env: dict | None = None, log: str = "setup") -> None:
        exe = str(venv / "bin" / argv[0]) if venv else argv[0]
        name = log
        log = self.logs / f"{name}.log"
        started = time.monotonic()
        with log.open("ab") as out:
            out.write(f"\n$ {' '.join(argv)}\n".encode())
            out.flush()
            rc = subprocess.run(  # noqa: S603
                [exe, *argv[1:]], stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
            ).returncode
            out.write(f"# exit {rc} in {time.monotonic() - started:.1f}s\n".encode())
        if rc != 0:
            raise LocalCloudError(f"{' '.join(argv)} failed (exit {rc}); see {log}:\n{self._tail(name)}")

    # -- MariaDB and RabbitMQ ----------------------------------------------------------

    def _start_backends(self, state: State, ports: Ports, fresh: bool) -> None:
        mysql_dir = self.state_dir / "mysql"
        if fresh or not (mysql_dir / "data").exists():
            shutil.rmtree(mysql_dir, ignore_errors=True)
            (mysql_dir / "data").mkdir(parents=True)
            self._run(
                None,
                "mariadb-install-db",
                "--no-defaults",
                f"--datadir={mysql_dir / 'data'}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                "--user=root" if os.geteuid() == 0 else f"--user={os.getlogin()}",
            )
        self._spawn(
            state,
            "mariadb",
            [
                "mariadbd",
                "--no-defaults",
                f"--datadir={mysql_dir / 'data'}",
                f"--socket={self.mysql_socket}",
                f"--pid-file={mysql_dir / 'mysqld.pid'}",
                "--bind-address=127.0.0.1",
                f"--port={ports.mysql}",
                "--skip-name-resolve",
                "--innodb-buffer-pool-size=64M",
                "--innodb-flush-log-at-trx-commit=0",
                "--max-connections=500",
                *(["--user=root"] if os.geteuid() == 0 else []),
            ],
        )
        rabbit = self.state_dir / "rabbitmq"
        rabbit.mkdir(exist_ok=True)
        (rabbit / "rabbitmq.conf").write_text(
            f"listeners.tcp.default = 127.0.0.1:{ports.rabbit}\n"
            f"distribution.listener.interface = 127.0.0.1\n"
            f"distribution.listener.port_range.min = {ports.rabbit_dist}\n"
            f"distribution.listener.port_range.max = {ports.rabbit_dist}\n"
            "loopback_users = none\n"
        )
        (rabbit / "enabled_plugins").write_text("[].\n")
        epmd_env = {"ERL_EPMD_PORT": str(ports.epmd), "ERL_EPMD_ADDRESS": "127.0.0.1", "HOME": str(rabbit)}
        self._spawn(state, "epmd", ["epmd", "-address", "127.0.0.1", "-port", str(ports.epmd)], epmd_env)
        self._wait_port(state, "epmd", ports.epmd)
        self._spawn(
            state,
            "rabbitmq",
            ["/usr/lib/rabbitmq/bin/rabbitmq-server"],
            {
                **epmd_env,
                "RABBITMQ_NODENAME": "mlops@localhost",
                "RABBITMQ_CONFIG_FILE": str(rabbit / "rabbitmq"),
                "RABBITMQ_ENABLED_PLUGINS_FILE": str(rabbit / "enabled_plugins"),
                "RABBITMQ_MNESIA_BASE": str(rabbit / "mnesia"),
                "RABBITMQ_LOG_BASE": str(self.logs),
                "RABBITMQ_LOGS": "-",
                "RABBITMQ_DIST_PORT": str(ports.rabbit_dist),
                "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
                "RABBITMQ_PID_FILE": str(rabbit / "rabbitmq.pid"),
            },
        )
        self._wait_port(state, "mariadb", ports.mysql)
        if fresh:
            statements = "".join(
                f"CREATE DATABASE IF NOT EXISTS {db} CHARACTER SET utf8mb4;" for db in DATABASES
            )
            self._run(None, "mariadb", f"--socket={self.mysql_socket}", "-uroot", "-e", statements)
        self._wait_port(state, "rabbitmq", ports.rabbit, timeout=120)

    # -- OpenStack services ----------------------------------------------------------

    def _conf(self, service: str) -> str:
        names = {"glance": "glance-api.conf"}
        return str(self.etc / service / names.get(service, f"{service}.conf"))

    def _write_configs(self, venv: Path, ports: Ports) -> None:
        configs = Configs(ports, self.state_dir, self.mysql_socket, self._secrets()["services"], venv)
        for service in APIS:
            d = self.etc / service
            d.mkdir(parents=True, exist_ok=True)
            Path(self._conf(service)).write_text(getattr(configs, service)())
        for service in ("keystone", "glance", "nova", "neutron", "cinder", "placement"):
            (self.state_dir / service).mkdir(exist_ok=True)
        # glance and nova read their paste files from their config directory: link the
        # venv's (the files ship in the wheels).
        for service, name in (("glance", "glance-api-paste.ini"), ("nova", "api-paste.ini")):
            link = self.etc / service / name
            link.unlink(missing_ok=True)
            link.symlink_to(venv / "etc" / service / name)
        self._write_plugin_path()

    def _write_plugin_path(self) -> None:
        """The ML2 driver's entry point, as a dist-info beside it (stevedore finds drivers that way)."""
        pylib = self.state_dir / "pylib"
        info = pylib / "mlops_localcloud_plugins-1.0.dist-info"
        info.mkdir(parents=True, exist_ok=True)
        (info / "METADATA").write_text(
            "Metadata-Version: 2.1\nName: mlops-localcloud-plugins\nVersion: 1.0\n"
        )
        (info / "entry_points.txt").write_text(
            "[neutron.ml2.mechanism_drivers]\nmlops_bind_all = mlops_bind_all:BindAllMechanismDriver\n"
        )

    def _service_env(self, service: str) -> dict:
        return {
            "PYTHONPATH": f"{PLUGINS}:{self.state_dir / 'pylib'}",
            "MLOPS_OS_SERVICE": service,
            "MLOPS_OS_CONFIG": self._conf(service),
            "OS_KEYSTONE_CONFIG_DIR": str(self.etc / "keystone"),
            "OS_GLANCE_CONFIG_DIR": str(self.etc / "glance"),
            "OS_PLACEMENT_CONFIG_DIR": str(self.etc / "placement"),
            "OS_NOVA_CONFIG_DIR": str(self.etc / "nova"),
        }

    def _start_api(self, state: State, venv: Path, ports: Ports, name: str, wait: bool = True) -> None:
        argv = [
            str(venv / "bin" / "gunicorn"),
            "--workers=1",
            f"--bind=127.0.0.1:{getattr(ports, name)}",
            "--timeout=300",
            "--no-control-socket",
            f"--pythonpath={PLUGINS}",
            "mlops_wsgi_app:application",
        ]
        self._spawn(state, name, argv, self._service_env(name))
        if wait:
            self._wait_http(state, name, ports.url(name))

    def _start_worker(self, state: State, venv: Path, name: str) -> None:
        service, binary = WORKERS[name]
        self._spawn(
            state,
            name,
            [str(venv / "bin" / binary), "--config-file", self._conf(service)],
            self._service_env(service),
        )

    def _sync_databases(self, venv: Path, ports: Ports) -> None:
        """Each service's schema, in two chains at once (each step is mostly Python start-up)."""
        nova = ["--config-file", self._conf("nova")]
        env = self._service_env("nova")
        cell0 = Configs.db_url(self.mysql_socket, "nova_cell0")

        def identity_and_network() -> None:
            self._run(
                venv, "keystone-manage", "--config-file", self._conf("keystone"), "db_sync", log="setup-a"
            )
            self._keystone_setup(venv, ports)
            neutron = ["--config-file", self._conf("neutron")]
            self._run(venv, "neutron-db-manage", *neutron, "upgrade", "heads", log="setup-a")
            self._run(
                venv,
                "placement-manage",
                "--config-file",
                self._conf("placement"),
                "db",
                "sync",
                log="setup-a",
            )

        def compute_image_volume() -> None:
            self._run(venv, "nova-manage", *nova, "api_db", "sync", env=env, log="setup-b")
            self._run(
                venv,
                "nova-manage",
                *nova,
                "cell_v2",
                "map_cell0",
                "--database_connection",
                cell0,
                env=env,
                log="setup-b",
            )
            self._run(venv, "nova-manage", *nova, "db", "sync", env=env, log="setup-b")
            self._run(
                venv,
                "nova-manage",
                *nova,
                "cell_v2",
                "create_cell",
                "--name",
                "cell1",
                env=env,
                log="setup-b",
            )
            self._run(venv, "glance-manage", "--config-file", self._conf("glance"), "db_sync", log="setup-b")
            self._run(
                venv, "cinder-manage", "--config-file", self._conf("cinder"), "db", "sync", log="setup-b"
            )

        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            for future in [pool.submit(identity_and_network), pool.submit(compute_image_volume)]:
                future.result()

    def _keystone_setup(self, venv: Path, ports: Ports) -> None:
        conf = ["--config-file", self._conf("keystone")]
        owner = [f"--keystone-user={_user()}", f"--keystone-group={_group()}"]
        self._run(venv, "keystone-manage", *conf, "fernet_setup", *owner, log="setup-a")
        self._run(venv, "keystone-manage", *conf, "credential_setup", *owner, log="setup-a")
        url = ports.url("keystone") + "/v3"
        self._run(
            venv,
            "keystone-manage",
            *conf,
            "bootstrap",
            "--bootstrap-admin-url",
            url,
            "--bootstrap-public-url",
            url,
            "--bootstrap-internal-url",
            url,
            "--bootstrap-region-id",
            "RegionOne",
            env={"OS_BOOTSTRAP_PASSWORD": self._secrets()["admin"]},  # not on the command line
            log="setup-a",
        )

    # -- readiness -------------------------------------------------------------------

    def _wait_port(self, state: State, name: str, port: int, timeout: float = 60.0) -> None:
        self._wait(
            state, name, lambda: procs.listening(port), f"not listening on 127.0.0.1:{port}", timeout, 0.2
        )

    def _wait_http(self, state: State, name: str, url: str, timeout: float = READY_TIMEOUT) -> None:
        self._wait(state, name, lambda: self._api_ok(url), f"not answering at {url}", timeout, 0.3)

    def _wait(self, state: State, name: str, ready, what: str, timeout: float, interval: float) -> None:
        """Poll `ready()`; fail with `name`'s log tail when it is still `what` after `timeout` or died."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ready():
                return
            self._check_alive(state)
            time.sleep(interval)
        raise LocalCloudError(f"{name} {what} after {timeout:.0f}s:\n{self._tail(name)}")

    @staticmethod
    def _api_ok(url: str) -> bool:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:  # noqa: S310 - loopback
                return r.status < 500
        except urllib.error.HTTPError as e:
            return e.code < 500  # 300 (version list) and 401 mean the API is up
        except (OSError, ValueError):
            return False

    def _mark(self, what: str, started: float) -> None:
        self.timings[what] = round(time.monotonic() - started, 1)

    # -- credentials and clouds.yaml ---------------------------------------------------

    def _secrets(self) -> dict:
        if not self.secrets_file.exists():
            self.state_dir.mkdir(parents=True, exist_ok=True)
            data = {k: secrets.token_urlsafe(18) for k in ("admin", "services", "project")}
            statefile.write_private(self.secrets_file, json.dumps(data))
        return json.loads(self.secrets_file.read_text())

    def _admin_auth(self, ports: Ports) -> dict:
        return {
            "auth_url": ports.url("keystone") + "/v3",
            "username": "admin",
            "password": self._secrets()["admin"],
            "project_name": "admin",
            "user_domain_name": "Default",
            "project_domain_name": "Default",
        }

    def _write_clouds_yaml(self, ports: Ports) -> None:
        from mlops_platform.localcloud.project import PROJECT, PROJECT_USER

        url = ports.url("keystone") + "/v3"
        common = {"region_name": "RegionOne", "interface": "public", "identity_api_version": 3}
        clouds = {
            "clouds": {
                "mlops": {
                    "auth": {
                        "auth_url": url,
                        "username": PROJECT_USER,
                        "password": self._secrets()["project"],
                        "project_name": PROJECT,
                        "user_domain_name": "Default",
                        "project_domain_name": "Default",
                    },
                    **common,
                },
                "mlops-admin": {"auth": self._admin_auth(ports), **common},
            }
        }
        statefile.write_private(self.clouds_yaml, json.dumps(clouds, indent=2))  # JSON is YAML

    # -- state -----------------------------------------------------------------------

    def _save_state(self, state: State) -> None:
        statefile.save(self.state_file, state)

    def _load_state(self) -> State:
        missing = LocalCloudError(f"no local cloud recorded in {self.state_dir}")
        return statefile.load(self.state_file, State, missing)


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _user() -> str:
    import pwd

    return pwd.getpwuid(os.geteuid()).pw_name


def _group() -> str:
    import grp

    return grp.getgrgid(os.getegid()).gr_name
