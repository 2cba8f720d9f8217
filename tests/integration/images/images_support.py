"""Helpers of the image tests: a distribution registry with TLS and htpasswd auth, buildkitd,
pulling an image from the registry into a root filesystem, and running it with runc.

Every process listens on 127.0.0.1 or a unix socket in the test's directory, is started in a
session of its own (mlops_platform.procs) and stopped by its pid; a container is killed and
deleted by its id in a runc state directory of the test's own.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import gzip
import hashlib
import ipaddress
import json
import os
import shutil
import subprocess
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

import bcrypt
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from mlops_platform.procs import alive, free_port, spawn, terminate

ROOT = Path(__file__).resolve().parents[3]
CACHE = ROOT / ".cache"
BIN = CACHE / "bin"
ACCEPT = ", ".join(
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    ]
)


def wait_for(what: str, check, pid: int | None, log: Path | None, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(Exception):
            if check():
                return
        if pid is not None and not alive(pid):
            raise RuntimeError(f"{what} exited: {log.read_text()[-3000:] if log else ''}")
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"{what} not ready after {timeout} s: {log.read_text()[-3000:] if log else ''}"
            )
        time.sleep(0.2)


def self_signed(directory: Path, host: str = "127.0.0.1") -> tuple[Path, Path]:
    """A certificate for `host` (an IP address SAN) that is its own CA, and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"mlops test registry {host}")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "registry.crt", directory / "registry.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    key_file.chmod(0o600)
    return cert_file, key_file


@dataclass
class Registry:
    """A running registry: https://<address>, its CA and the one account htpasswd allows."""

    address: str
    ca: Path
    user: str
    password: str
    pid: int
    log: Path

    def url(self, path: str) -> str:
        return f"https://{self.address}/v2/{path}"

    def get(self, path: str, *, auth: bool = True, **kwargs) -> requests.Response:
        return requests.get(
            self.url(path),
            auth=(self.user, self.password) if auth else None,
            verify=str(self.ca),
            timeout=60,
            headers={"Accept": ACCEPT},
            **kwargs,
        )

    def manifest(self, repository: str, reference: str, *, auth: bool = True) -> requests.Response:
        return self.get(f"{repository}/manifests/{reference}", auth=auth)

    def tags(self, repository: str) -> list[str]:
        response = self.get(f"{repository}/tags/list")
        response.raise_for_status()
        return response.json().get("tags") or []

    def pull(self, repository: str, digest: str, rootfs: Path) -> dict:
        """Unpack image `digest` into `rootfs` (layers in order, whiteouts applied, owners kept);
        return its config. Every blob is checked against its digest."""
        manifest = self.manifest(repository, digest)
        manifest.raise_for_status()
        assert "sha256:" + hashlib.sha256(manifest.content).hexdigest() == digest
        body = manifest.json()
        config = self._blob(repository, body["config"]["digest"])
        rootfs.mkdir(parents=True, exist_ok=True)
        for layer in body["layers"]:
            blob = self._blob_to_file(repository, layer["digest"], rootfs.parent / "layer.tar.gz")
            with gzip.open(blob) as stream, tarfile.open(fileobj=stream, mode="r|") as tar:
                for member in tar:
                    _unpack(tar, member, rootfs)
            blob.unlink()
        return json.loads(config)

    def _blob(self, repository: str, digest: str) -> bytes:
        response = self.get(f"{repository}/blobs/{digest}")
        response.raise_for_status()
        assert "sha256:" + hashlib.sha256(response.content).hexdigest() == digest
        return response.content

    def _blob_to_file(self, repository: str, digest: str, dest: Path) -> Path:
        sha = hashlib.sha256()
        with self.get(f"{repository}/blobs/{digest}", stream=True) as response, dest.open("wb") as out:
            response.raise_for_status()
            for chunk in response.iter_content(1 << 20):
                sha.update(chunk)
                out.write(chunk)
        assert "sha256:" + sha.hexdigest() == digest
        return dest


