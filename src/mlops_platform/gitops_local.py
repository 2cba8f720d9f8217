"""The GitOps side of the local cluster: ArgoCD's controllers, Redis, Git and Helm servers, Argo Rollouts.

ArgoCD's application-controller and repo-server are the real ones (built from the
fixture's source), run as local processes against the local API server as they run
in their pods, with Redis from Debian as their cache. A `git daemon` serves this
repository (the environments' chart is fetched from it, at its committed HEAD) and
a static HTTP server serves `../shared/fixtures/charts` as a Helm repository (its
`index.yaml` has relative URLs). Everything listens on 127.0.0.1, except the
controllers' metrics and health ports, whose bind address ArgoCD's application
controller and Argo Rollouts hard-code (they get free ports, nothing reaches them).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ARGOCD_NAMESPACE = "argocd"


@dataclass
class Service:
    name: str
    argv: list[str]
    port: int | None = None  # listening when ready
    env: dict | None = None
    supervised: bool = False  # restarted when it exits (crash-loops until its CRDs exist)


def git_url(repository: Path, port: Callable[[str], int]) -> str:
    return f"git://127.0.0.1:{port('git-daemon')}/{repository.name}"


def git_dir(repository: Path) -> Path:
    """The repository's git directory (a worktree's own, whose HEAD is the worktree's branch)."""
    out = subprocess.run(  # noqa: S603
        ["git", "-C", str(repository), "rev-parse", "--absolute-git-dir"],  # noqa: S607
        check=True,
        capture_output=True,
        text=True,
    )
    return Path(out.stdout.strip())


def endpoints(repository: Path, port: Callable[[str], int]) -> dict:
    return {
        "git_url": git_url(repository, port),
        "helm_url": f"http://127.0.0.1:{port('helm-repository')}",
        "argocd_namespace": ARGOCD_NAMESPACE,
    }


def services(
    *,
    bin_dir: Path,
    work: Path,
    kubeconfig: Path,
    repository: Path,
    charts: Path,
    port: Callable[[str], int],
) -> list[Service]:
    """The processes, in start order (each one's port is open before the next starts)."""
    for sub in ("redis", "gnupg", "ssh", "tls", "tmp", "home"):
        (work / sub).mkdir(parents=True, exist_ok=True)
    (work / "gnupg").chmod(0o700)
    redis = f"127.0.0.1:{port('redis')}"
    env = {
        **os.environ,
        # helm, git-verify-wrapper.sh and gpg-wrapper.sh first, as in ArgoCD's image.
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(work / "home"),
        "TMPDIR": str(work / "tmp"),
        "KUBECONFIG": str(kubeconfig),
        "ARGOCD_GNUPGHOME": str(work / "gnupg"),
        "ARGOCD_GPG_ENABLED": "false",
        "ARGOCD_SSH_DATA_PATH": str(work / "ssh"),
        "ARGOCD_TLS_DATA_PATH": str(work / "tls"),
        # The in-cluster destination (https://kubernetes.default.svc) is KUBECONFIG's server.
        "ARGOCD_FAKE_IN_CLUSTER": "true",
    }
    return [
        Service(
            "redis",
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(port("redis")),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(work / "redis"),
            ],
            port("redis"),
        ),
        Service(
            "git-daemon",
            [
                "git",
                "daemon",
                "--reuseaddr",
                "--listen=127.0.0.1",
                f"--port={port('git-daemon')}",
                # Whatever the path in the URL, this one repository is served.
                f"--interpolated-path={git_dir(repository)}",
                "--export-all",
                "--strict-paths",
                "--informative-errors",
                str(git_dir(repository)),
            ],
            port("git-daemon"),
        ),
        Service(
            "helm-repository",
            [
                sys.executable,
                "-m",
                "http.server",
                str(port("helm-repository")),
                "--bind",
                "127.0.0.1",
                "--directory",
                str(charts),
            ],
            port("helm-repository"),
        ),
        Service(
            "argocd-repo-server",
            [
                str(bin_dir / "argocd-repo-server"),
                "--address=127.0.0.1",
                f"--port={port('argocd-repo-server')}",
                "--metrics-address=127.0.0.1",
                f"--metrics-port={port('argocd-repo-server-metrics')}",
                f"--redis={redis}",
                "--disable-tls",
                "--client-ca-path=",  # no mTLS without TLS (its default is a pod path)
                "--loglevel=warn",
            ],
            port("argocd-repo-server"),
            env,
        ),
        Service(
            "argocd-application-controller",
            [
                str(bin_dir / "argocd-application-controller"),
                f"--kubeconfig={kubeconfig}",
                f"--namespace={ARGOCD_NAMESPACE}",
                # Applications in other namespaces too (tests keep theirs apart), as
                # ArgoCD's "apps in any namespace" does; their AppProject must allow it.
                f"--application-namespaces={ARGOCD_NAMESPACE}-*",
                f"--repo-server=127.0.0.1:{port('argocd-repo-server')}",
                "--repo-server-plaintext",
                f"--redis={redis}",
                f"--metrics-port={port('argocd-application-controller-metrics')}",
                "--loglevel=warn",
                # Reconcile often: a rehearsal waits on it.
                "--app-resync=30",
                "--self-heal-timeout-seconds=2",
            ],
            env=env,
            supervised=True,
        ),
        Service(
            "rollouts-controller",
            [
                str(bin_dir / "rollouts-controller"),
                f"--kubeconfig={kubeconfig}",
                f"--metricsPort={port('rollouts-metrics')}",
                f"--healthzPort={port('rollouts-healthz')}",
                "--leader-elect=false",
                "--loglevel=warn",
            ],
            env=env,
            supervised=True,
        ),
    ]


# The CRDs the Prometheus Operator starts its controllers for (it looks once, at start):
# the Prometheus and Alertmanager objects kube-prometheus-stack declares, and what they select.
PROMETHEUS_OPERATOR_CRDS = (
    "prometheuses",
    "alertmanagers",
    "alertmanagerconfigs",
    "servicemonitors",
    "podmonitors",
    "probes",
    "prometheusrules",
    "scrapeconfigs",
)


def operators(*, bin_dir: Path, pki: Path, server: str, port: Callable[[str], int]) -> list[Service]:
    """The operators of the platform's charts that can run here (their pods do not)."""
    return [
        # kube-prometheus-stack's operator (its pod does not run): Prometheus and
        # Alertmanager objects become StatefulSets, whose health it reports back.
        Service(
            "prometheus-operator",
            [
                sys.executable,
                "-m",
                "mlops_platform.procs",
                "after-crds",
                server,
                str(pki),
                ",".join(f"{plural}.monitoring.coreos.com" for plural in PROMETHEUS_OPERATOR_CRDS),
                "--",
                str(bin_dir / "prometheus-operator"),
                f"--apiserver={server}",
                f"--ca-file={pki / 'ca.crt'}",
                f"--cert-file={pki / 'admin.crt'}",
                f"--key-file={pki / 'admin.key'}",
                f"--web.listen-address=127.0.0.1:{port('prometheus-operator')}",
                "--log-level=warn",
            ],
            supervised=True,
        ),
    ]
