"""A local Kubernetes cluster without machines, on loopback: the real control plane and controllers.

Components, each a local process owned through one state directory:

- ``api``: etcd and kube-apiserver (what controller-runtime's envtest runs);
- ``controllers``: kube-controller-manager, kube-scheduler and KWOK, which plays the
  kubelets of simulated nodes shaped like the real target's (``kwok.py``): pods are
  scheduled and reported Running / Ready / Succeeded, no container runs;
- ``gitops``: ArgoCD's application-controller and repo-server with Redis, a Git
  server for this repository, a Helm repository of ``../shared/fixtures/charts`` and
  the Argo Rollouts controller (``gitops_local.py``);
- ``operators``: the Prometheus Operator of kube-prometheus-stack (``gitops_local.py``);
- ``mlflow``: a real ``mlflow server`` (``mlflow_local.py``).

The local rehearsal target (`make run`) and the test suite both use it. Certificates
are generated fresh for every new state directory; a restart keeps them, the ports
and the etcd data, so objects survive it.

    python -m mlops_platform.controlplane up   [--components api,controllers,gitops,mlflow]
    python -m mlops_platform.controlplane down
    python -m mlops_platform.controlplane status
"""

from __future__ import annotations

import argparse
import datetime
import ipaddress
import json
import os
import secrets
import shutil
import ssl
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from mlops_platform import gitops_local, kwok, mlflow_local, statefile
from mlops_platform.procs import alive, free_port, listening, rss_mib, spawn, spawn_supervised, terminate
from mlops_platform.statefile import write_private

READY_TIMEOUT = 60.0
ADMIN_TOKEN_USER = "mlops-admin"
COMPONENTS = ("api", "controllers", "gitops", "operators", "mlflow")
ROOT = Path(__file__).resolve().parents[2]
# The nodes' shape: the local inventory's `mlops_local_nodes` (plain data in that file).
LOCAL_INVENTORY_VARS = ROOT / "inventory" / "local" / "group_vars" / "all" / "platform.yml"
# Stopped in this order: the controllers before the API server, the API server before etcd.
STOP_ORDER = (
    "mlflow",
    "prometheus-operator",
    "rollouts-controller",
    "argocd-application-controller",
    "argocd-repo-server",
    "helm-repository",
    "git-daemon",
    "redis",
    "kwok",
    "kube-scheduler",
    "kube-controller-manager",
    "kube-apiserver",
    "etcd",
)


class ControlPlaneError(Exception):
    """The control plane could not be started, reached or stopped."""


@dataclass
class State:
    """What `up` leaves behind so that `down` (or another process) can find it."""

    api_port: int
    etcd_port: int
    etcd_peer_port: int
    pids: dict[str, int] = field(default_factory=dict)
    # Every other listening port, by name; kept across restarts (URLs in the config use them).
    ports: dict[str, int] = field(default_factory=dict)
    components: list[str] = field(default_factory=lambda: ["api"])

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.api_port}"

    def port(self, name: str) -> int:
        if name not in self.ports:
            self.ports[name] = free_port()
        return self.ports[name]


