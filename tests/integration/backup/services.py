"""Real services for the restore drill, each on a loopback port and stopped by its pid.

- PostgreSQL from Debian (postgresql-15), run as the `postgres` user with WAL archiving
  through barman-cloud-wal-archive, as CloudNativePG's instance manager runs it.
- barman-cloud from PyPI (.cache/barman): base backup, WAL archive, restore.
- moto's S3 server (.cache/moto): the backup store, the platform's buckets and the WAL archive.
- `mlflow server` (.cache/mlflow-<v>) on that PostgreSQL, artifacts in an S3 bucket.

CloudNativePG's own pods cannot run here (no containers run in the tests); these are the
tools it drives, driven the same way.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import requests
from cnpg_cluster import Barman

ROOT = Path(__file__).resolve().parents[3]
CACHE = ROOT / ".cache"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
S3_KEYS = {
    "AWS_ACCESS_KEY_ID": "drill",
    "AWS_SECRET_ACCESS_KEY": "drill-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what: str, check, proc: subprocess.Popen | None, log: Path | None, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(
                f"{what} exited with {proc.returncode}: {log.read_text()[-2000:] if log else ''}"
            )
        with contextlib.suppress(Exception):
            if check():
                return
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"{what} did not come up within {timeout:.0f} s: {log.read_text()[-2000:] if log else ''}"
            )
        time.sleep(0.3)


def stop(proc: subprocess.Popen, timeout: float = 20) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


@dataclass
class S3Server:
    url: str
    proc: subprocess.Popen

    def client(self):
        from minio import Minio

        return Minio(
            self.url.removeprefix("http://"),
            S3_KEYS["AWS_ACCESS_KEY_ID"],
            S3_KEYS["AWS_SECRET_ACCESS_KEY"],
            secure=False,
        )

    def make_buckets(self, *names: str) -> None:
        c = self.client()
        for name in names:
            if not c.bucket_exists(name):
                c.make_bucket(name)


def start_s3(work: Path) -> S3Server:
    server = CACHE / "moto" / "bin" / "moto_server"
    if not server.exists():
        raise RuntimeError(f"{server} is missing: run `make test-deps`")
    port = free_port()
    log = work / "moto.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [str(server), "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    wait_for("moto_server", lambda: requests.get(f"{url}/moto-api/", timeout=2).ok, proc, log)
    return S3Server(url, proc)


class Postgres:
    """One PostgreSQL server in its own data directory, owned and run by `postgres`, archiving
    its WAL where `target` says (the rendered Cluster's backup section, cluster.Barman)."""

    def __init__(self, s3: S3Server, target: Barman):
        self.s3, self.target = s3, target
        self.base = Path(tempfile.mkdtemp(prefix="mlops-drill-pg-"))
        self.data = self.base / "data"
        self.port = free_port()
        self.user = pwd.getpwnam("postgres")
        os.chown(self.base, self.user.pw_uid, self.user.pw_gid)
        self.proc: subprocess.Popen | None = None

    def env(self) -> dict[str, str]:
        return {
            "PATH": f"{PG_BIN}:{CACHE / 'barman' / 'bin'}:/usr/bin:/bin",
            "HOME": str(self.base),
            **S3_KEYS,
        }

    def as_postgres(self, *cmd: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["runuser", "-u", "postgres", "--", "env", *(f"{k}={v}" for k, v in self.env().items()), *cmd],
            capture_output=True,
            text=True,
            check=check,
            timeout=timeout,
            cwd=self.base,
        )

    def barman(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.as_postgres(
            str(CACHE / "barman" / "bin" / tool),
            "--cloud-provider",
            "aws-s3",
            "--endpoint-url",
            self.s3.url,
            *args,
            check=check,
        )

    def configure(self, recovery_from: Barman | None = None) -> None:
        """postgresql.auto.conf: WAL archived to the target; with recovery_from, WAL replayed from it."""
        t = self.target
        archive_cmd = (
            f"barman-cloud-wal-archive --cloud-provider aws-s3 --endpoint-url {self.s3.url} "
            f"{' '.join(t.wal_flags)} {t.destination} {t.server_name} %p"
        )
        conf = [
            "listen_addresses = '127.0.0.1'",
            f"port = {self.port}",
            f"unix_socket_directories = '{self.base}'",
            "wal_level = replica",
            "archive_mode = on",
            f"archive_command = '{archive_cmd}'",
            "archive_timeout = 60",
            "fsync = off",
        ]
        if recovery_from:
            src = recovery_from
            conf += [
                "restore_command = 'barman-cloud-wal-restore --cloud-provider aws-s3 "
                f"--endpoint-url {self.s3.url} {src.destination} {src.server_name} %f %p'",
                "recovery_target_action = 'promote'",
            ]
            (self.data / "recovery.signal").touch()
            os.chown(self.data / "recovery.signal", self.user.pw_uid, self.user.pw_gid)
        with open(self.data / "postgresql.auto.conf", "a") as f:
            f.write("\n".join(conf) + "\n")

    def init(self) -> None:
        self.as_postgres(
            str(PG_BIN / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--wal-segsize=1",  # 1 MiB WAL segments: a small archive, quick to ship
        )
        self.configure()

    def start(self) -> None:
        log = self.base / "postgres.log"
        cmd = [
            "runuser",
            "-u",
            "postgres",
            "--",
            "env",
            *(f"{k}={v}" for k, v in self.env().items()),
            str(PG_BIN / "postgres"),
            "-D",
            str(self.data),
        ]
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(
                cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, cwd=self.base
            )
        wait_for(
            "postgres",
            lambda: self.psql("select not pg_is_in_recovery()").strip() == "t",
            self.proc,
            log,
            timeout=180,
        )

    def psql(self, sql: str, db: str = "postgres") -> str:
        return self.as_postgres(
            str(PG_BIN / "psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-d",
            db,
            "-tAc",
            sql,
            timeout=60,
        ).stdout

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc, timeout=60)
            self.proc = None

    def wipe(self) -> None:
        """The disaster: the server gone, its data directory deleted."""
        self.stop()
        shutil.rmtree(self.data)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/mlflow"


@dataclass
class Mlflow:
    url: str
    proc: subprocess.Popen


def start_mlflow(work: Path, pg: Postgres, s3: S3Server, bucket: str) -> Mlflow:
    binary = CACHE / "bin" / "mlflow"
    if not binary.exists():
        raise RuntimeError(f"{binary} is missing: run `make test-deps`")
    port = free_port()
    log = work / f"mlflow-{port}.log"
    env = {**os.environ, **S3_KEYS, "MLFLOW_S3_ENDPOINT_URL": s3.url}
    cmd = [
        str(binary), "server",
        "--backend-store-uri", pg.url,
        "--artifacts-destination", f"s3://{bucket}",
        "--serve-artifacts",
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
    ]  # fmt: skip
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, env=env)
    url = f"http://127.0.0.1:{port}"
    wait_for("mlflow server", lambda: requests.get(f"{url}/health", timeout=2).ok, proc, log, timeout=300)
    return Mlflow(url, proc)
