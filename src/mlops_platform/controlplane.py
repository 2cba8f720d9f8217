"""A local Kubernetes control plane: a real etcd and kube-apiserver on loopback.

It is what controller-runtime's envtest runs: the API server and its store, no
nodes, no controllers. The local rehearsal target (`make run`) and the test
suite both use it. Certificates are generated fresh for every new state
directory; a restart keeps them and the etcd data, so objects survive it.

    python -m mlops_platform.controlplane up   --bin-dir D --state-dir S
    python -m mlops_platform.controlplane down --state-dir S
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import ipaddress
import json
import os
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

READY_TIMEOUT = 60.0
ADMIN_TOKEN_USER = "mlops-admin"


class ControlPlaneError(Exception):
    """The control plane could not be started, reached or stopped."""


@dataclass
class State:
    """What `up` leaves behind so that `down` (or another process) can find it."""

    api_port: int
    etcd_port: int
    etcd_peer_port: int
    pids: dict[str, int] = field(default_factory=dict)

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.api_port}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _write_private(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    path.chmod(0o600)


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
    _write_private(pki / "ca.key", key_pem(ca_key))
    (pki / "ca.crt").write_bytes(cert(ca_name, ca_name, ca_key.public_key(), ca_key, ca=True))

    server_key = ec.generate_private_key(ec.SECP256R1())
    sans = [
        x509.DNSName("localhost"),
        x509.DNSName("kubernetes.default.svc"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
    ]
    _write_private(pki / "apiserver.key", key_pem(server_key))
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
    _write_private(pki / "admin.key", key_pem(admin_key))
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
    _write_private(pki / "sa.key", key_pem(sa_key))
    (pki / "sa.pub").write_bytes(
        sa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    token = secrets.token_hex(24)
    _write_private(pki / "token", token.encode())
    _write_private(pki / "tokens.csv", f'{token},{ADMIN_TOKEN_USER},1001,"system:masters"\n'.encode())


class ControlPlane:
    """One etcd + kube-apiserver pair, owned through a state directory."""

    def __init__(self, bin_dir: str | os.PathLike, state_dir: str | os.PathLike):
        self.bin_dir = Path(bin_dir).resolve()
        self.state_dir = Path(state_dir).resolve()
        self.pki = self.state_dir / "pki"
        self.kubeconfig = self.state_dir / "kubeconfig"
        self.state_file = self.state_dir / "state.json"

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

    def is_ready(self) -> bool:
        try:
            state = self._load_state()
        except ControlPlaneError:
            return False
        return self._readyz(state)

    def up(self, timeout: float = READY_TIMEOUT) -> Path:
        """Start (or find running) and return the kubeconfig path."""
        if self.is_ready():
            return self.kubeconfig
        self.down()
        for binary in ("etcd", "kube-apiserver"):
            if not (self.bin_dir / binary).is_file():
                raise ControlPlaneError(
                    f"{self.bin_dir / binary} is missing: build it with `make test-deps` "
                    "(tests/envtest/ builds etcd and kube-apiserver from the Go module proxy)"
                )
        self.state_dir.mkdir(parents=True, exist_ok=True)
        if not (self.pki / "token").exists():
            _generate_pki(self.pki)
        state = State(api_port=free_port(), etcd_port=free_port(), etcd_peer_port=free_port())
        self._start(state)
        self._save_state(state)
        self._write_kubeconfig(state)
        self._wait_ready(state, timeout)
        return self.kubeconfig

    def restart(self, timeout: float = READY_TIMEOUT) -> None:
        """Stop both processes and start them again on the same data and ports."""
        state = self._load_state()
        self._stop(state)
        self._start(state)
        self._save_state(state)
        self._wait_ready(state, timeout)

    def down(self) -> None:
        """Stop every process this state directory started; leave no orphan."""
        try:
            state = self._load_state()
        except ControlPlaneError:
            return
        self._stop(state)
        self.state_file.unlink(missing_ok=True)

    # -- internals ----------------------------------------------------------

    def _start(self, state: State) -> None:
        logs = self.state_dir / "logs"
        logs.mkdir(exist_ok=True)
        etcd_url = f"http://127.0.0.1:{state.etcd_port}"
        etcd = [
            str(self.bin_dir / "etcd"),
            f"--data-dir={self.state_dir / 'etcd'}",
            f"--listen-client-urls={etcd_url}",
            f"--advertise-client-urls={etcd_url}",
            f"--listen-peer-urls=http://127.0.0.1:{state.etcd_peer_port}",
            f"--initial-advertise-peer-urls=http://127.0.0.1:{state.etcd_peer_port}",
            f"--initial-cluster=default=http://127.0.0.1:{state.etcd_peer_port}",
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
            "--service-cluster-ip-range=10.0.0.0/24",
            "--authorization-mode=RBAC",
            "--allow-privileged=true",
            # No controller-manager runs, so nothing creates default service accounts.
            "--disable-admission-plugins=ServiceAccount",
            "--v=0",
        ]
        state.pids["etcd"] = self._spawn(etcd, logs / "etcd.log")
        state.pids["kube-apiserver"] = self._spawn(apiserver, logs / "kube-apiserver.log")

    @staticmethod
    def _spawn(argv: list[str], log: Path) -> int:
        with log.open("ab") as out:
            proc = subprocess.Popen(  # noqa: S603 - our own binaries
                argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
            )
        return proc.pid

    def _stop(self, state: State) -> None:
        for name in ("kube-apiserver", "etcd"):
            pid = state.pids.get(name)
            if pid:
                _terminate(pid)
        state.pids.clear()

    def _wait_ready(self, state: State, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._readyz(state):
                return
            for name, pid in state.pids.items():
                if not _alive(pid):
                    log = self.state_dir / "logs" / f"{name}.log"
                    tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
                    self._stop(state)
                    raise ControlPlaneError(f"{name} exited during startup; last log lines:\n{tail}")
            time.sleep(0.2)
        self._stop(state)
        raise ControlPlaneError(f"kube-apiserver not ready at {state.server}/readyz after {timeout:.0f}s")

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
        _write_private(self.kubeconfig, json.dumps(config, indent=2).encode())

    def _save_state(self, state: State) -> None:
        self.state_file.write_text(json.dumps(asdict(state)))

    def _load_state(self) -> State:
        try:
            return State(**json.loads(self.state_file.read_text()))
        except (OSError, ValueError, TypeError) as e:
            raise ControlPlaneError(f"no control plane recorded in {self.state_dir}") from e


def _alive(pid: int) -> bool:
    try:
        if os.waitpid(pid, os.WNOHANG)[0]:
            return False
    except ChildProcessError:
        pass  # not our child: fall back to a signal probe
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return _state_of(pid) != "Z"


def _state_of(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return ""


def _terminate(pid: int, grace: float = 10.0) -> None:
    """SIGTERM the process group, then SIGKILL what is left after `grace` seconds."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not _alive(pid):
                return
            time.sleep(0.05)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mlops_platform.controlplane", description=__doc__.split("\n", maxsplit=1)[0]
    )
    parser.add_argument("action", choices=["up", "down", "status"])
    parser.add_argument("--bin-dir", default=os.environ.get("MLOPS_ENVTEST_BIN", ".cache/envtest/current"))
    parser.add_argument(
        "--state-dir", default=os.environ.get("MLOPS_CONTROLPLANE_DIR", ".cache/controlplane")
    )
    args = parser.parse_args(argv)
    plane = ControlPlane(args.bin_dir, args.state_dir)
    try:
        if args.action == "up":
            started = time.monotonic()
            path = plane.up()
            print(
                f"control plane ready at {plane.server} in {time.monotonic() - started:.1f}s", file=sys.stderr
            )
            print(path)
        elif args.action == "down":
            plane.down()
        else:
            print("ready" if plane.is_ready() else "not running")
            return 0 if plane.is_ready() else 1
    except ControlPlaneError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