def _generate_pki(pki: Path) -> None:
    """CA, serving cert, admin client cert, service-account key and a static token."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    pki.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    not_after = now + datetime.timedelta(days=365)

    def key_pem(key) -> bytes:
        return key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def cert(subject, issuer, public_key, signing_key, *, ca=False, sans=None, usage=None):
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        if usage:
            builder = builder.add_extension(x509.ExtendedKeyUsage(usage), critical=False)
        return builder.sign(signing_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)

    def name(cn: str, org: str | None = None):
        attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
        if org:
            attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
        return x509.Name(attrs)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = name("mlops-controlplane-ca")
    write_private(pki / "ca.key", key_pem(ca_key))
    (pki / "ca.crt").write_bytes(cert(ca_name, ca_name, ca_key.public_key(), ca_key, ca=True))

    server_key = ec.generate_private_key(ec.SECP256R1())
    sans = [
        x509.DNSName("localhost"),
        x509.DNSName("kubernetes.default.svc"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
    ]
    write_private(pki / "apiserver.key", key_pem(server_key))
    (pki / "apiserver.crt").write_bytes(
        cert(
            name("kube-apiserver"),
            ca_name,
            server_key.public_key(),
            ca_key,
            sans=sans,
            usage=[x509.oid.ExtendedKeyUsageOID.SERVER_AUTH],
        )
    )

    admin_key = ec.generate_private_key(ec.SECP256R1())
    write_private(pki / "admin.key", key_pem(admin_key))
    (pki / "admin.crt").write_bytes(
        cert(
            name("mlops-admin", "system:masters"),
            ca_name,
            admin_key.public_key(),
            ca_key,
            usage=[x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH],
        )
    )

    sa_key = ec.generate_private_key(ec.SECP256R1())
    write_private(pki / "sa.key", key_pem(sa_key))
    (pki / "sa.pub").write_bytes(
        sa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    token = secrets.token_hex(24)
    write_private(pki / "token", token.encode())
    write_private(pki / "tokens.csv", f'{token},{ADMIN_TOKEN_USER},1001,"system:masters"\n'.encode())


class ControlPlane:
    """The local cluster's processes, owned through a state directory."""

    def __init__(
        self,
        bin_dir: str | os.PathLike,
        state_dir: str | os.PathLike,
        *,
        components: tuple[str, ...] | list[str] = ("api",),
        nodes: dict | None = None,
        repository: str | os.PathLike | None = None,
        charts: str | os.PathLike | None = None,
        mlflow_bin: str | os.PathLike | None = None,
    ):
        unknown = set(components) - set(COMPONENTS)
        if unknown:
            raise ControlPlaneError(
                f"unknown components {sorted(unknown)}: choose from {', '.join(COMPONENTS)}"
            )
        wanted = {"api", *components}
        if "gitops" in wanted or "operators" in wanted:
            wanted.add("controllers")  # ArgoCD's health checks need pods that become ready
        self.components = [c for c in COMPONENTS if c in wanted]
        self.bin_dir = Path(bin_dir).resolve()
        self.state_dir = Path(state_dir).resolve()
        self.pki = self.state_dir / "pki"
        self.kubeconfig = self.state_dir / "kubeconfig"
        self.state_file = self.state_dir / "state.json"
        self.endpoints_file = self.state_dir / "endpoints.json"
        self.nodes = nodes if nodes is not None else local_nodes()
        self.repository = Path(repository or ROOT).resolve()
        self.charts = Path(
            charts or Path(os.environ.get("MLOPS_SHARED_DIR", ROOT.parent / "shared")) / "fixtures" / "charts"
        )
        self.mlflow_bin = Path(
            mlflow_bin or os.environ.get("MLOPS_MLFLOW_BIN", ROOT / ".cache" / "bin" / "mlflow")
        )

    # -- public -------------------------------------------------------------

    @property
    def token(self) -> str:
        return (self.pki / "token").read_text()

    @property
    def ca_file(self) -> Path:
        return self.pki / "ca.crt"

    @property
    def server(self) -> str:
        return self._load_state().server

    def endpoints(self) -> dict:
        """URLs of the local services (Git, Helm repository, MLflow), as written by `up`."""
        return json.loads(self.endpoints_file.read_text())

    def is_ready(self) -> bool:
        try:
            state = self._load_state()
        except ControlPlaneError:
            return False
        if not set(self.components) <= set(state.components):
            return False
        if not all(alive(pid) for pid in state.pids.values()):
            return False
        return self._readyz(state)

    def up(self, timeout: float = READY_TIMEOUT) -> Path:
        """Start (or find running) and return the kubeconfig path."""
        if self.is_ready():
            return self.kubeconfig
        previous = self._load_state_or_none()
        if previous is not None:
            self._stop(previous)
        self._check_binaries()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        if not (self.pki / "token").exists():
            _generate_pki(self.pki)
        state = self._fresh_state(previous)
        try:
            self._start(state, timeout)
        except BaseException:
            self._stop(state)
            raise
        return self.kubeconfig

    def restart(self, timeout: float = READY_TIMEOUT) -> None:
        """Stop every process and start them again on the same data and ports."""
        state = self._load_state()
        self._stop(state)
        self._start(state, timeout)

    def down(self) -> None:
        """Stop every process this state directory started; leave no orphan."""
        state = self._load_state_or_none()
        if state is None:
            return
        self._stop(state)
        self.state_file.unlink(missing_ok=True)

    def memory(self) -> dict[str, float]:
        """Resident memory of each running process (MiB)."""
        state = self._load_state()
        return {name: rss_mib(pid) for name, pid in state.pids.items() if alive(pid)}

    # -- Kubernetes API -------------------------------------------------------

    def request(self, method: str, path: str, body=None, *, content_type: str = "application/json"):
        """One call to the API server as the admin; None for 404."""
        state = self._load_state()
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            f"{state.server}{path}",
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": content_type},
        )
        context = ssl.create_default_context(cafile=str(self.ca_file))
        try:
            with urllib.request.urlopen(req, context=context, timeout=30) as response:  # noqa: S310
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as e:
            if e.code == 404:
                return None
            raise ControlPlaneError(f"{method} {path}: HTTP {e.code}: {e.read()[:500]!r}") from e

    def apply(self, path: str, obj: dict, *, subresource: str = "") -> dict:
        """Server-side apply of `obj` at `path` (the object's own URL)."""
        return self.request(
            "PATCH",
            f"{path}{subresource}?fieldManager=mlops-controlplane&force=true",
            obj,
            content_type="application/apply-patch+yaml",
        )

    def fail_image(self, image: str) -> str:
        """Make the pods of `image` fail from now on (KWOK Stage); returns the Stage's name."""
        ready = next(
            s
            for s in kwok.stage_objects(self.bin_dir / "kwok-stages")
            if s["metadata"]["name"] == "pod-ready"
        )
        stage = kwok.fail_stage(image, ready)
        self.apply(f"{kwok.STAGE_API}/{stage['metadata']['name']}", stage)
        return stage["metadata"]["name"]

    def heal_image(self, image: str) -> None:
        """Undo `fail_image`: new pods of `image` become ready again."""
        ready = next(
            s
            for s in kwok.stage_objects(self.bin_dir / "kwok-stages")
            if s["metadata"]["name"] == "pod-ready"
        )
        name = kwok.fail_stage(image, ready)["metadata"]["name"]
        self.request("DELETE", f"{kwok.STAGE_API}/{name}")

    # -- internals ----------------------------------------------------------

    def _needed_binaries(self) -> list[str]:
        need = {
            "api": ["etcd", "kube-apiserver"],
            "controllers": [
                "kube-controller-manager",
                "kube-scheduler",
                "kwok",
                "kwok-stages",
                "kwok-stage-crd.yaml",
            ],
            "gitops": ["argocd-application-controller", "argocd-repo-server", "helm", "rollouts-controller"],
            "operators": ["prometheus-operator"],
            "mlflow": [],
        }
        return [b for c in self.components for b in need[c]]

    def _check_binaries(self) -> None:
        for binary in self._needed_binaries():
            if not (self.bin_dir / binary).exists():
                raise ControlPlaneError(
                    f"{self.bin_dir / binary} is missing: build it with `scripts/build-go.sh envtest` "
                    "(`make test-deps` and `make run` do)"
                )
        if "mlflow" in self.components and not self.mlflow_bin.exists():
            raise ControlPlaneError(
                f"{self.mlflow_bin} is missing: `scripts/test-deps.sh mlflow` installs it"
            )
        if "gitops" in self.components:
            if not shutil.which("redis-server"):
                raise ControlPlaneError("redis-server is missing: `scripts/test-deps.sh redis` installs it")
            if not self.charts.is_dir():
                raise ControlPlaneError(
                    f"{self.charts} is missing: the Helm repository serves ../shared/fixtures/charts"
                )

    def _fresh_state(self, previous: State | None) -> State:
        """Ports of the previous run where they are still free (the config holds URLs with them)."""

        def reuse(port: int | None) -> int:
            return port if port and not listening(port) else free_port()

        if previous is None:
            return State(
                api_port=free_port(),
                etcd_port=free_port(),
                etcd_peer_port=free_port(),
                components=self.components,
            )
        return State(
            api_port=reuse(previous.api_port),
            etcd_port=reuse(previous.etcd_port),
            etcd_peer_port=reuse(previous.etcd_peer_port),
            ports={name: reuse(port) for name, port in previous.ports.items()},
            components=self.components,
        )

    def _start(self, state: State, timeout: float) -> None:
        logs = self.state_dir / "logs"
        logs.mkdir(exist_ok=True)
        state.components = self.components
        self._write_kubeconfig(state)
        etcd_url = f"http://127.0.0.1:{state.etcd_port}"
        etcd = [
            str(self.bin_dir / "etcd"),
            f"--data-dir={self.state_dir / 'etcd'}",
            f"--listen-client-urls={etcd_url}",
            f"--advertise-client-urls={etcd_url}",
            f"--listen-peer-urls=http://127.0.0.1:{state.etcd_peer_port}",
            f"--initial-advertise-peer-urls=http://127.0.0.1:{state.etcd_peer_port}",
            f"--initial-cluster=default=http://127.0.0.1:{state.etcd_peer_port}",
            f"--listen-metrics-urls=http://127.0.0.1:{state.port('etcd-metrics')}",
            "--unsafe-no-fsync=true",
            "--log-level=warn",
        ]
        apiserver = [
            str(self.bin_dir / "kube-apiserver"),
            f"--etcd-servers={etcd_url}",
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            f"--secure-port={state.api_port}",
            f"--cert-dir={self.pki}",
            f"--tls-cert-file={self.pki / 'apiserver.crt'}",
            f"--tls-private-key-file={self.pki / 'apiserver.key'}",
            f"--client-ca-file={self.pki / 'ca.crt'}",
            f"--token-auth-file={self.pki / 'tokens.csv'}",
            f"--service-account-key-file={self.pki / 'sa.pub'}",
            f"--service-account-signing-key-file={self.pki / 'sa.key'}",
            "--service-account-issuer=https://kubernetes.default.svc",
            "--service-cluster-ip-range=10.96.0.0/16",
            "--authorization-mode=RBAC",
            "--allow-privileged=true",
            "--v=0",
        ]
        if "controllers" not in self.components:
            # No controller-manager runs, so nothing creates default service accounts.
            apiserver.append("--disable-admission-plugins=ServiceAccount")
        state.pids["etcd"] = spawn(etcd, logs / "etcd.log")
        state.pids["kube-apiserver"] = spawn(apiserver, logs / "kube-apiserver.log")
        self._save_state(state)
        self._wait(state, timeout, "kube-apiserver", lambda: self._readyz(state), f"{state.server}/readyz")
        if "controllers" in self.components:
            self._start_controllers(state, logs, timeout)
        if "gitops" in self.components:
            self._start_gitops(state, logs, timeout)
        if "operators" in self.components:
            for svc in gitops_local.operators(
                bin_dir=self.bin_dir, pki=self.pki, server=state.server, port=state.port
            ):
                state.pids[svc.name] = spawn_supervised(svc.argv, logs / f"{svc.name}.log")
            self._save_state(state)
        if "mlflow" in self.components:
            state.pids["mlflow"] = spawn(
                mlflow_local.argv(self.mlflow_bin, self.state_dir / "mlflow", state.port("mlflow")),
                logs / "mlflow.log",
            )
            self._save_state(state)
        self._write_endpoints(state)
        if "mlflow" in self.components:
            url = f"http://127.0.0.1:{state.port('mlflow')}"
            # ~11 s on an idle machine, much more on a loaded one.
            self._wait(state, max(timeout, 240), "mlflow", lambda: mlflow_local.healthy(url), f"{url}/health")

    def _start_controllers(self, state: State, logs: Path, timeout: float) -> None:
        kcm = [
            str(self.bin_dir / "kube-controller-manager"),
            f"--kubeconfig={self.kubeconfig}",
            f"--authentication-kubeconfig={self.kubeconfig}",
            f"--authorization-kubeconfig={self.kubeconfig}",
            "--bind-address=127.0.0.1",
            f"--secure-port={state.port('kube-controller-manager')}",
            "--leader-elect=false",
            f"--service-account-private-key-file={self.pki / 'sa.key'}",
            f"--root-ca-file={self.pki / 'ca.crt'}",
            f"--cluster-signing-cert-file={self.pki / 'ca.crt'}",
            f"--cluster-signing-key-file={self.pki / 'ca.key'}",
            "--use-service-account-credentials=false",
            # PersistentVolumeClaims of the local-path class are bound to host-path volumes
            # (no directory is made: no pod mounts them).
            "--enable-hostpath-provisioner=true",
            "--controllers=*,-nodeipam,-cloud-node-lifecycle,-service-lb-controller,-node-route-controller",
            "--v=0",
        ]
        scheduler = [
            str(self.bin_dir / "kube-scheduler"),
            f"--kubeconfig={self.kubeconfig}",
            f"--authentication-kubeconfig={self.kubeconfig}",
            f"--authorization-kubeconfig={self.kubeconfig}",
            "--bind-address=127.0.0.1",
            f"--secure-port={state.port('kube-scheduler')}",
            "--leader-elect=false",
            "--v=0",
        ]
        state.pids["kube-controller-manager"] = spawn(kcm, logs / "kube-controller-manager.log")
        state.pids["kube-scheduler"] = spawn(scheduler, logs / "kube-scheduler.log")
        self._save_state(state)
        self._install_kwok_objects(timeout)
        kwok_argv = [
            str(self.bin_dir / "kwok"),
            f"--kubeconfig={self.kubeconfig}",
            "--manage-all-nodes=false",
            "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
            "--enable-crds=Stage",
            "--node-lease-duration-seconds=40",
            "--cidr=10.244.0.0/16",
            "--node-ip=127.0.0.1",
            f"--server-address=127.0.0.1:{state.port('kwok')}",
        ]
        state.pids["kwok"] = spawn(kwok_argv, logs / "kwok.log")
        self._save_state(state)
        self._wait(state, timeout, "kwok", self._nodes_ready, "every node Ready")

    def _install_kwok_objects(self, timeout: float) -> None:
        crd = yaml.safe_load((self.bin_dir / "kwok-stage-crd.yaml").read_text())
        crd_path = f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{crd['metadata']['name']}"
        self.apply(crd_path, crd)
        deadline = time.monotonic() + timeout
        while not _established(self.request("GET", crd_path)):
            if time.monotonic() > deadline:
                raise ControlPlaneError(f"the KWOK Stage CRD was not Established within {timeout:.0f}s")
            time.sleep(0.2)
        for stage in kwok.stage_objects(self.bin_dir / "kwok-stages"):
            self.apply(f"{kwok.STAGE_API}/{stage['metadata']['name']}", stage)
        for node in kwok.node_objects(self.nodes):
            path = f"/api/v1/nodes/{node['metadata']['name']}"
            status = node.pop("status")
            self.apply(path, node)
            self.apply(
                path,
                {
                    "apiVersion": "v1",
                    "kind": "Node",
                    "metadata": {"name": node["metadata"]["name"]},
                    "status": status,
                },
                subresource="/status",
            )
        self.apply(
            f"/apis/storage.k8s.io/v1/storageclasses/{LOCAL_STORAGE_CLASS['metadata']['name']}",
            LOCAL_STORAGE_CLASS,
        )

    def _nodes_ready(self) -> bool:
        nodes = (self.request("GET", "/api/v1/nodes") or {}).get("items") or []
        names = {n["metadata"]["name"] for n in nodes if _condition(n, "Ready")}
        return set(self.nodes) <= names

    def _start_gitops(self, state: State, logs: Path, timeout: float) -> None:
        work = self.state_dir / "gitops"
        services = gitops_local.services(
            bin_dir=self.bin_dir,
            work=work,
            kubeconfig=self.kubeconfig,
            repository=self.repository,
            charts=self.charts,
            port=state.port,
        )
        for svc in services:
            starter = spawn_supervised if svc.supervised else spawn
            state.pids[svc.name] = starter(svc.argv, logs / f"{svc.name}.log", env=svc.env)
            self._save_state(state)
            if svc.port:
                self._wait(state, timeout, svc.name, lambda p=svc.port: listening(p), f"127.0.0.1:{svc.port}")

    def _write_endpoints(self, state: State) -> None:
        endpoints = {"kubeconfig": str(self.kubeconfig), "server": state.server}
        if "gitops" in self.components:
            endpoints.update(gitops_local.endpoints(self.repository, state.port))
        if "mlflow" in self.components:
            endpoints["mlflow_url"] = f"http://127.0.0.1:{state.port('mlflow')}"
        self.endpoints_file.write_text(json.dumps(endpoints, indent=2, sort_keys=True) + "\n")

    def _stop(self, state: State) -> None:
        names = sorted(state.pids, key=lambda n: STOP_ORDER.index(n) if n in STOP_ORDER else -1)
        for name in names:
            terminate(state.pids[name])
        state.pids.clear()

    def _wait(self, state: State, timeout: float, what: str, ready, where: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ready():
                return
            for name, pid in state.pids.items():
                if not alive(pid):
                    log = self.state_dir / "logs" / f"{name}.log"
                    tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
                    raise ControlPlaneError(f"{name} exited during startup; last log lines:\n{tail}")
            time.sleep(0.2)
        raise ControlPlaneError(
            f"{what} not ready ({where}) after {timeout:.0f}s; logs in {self.state_dir / 'logs'}"
        )

    def _readyz(self, state: State) -> bool:
        context = ssl.create_default_context(cafile=str(self.pki / "ca.crt"))
        request = urllib.request.Request(
            f"{state.server}/readyz", headers={"Authorization": f"Bearer {self.token}"}
        )
        try:
            with urllib.request.urlopen(request, context=context, timeout=2) as response:  # noqa: S310
                return response.status == 200
        except (OSError, ValueError):
            return False

    def _write_kubeconfig(self, state: State) -> None:
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "mlops-local",
                    "cluster": {"server": state.server, "certificate-authority": str(self.pki / "ca.crt")},
                }
            ],
            "users": [
                {
                    "name": "mlops-admin",
                    "user": {
                        "client-certificate": str(self.pki / "admin.crt"),
                        "client-key": str(self.pki / "admin.key"),
                    },
                }
            ],
            "contexts": [
                {"name": "mlops-local", "context": {"cluster": "mlops-local", "user": "mlops-admin"}}
            ],
            "current-context": "mlops-local",
        }
        # JSON is YAML: no YAML dependency needed to write it.
        write_private(self.kubeconfig, json.dumps(config, indent=2).encode())

    def _save_state(self, state: State) -> None:
        statefile.save(self.state_file, state)

    def _load_state(self) -> State:
        return statefile.load(
            self.state_file, State, ControlPlaneError(f"no control plane recorded in {self.state_dir}")
        )

    def _load_state_or_none(self) -> State | None:
        try:
            return self._load_state()
        except ControlPlaneError:
            return None