def _unpack(tar: tarfile.TarFile, member: tarfile.TarInfo, rootfs: Path) -> None:
    path = Path(member.name.lstrip("./") or ".")
    if ".." in path.parts:
        raise ValueError(f"layer entry {member.name} leaves the root")
    name = path.name
    if name == ".wh..wh..opq":  # opaque directory: what lower layers put there is hidden
        directory = rootfs / path.parent
        for child in directory.iterdir() if directory.is_dir() else []:
            _remove(child)
        return
    if name.startswith(".wh."):
        _remove(rootfs / path.parent / name.removeprefix(".wh."))
        return
    target = rootfs / path
    if target.is_symlink() or (target.exists() and not (target.is_dir() and member.isdir())):
        _remove(target)
    tar.extract(member, rootfs, numeric_owner=True, filter="fully_trusted")


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def start_registry(directory: Path, user: str = "pusher") -> Registry:
    """The distribution registry on a free 127.0.0.1 port: TLS, htpasswd (bcrypt), filesystem storage."""
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = self_signed(directory)
    password = base64.urlsafe_b64encode(os.urandom(18)).decode()
    htpasswd = directory / "htpasswd"
    htpasswd.write_bytes(user.encode() + b":" + bcrypt.hashpw(password.encode(), bcrypt.gensalt()) + b"\n")
    address = f"127.0.0.1:{free_port()}"
    config = directory / "config.yml"
    config.write_text(
        json.dumps(  # YAML is a superset of JSON
            {
                "version": 0.1,
                "log": {"level": "info", "accesslog": {"disabled": True}},
                "storage": {"filesystem": {"rootdirectory": str(directory / "data")}},
                "http": {
                    "addr": address,
                    "secret": base64.b64encode(os.urandom(24)).decode(),
                    "tls": {"certificate": str(cert), "key": str(key)},
                },
                "auth": {"htpasswd": {"realm": "mlops-test-registry", "path": str(htpasswd)}},
            },
            indent=2,
        )
    )
    log = directory / "registry.log"
    pid = spawn([str(BIN / "registry"), "serve", str(config)], log)
    registry = Registry(address, cert, user, password, pid, log)
    try:
        wait_for(
            "registry",
            lambda: requests.get(registry.url(""), verify=str(cert), timeout=2).status_code == 401,
            pid,
            log,
        )
    except BaseException:
        terminate(pid)
        raise
    return registry


@dataclass
class Buildkitd:
    address: str  # unix://...
    pid: int
    log: Path


def start_buildkitd(directory: Path, registry: Registry) -> Buildkitd:
    """buildkitd as root with the OCI worker (Debian's runc) on the host's network (a build's
    pip reaches PyPI), its cache in .cache/buildkit (shared with scripts/images.sh, so a second
    build is cached), trusting the registry's certificate over HTTPS."""
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "buildkitd.toml"
    config.write_text(f'[registry."{registry.address}"]\n  http = false\n  ca = ["{registry.ca}"]\n')
    address = f"unix://{directory}/buildkitd.sock"
    log = directory / "buildkitd.log"
    argv = [
        str(BIN / "buildkitd"),
        "--root", str(CACHE / "buildkit"),
        "--addr", address,
        "--config", str(config),
        "--oci-worker-binary", "runc",
        "--oci-worker-net", "host",
        "--containerd-worker", "false",
    ]  # fmt: skip
    pid = spawn(argv, log)
    daemon = Buildkitd(address, pid, log)

    def workers() -> bool:
        return (
            subprocess.run(  # noqa: S603 - our own binary
                [str(BIN / "buildctl"), "--addr", address, "debug", "workers"],
                capture_output=True,
                timeout=10,
            ).returncode
            == 0
        )

    try:
        wait_for("buildkitd", workers, pid, log, timeout=120)
    except BaseException:
        terminate(pid)
        raise
    return daemon


