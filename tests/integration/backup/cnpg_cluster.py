"""The barman-cloud options of the CloudNativePG Cluster the platform role declares.

The drill runs barman-cloud itself because CloudNativePG's pods cannot run here. So that the
drill and the chart cannot disagree, it takes its options from the Cluster as it is deployed:
the platform role's own values template (roles/platform/templates/values/postgresql.yml.j2,
rendered by Ansible with the role's defaults and the OpenStack target's config), rendered by
`helm template` from the pinned cluster chart in ../shared/fixtures. CloudNativePG's instance
manager turns `barmanObjectStore` into barman-cloud flags the same way: compression as
--gzip/--bzip2/--snappy, encryption as --encryption, data.jobs as --jobs, the destination
path and the server name (the Cluster's name unless serverName is set) as positional
arguments. Only the endpoint differs: MinIO's in-cluster Service becomes the S3 server on
loopback.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]
ROLE = ROOT / "roles/platform"
CONFIG = ROOT / "inventory/openstack/group_vars/all/platform.yml"
COMPRESSION = {"gzip": "--gzip", "bzip2": "--bzip2", "snappy": "--snappy"}


@dataclass(frozen=True)
class Barman:
    """Where barman-cloud writes (or reads) and the flags CloudNativePG would give it."""

    endpoint: str  #: the Cluster's endpointURL (in the cluster; the drill uses its own S3 server)
    destination: str  #: s3://bucket/path/
    server_name: str
    wal_flags: tuple[str, ...]  #: barman-cloud-wal-archive
    backup_flags: tuple[str, ...]  #: barman-cloud-backup

    @property
    def bucket(self) -> str:
        return self.destination.removeprefix("s3://").split("/", 1)[0]


def barman(store: dict, cluster_name: str) -> Barman:
    """The options of one barmanObjectStore (a backup section's or an external cluster's)."""

    def flags(section: dict, jobs: bool) -> tuple[str, ...]:
        out = []
        if section.get("compression"):
            out.append(COMPRESSION[section["compression"]])
        if section.get("encryption"):
            out += ["--encryption", section["encryption"]]
        if jobs and section.get("jobs"):
            out += ["--jobs", str(section["jobs"])]
        if jobs and section.get("immediateCheckpoint"):
            out.append("--immediate-checkpoint")
        return tuple(out)

    return Barman(
        endpoint=store["endpointURL"],
        destination=store["destinationPath"],
        server_name=store.get("serverName") or cluster_name,
        wal_flags=flags(store.get("wal") or {}, jobs=False),
        backup_flags=flags(store.get("data") or {}, jobs=True),
    )


def _pin(name: str) -> str:
    for line in (ROOT / "versions.env").read_text().splitlines():
        if line.startswith(f"{name}="):
            return line.split("=", 1)[1].strip()
    raise AssertionError(f"versions.env has no {name}")


def _chart(charts: Path, name: str, version: str) -> Path:
    index = yaml.safe_load((charts / "index.yaml").read_text())
    for entry in index["entries"].get(name, []):
        if str(entry["version"]) == version:
            return charts / entry["urls"][0].rsplit("/", 1)[-1]
    raise AssertionError(f"{charts}/index.yaml has no chart {name} {version}")


def rendered_cluster(work: Path, shared_fixtures: Path, extra_vars: dict | None = None) -> dict:
    """The Cluster object the platform role's PostgreSQL Application renders to."""
    from ansible_run import ANSIBLE_PLAYBOOK, playbook_env

    values = work / "postgresql-values.yml"
    play = [
        {
            "hosts": "localhost",
            "gather_facts": False,
            "vars_files": [
                str(ROLE / "defaults/main.yml"),
                str(ROLE / "vars/main.yml"),
                str(CONFIG),
            ],
            "vars": {"role_path": str(ROLE)},
            "tasks": [
                {
                    "name": "Render the PostgreSQL Application's values as the platform role does",
                    "ansible.builtin.copy": {
                        "dest": str(values),
                        "content": "{{ lookup('ansible.builtin.template', '"
                        + str(ROLE / "templates/values/postgresql.yml.j2")
                        + "') }}",
                        "mode": "0600",
                    },
                }
            ],
        }
    ]
    playbook = work / "render-values.yml"
    playbook.write_text(json.dumps(play))
    extra = work / "extra-vars.json"  # extra vars: over the role's defaults, as an operator's -e
    extra.write_text(json.dumps(extra_vars or {}))
    proc = subprocess.run(  # noqa: S603 - our own playbook
        [ANSIBLE_PLAYBOOK, "-i", "localhost,", "-c", "local", "-e", f"@{extra}", str(playbook)],
        env=playbook_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    chart = _chart(shared_fixtures / "charts", "cluster", _pin("CNPG_CLUSTER_CHART_VERSION"))
    helm = ROOT / ".cache/bin/helm"
    assert helm.exists(), f"{helm} is missing: `make test-deps` builds helm"
    # At the cluster's Kubernetes version (Helm's own default is older than the chart allows).
    kube_version = str(yaml.safe_load(CONFIG.read_text())["mlops_kubernetes_version"])
    cmd = [str(helm), "template", "postgresql", str(chart), "--namespace", "platform"]
    cmd += ["--kube-version", kube_version, "-f", str(values)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603
    assert proc.returncode == 0, f"helm template {chart.name}: {proc.stderr.strip()}"
    out = proc.stdout
    clusters = [
        d
        for d in yaml.safe_load_all(out)
        if d and d.get("kind") == "Cluster" and d["apiVersion"].startswith("postgresql.cnpg.io/")
    ]
    assert len(clusters) == 1, f"the chart rendered {len(clusters)} Clusters"
    return clusters[0]


def backup_target(cluster: dict) -> Barman:
    store = ((cluster["spec"].get("backup") or {}).get("barmanObjectStore")) or {}
    assert store, "the rendered Cluster has no backups (spec.backup.barmanObjectStore)"
    return barman(store, cluster["metadata"]["name"])


def recovery_source(cluster: dict) -> Barman:
    spec = cluster["spec"]
    source = spec["bootstrap"]["recovery"]["source"]
    ext = next(e for e in spec.get("externalClusters") or [] if e["name"] == source)
    return barman(ext["barmanObjectStore"], cluster["metadata"]["name"])


def http_endpoint(url: str) -> bool:
    return re.match(r"^https?://", url) is not None