# The real target's default class is the local-path provisioner's on the data volume
# (mlops_storage_class); here kube-controller-manager's host-path provisioner binds it.
LOCAL_STORAGE_CLASS = {
    "apiVersion": "storage.k8s.io/v1",
    "kind": "StorageClass",
    "metadata": {
        "name": "local-path",
        "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
    },
    "provisioner": "kubernetes.io/host-path",
    "reclaimPolicy": "Delete",
    "volumeBindingMode": "Immediate",
}


def local_nodes(path: Path = LOCAL_INVENTORY_VARS) -> dict:
    """The simulated nodes: `mlops_local_nodes` of the local inventory, else kwok.DEFAULT_NODES."""
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except OSError:
        return dict(kwok.DEFAULT_NODES)
    return data.get("mlops_local_nodes") or dict(kwok.DEFAULT_NODES)


def _condition(obj: dict, kind: str) -> bool:
    return any(
        c.get("type") == kind and c.get("status") == "True"
        for c in (obj.get("status") or {}).get("conditions") or []
    )


def _established(crd: dict | None) -> bool:
    return bool(crd) and _condition(crd, "Established")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mlops_platform.controlplane", description=__doc__.split("\n", maxsplit=1)[0]
    )
    parser.add_argument("action", choices=["up", "down", "status", "memory", "fail-image", "heal-image"])
    parser.add_argument("image", nargs="?", help="fail-image / heal-image: the image whose pods fail (KWOK)")
    parser.add_argument(
        "--components",
        default=",".join(COMPONENTS),
        help=f"what `up` starts, comma-separated (default: all of {','.join(COMPONENTS)})",
    )
    parser.add_argument("--bin-dir", default=os.environ.get("MLOPS_ENVTEST_BIN", ".cache/envtest/current"))
    parser.add_argument(
        "--state-dir", default=os.environ.get("MLOPS_CONTROLPLANE_DIR", ".cache/controlplane")
    )
    args = parser.parse_args(argv)
    try:
        plane = ControlPlane(
            args.bin_dir, args.state_dir, components=[c for c in args.components.split(",") if c]
        )
        if args.action == "up":
            started = time.monotonic()
            path = plane.up()
            print(
                f"control plane ready at {plane.server} in {time.monotonic() - started:.1f}s", file=sys.stderr
            )
            print(path)
        elif args.action == "down":
            plane.down()
        elif args.action in ("fail-image", "heal-image"):
            if not args.image:
                parser.error(f"{args.action} needs the image, e.g. registry.local/mlops/model-service:3")
            if args.action == "fail-image":
                print(f"pods of {args.image} now fail (KWOK Stage {plane.fail_image(args.image)})")
            else:
                plane.heal_image(args.image)
                print(f"pods of {args.image} become ready again")
        elif args.action == "memory":
            rss = plane.memory()
            for name, mib in sorted(rss.items(), key=lambda kv: -kv[1]):
                print(f"{mib:8.0f} MiB  {name}")
            print(f"{sum(rss.values()):8.0f} MiB  total ({len(rss)} processes)")
        else:
            plane.components = ["api"]  # any running control plane
            print("ready" if plane.is_ready() else "not running")
            return 0 if plane.is_ready() else 1
    except ControlPlaneError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