class Container:
    """One OCI bundle run by runc: the image's rootfs read-only, a tmpfs /tmp, the image's
    entrypoint, environment and user, no capabilities; by default in the host's network
    namespace (to listen on a 127.0.0.1 port)."""

    def __init__(self, name: str, bundle: Path, rootfs: Path, config: dict, *, state: Path):
        self.id, self.bundle, self.state = name, bundle, state
        self.log = bundle / "container.log"
        subprocess.run(["runc", "spec", "--bundle", str(bundle)], check=True)  # noqa: S607
        spec = json.loads((bundle / "config.json").read_text())
        image = config.get("config", {})
        user = image.get("User") or "0:0"
        uid, _, gid = user.partition(":")
        spec["root"] = {"path": str(rootfs), "readonly": True}
        spec["process"].update(
            {
                "terminal": False,
                "args": (image.get("Entrypoint") or []) + (image.get("Cmd") or []),
                "env": list(image.get("Env") or []),
                "cwd": image.get("WorkingDir") or "/",
                "user": {"uid": int(uid), "gid": int(gid or uid)},
                "capabilities": {k: [] for k in ("bounding", "effective", "permitted", "ambient")},
                "noNewPrivileges": True,
            }
        )
        spec["mounts"].append(
            {
                "destination": "/tmp",
                "type": "tmpfs",
                "source": "tmpfs",
                "options": ["nosuid", "nodev", "mode=1777", "size=64m"],
            }
        )
        spec["hostname"] = name
        self.spec = spec

    def host_network(self) -> None:
        self.spec["linux"]["namespaces"] = [
            n for n in self.spec["linux"]["namespaces"] if n["type"] != "network"
        ]

    def bind(self, source: Path, destination: str, *, readonly: bool) -> None:
        options = ["rbind", "nosuid", "nodev"] + (["ro"] if readonly else ["rw"])
        self.spec["mounts"].append(
            {"destination": destination, "type": "bind", "source": str(source), "options": options}
        )

    def _write(self, env: dict | None, args: list[str] | None) -> None:
        if args is not None:
            self.spec["process"]["args"] = args
        if env:
            keep = [e for e in self.spec["process"]["env"] if e.split("=", 1)[0] not in env]
            self.spec["process"]["env"] = keep + [f"{k}={v}" for k, v in env.items()]
        (self.bundle / "config.json").write_text(json.dumps(self.spec, indent=2))

    def runc(self, *args: str, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run(["runc", "--root", str(self.state), *args], **kwargs)  # noqa: S603,S607

    def _run(self, *flags: str, timeout: float) -> subprocess.CompletedProcess:
        """`runc run` of the bundle, its output appended to self.log."""
        with self.log.open("ab") as out:
            return self.runc(
                "run", *flags, "--bundle", str(self.bundle), self.id,
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=timeout,
            )  # fmt: skip

    def run(self, *, env: dict | None = None, args: list[str] | None = None, timeout: float = 300) -> int:
        """Run to completion (foreground); the exit code. Output in self.log."""
        self._write(env, args)
        try:
            return self._run(timeout=timeout).returncode
        finally:
            self.stop()

    def start(self, *, env: dict | None = None, args: list[str] | None = None) -> None:
        """`runc run -d`: the container keeps this call's output file as its stdout and stderr."""
        self._write(env, args)
        done = self._run("-d", timeout=60)
        if done.returncode:
            raise RuntimeError(f"runc run -d {self.id} failed: {self.log.read_text()[-2000:]}")

    def status(self) -> str:
        done = self.runc("state", self.id, capture_output=True, text=True)
        return json.loads(done.stdout)["status"] if done.returncode == 0 else "gone"

    def stop(self) -> None:
        if self.status() == "running":
            self.runc("kill", self.id, "TERM", capture_output=True)
            deadline = time.monotonic() + 25
            while self.status() == "running" and time.monotonic() < deadline:
                time.sleep(0.2)
            self.runc("kill", self.id, "KILL", capture_output=True)
        self.runc("delete", "--force", self.id, capture_output=True)
