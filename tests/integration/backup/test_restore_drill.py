"""The restore drill: back up, destroy, restore, and check that everything came back the same.

Real pieces: the local kube-apiserver with ArgoCD's CRDs (the platform's objects), PostgreSQL
from Debian holding MLflow's registry, barman-cloud (the tool CloudNativePG runs in its pods)
for the database, MLflow's server with artifacts in S3, moto's S3 server as both the platform
object store and the backup store, and `mlopsctl backup` / `mlopsctl restore` for the rest.
barman-cloud gets what the platform's Cluster says (cnpg_cluster.py): it archives and backs up
where the shipped Cluster's backup section points, with its flags, and restores from where the
Cluster restored by platform_postgresql_recovery_path reads, then archives to that Cluster's
new path. The drill prints its times and sizes (the issue note quotes them).
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import time
import uuid

import cnpg_cluster
import pytest
import requests
import services
from kubernetes import client, config

pytestmark = pytest.mark.controlplane

ARGO = ("argoproj.io", "v1alpha1")
BACKUP_BUCKET, ARTIFACT_BUCKET = "platform-backups", "mlflow"
#: The restored Cluster: bootstrapped from the backups under /, archiving to /restored/.
RECOVERY = {"platform_postgresql_recovery_path": "/", "platform_postgresql_backup_path": "/restored/"}
MODEL = "drill-model"
ALIASES = {"staging": "3", "canary": "2", "production": "1"}


@pytest.fixture(scope="module")
def clusters(tmp_path_factory, shared_fixtures) -> dict[str, dict]:
    """The Cluster as shipped and as restored, rendered from the chart with the role's values."""
    work = tmp_path_factory.mktemp("cluster")
    return {
        "shipped": cnpg_cluster.rendered_cluster(work, shared_fixtures),
        "restored": cnpg_cluster.rendered_cluster(work, shared_fixtures, RECOVERY),
    }


@pytest.fixture(scope="module")
def s3(tmp_path_factory, clusters):
    server = services.start_s3(tmp_path_factory.mktemp("s3"))
    server.make_buckets(
        BACKUP_BUCKET, ARTIFACT_BUCKET, cnpg_cluster.backup_target(clusters["shipped"]).bucket
    )
    yield server
    services.stop(server.proc)


def mlopsctl(*args: str, kubeconfig: str, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, **services.S3_KEYS, "MLOPS_KUBECONFIG": kubeconfig, **(env_extra or {})}
    return subprocess.run(
        [str(services.CACHE / "venv" / "bin" / "mlopsctl"), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


def platform_objects(kube, ns: str) -> None:
    """What the platform leaves in a cluster: generated credentials, history, projects, Applications."""
    core, custom = client.CoreV1Api(kube), client.CustomObjectsApi(kube)
    labels = {"app.kubernetes.io/managed-by": "mlops-platform"}
    for name in (ns, f"{ns}-platform"):
        core.create_namespace({"metadata": {"name": name}})
    creds = {
        "rootUser": services.S3_KEYS["AWS_ACCESS_KEY_ID"],
        "rootPassword": services.S3_KEYS["AWS_SECRET_ACCESS_KEY"],
    }
    for name, data in {
        "minio-credentials": creds,
        "postgresql-credentials": {"username": "mlflow", "password": uuid.uuid4().hex},
        "grafana-admin": {"admin-user": "admin", "admin-password": uuid.uuid4().hex},
    }.items():
        core.create_namespaced_secret(
            f"{ns}-platform",
            {
                "metadata": {"name": name, "labels": labels},
                "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
            },
        )
    history = [{"from": "staging", "to": "canary", "version": "2", "outcome": "succeeded"}]
    core.create_namespaced_config_map(
        ns,
        {
            "metadata": {
                "name": "mlops-promotion-history",
                "labels": {**labels, "app.kubernetes.io/component": "promotion-history"},
            },
            "data": {"history.json": json.dumps(history)},
        },
    )
    for env in ALIASES:
        custom.create_namespaced_custom_object(
            *ARGO, ns, "appprojects",
            {"apiVersion": "argoproj.io/v1alpha1", "kind": "AppProject", "metadata": {"name": env},
             "spec": {"sourceRepos": ["*"], "destinations": [{"namespace": env, "server": "https://kubernetes.default.svc"}]}},
        )  # fmt: skip
        custom.create_namespaced_custom_object(
            *ARGO, ns, "applications",
            {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
             "metadata": {"name": f"model-service-{env}", "labels": {"mlops.platform/environment": env}},
             "spec": {"project": env, "destination": {"namespace": env, "server": "https://kubernetes.default.svc"},
                      "source": {"repoURL": "https://git.example/platform.git",
                                 "path": "charts/model-service",
                                 "helm": {"parameters": [{"name": "model.version",
                                                          "value": ALIASES[env]}]}}}},
        )  # fmt: skip


def snapshot(kube, ns: str) -> dict:
    """Every value the drill must get back, keyed by object."""
    core, custom = client.CoreV1Api(kube), client.CustomObjectsApi(kube)
    out = {}
    for s in core.list_namespaced_secret(f"{ns}-platform").items:
        out[f"Secret/{s.metadata.name}"] = s.data
    for c in core.list_namespaced_config_map(
        ns, label_selector="app.kubernetes.io/managed-by=mlops-platform"
    ).items:
        out[f"ConfigMap/{c.metadata.name}"] = c.data
    for plural in ("appprojects", "applications"):
        for o in custom.list_namespaced_custom_object(*ARGO, ns, plural)["items"]:
            out[f"{o['kind']}/{o['metadata']['name']}"] = o["spec"]
    return out


def registry(mlflow: services.Mlflow) -> dict:
    """The registered model: its versions (source, run) and aliases, and each version's artifact bytes."""
    api = f"{mlflow.url}/api/2.0/mlflow"
    model = requests.get(f"{api}/registered-models/get", params={"name": MODEL}, timeout=30).json()[
        "registered_model"
    ]
    versions = requests.get(
        f"{api}/model-versions/search", params={"filter": f"name='{MODEL}'"}, timeout=30
    ).json()
    artifacts = {
        v: requests.get(
            f"{mlflow.url}/api/2.0/mlflow-artifacts/artifacts/models/{MODEL}/{v}/model.bin", timeout=30
        ).content
        for v in ALIASES.values()
    }
    return {
        "aliases": sorted((a["alias"], a["version"]) for a in model.get("aliases", [])),
        "versions": sorted(
            (v["version"], v["source"], v.get("run_id", "")) for v in versions["model_versions"]
        ),
        "artifacts": artifacts,
    }


def fill_mlflow(mlflow: services.Mlflow) -> None:
    api = f"{mlflow.url}/api/2.0/mlflow"
    requests.post(f"{api}/registered-models/create", json={"name": MODEL}, timeout=30).raise_for_status()
    for v in ("1", "2", "3"):
        blob = os.urandom(256 * 1024)  # a model's weights, incompressible
        path = f"models/{MODEL}/{v}/model.bin"
        requests.put(
            f"{mlflow.url}/api/2.0/mlflow-artifacts/artifacts/{path}", data=blob, timeout=60
        ).raise_for_status()
        requests.post(
            f"{api}/model-versions/create",
            json={"name": MODEL, "source": f"s3://{ARTIFACT_BUCKET}/{path.rsplit('/', 1)[0]}"},
            timeout=30,
        ).raise_for_status()
    for alias, version in ALIASES.items():
        requests.post(
            f"{api}/registered-models/alias",
            json={"name": MODEL, "alias": alias, "version": version},
            timeout=30,
        ).raise_for_status()


def test_backup_destroy_restore(kubeconfig, argo_crds, clusters, s3, tmp_path, capsys):
    kube = config.new_client_from_config(config_file=kubeconfig)
    ns = f"drill-{uuid.uuid4().hex[:6]}"
    target = cnpg_cluster.backup_target(clusters["shipped"])
    source = cnpg_cluster.recovery_source(clusters["restored"])
    after = cnpg_cluster.backup_target(clusters["restored"])
    # What CloudNativePG would do: the restored Cluster reads what the shipped one wrote, and
    # archives elsewhere (the restore itself below fails if the first two disagree).
    assert (source.destination, source.server_name) == (target.destination, target.server_name)
    assert after.destination != target.destination and after.bucket == target.bucket
    assert cnpg_cluster.http_endpoint(target.endpoint), target.endpoint
    pg = services.Postgres(s3, target)
    inventory = tmp_path / "inventory"
    (inventory / "group_vars" / "all").mkdir(parents=True)
    (inventory / "hosts.yml").write_text("all:\n  hosts:\n    localhost:\n      ansible_connection: local\n")
    settings = {
        "mlops_target": "local",
        "mlops_backup": {
            "store": f"s3://{BACKUP_BUCKET}/{ns}",
            "endpoint": s3.url,
            "keep": 3,
            "key_file": str(tmp_path / "backup.key"),
            "buckets": [ARTIFACT_BUCKET],
            "source_endpoint": s3.url,
            "source_secret": {"namespace": f"{ns}-platform", "name": "minio-credentials",
                              "access_key": "rootUser", "secret_key": "rootPassword"},
        },
    }  # fmt: skip
    (inventory / "group_vars" / "all" / "platform.yml").write_text(json.dumps(settings))
    figures = {}
    mlflow = None
    try:
        pg.init()
        pg.start()
        pg.psql("create database mlflow")
        mlflow = services.start_mlflow(tmp_path, pg, s3, ARTIFACT_BUCKET)
        fill_mlflow(mlflow)
        platform_objects(kube, ns)
        before_objects, before_registry = snapshot(kube, ns), registry(mlflow)
        assert before_registry["aliases"] == sorted(ALIASES.items())

        # -- back up: the database with barman-cloud (as CloudNativePG does), the rest with mlopsctl
        t0 = time.monotonic()
        pg.barman(
            "barman-cloud-backup",
            *target.backup_flags,
            "-h",
            "127.0.0.1",
            "-p",
            str(pg.port),
            "-U",
            "postgres",
            target.destination,
            target.server_name,
        )
        figures["database backup s"] = time.monotonic() - t0
        t0 = time.monotonic()
        done = mlopsctl("backup", "-i", str(inventory), "--json", kubeconfig=kubeconfig)
        figures["mlopsctl backup s"] = time.monotonic() - t0
        assert done.returncode == 0, done.stderr
        info = json.loads(done.stdout)
        assert info["objects"] >= len(before_objects) and info["artifacts"] == 3
        assert services.S3_KEYS["AWS_SECRET_ACCESS_KEY"] not in done.stdout + done.stderr
        sizes = {
            o.object_name: o.size for o in s3.client().list_objects(BACKUP_BUCKET, prefix=ns, recursive=True)
        }
        sizes_db = sum(
            o.size for o in s3.client().list_objects(target.bucket, prefix=_prefix(target), recursive=True)
        )
        figures["backup store bytes"], figures["database archive bytes"] = sum(sizes.values()), sizes_db
        encrypted = s3.client().get_object(BACKUP_BUCKET, f"{ns}/backups/{info['id']}/objects.enc").read()
        for value in ("rootPassword", services.S3_KEYS["AWS_SECRET_ACCESS_KEY"]):
            assert value.encode() not in encrypted and base64.b64encode(value.encode()) not in encrypted

        # -- the disaster: database, MLflow, the platform's objects and its bucket, all gone
        services.stop(mlflow.proc)
        mlflow = None
        pg.wipe()
        core = client.CoreV1Api(kube)
        delete_platform_objects(kube, ns)
        c = s3.client()
        for o in c.list_objects(ARTIFACT_BUCKET, recursive=True):
            c.remove_object(ARTIFACT_BUCKET, o.object_name)
        assert snapshot(kube, ns) == {}

        # -- restore: database first (barman-cloud-restore + WAL replay), then mlopsctl restore
        t0 = time.monotonic()
        pg.barman("barman-cloud-restore", source.destination, source.server_name, "latest", str(pg.data))
        # CloudNativePG checks that a new Cluster's archive holds no WAL before it archives:
        # the backups' path does, the restored Cluster's path does not.
        assert pg.barman("barman-cloud-check-wal-archive", target.destination, target.server_name,
                         check=False).returncode != 0  # fmt: skip
        pg.barman("barman-cloud-check-wal-archive", after.destination, after.server_name)
        pg.target = after
        pg.configure(recovery_from=source)
        pg.start()
        figures["database restore s"] = time.monotonic() - t0
        # The platform's object-store credentials come back with the objects: restore them first.
        t0 = time.monotonic()
        first = mlopsctl("restore", info["id"], "-i", str(inventory), "--json", kubeconfig=kubeconfig)
        figures["mlopsctl restore s"] = time.monotonic() - t0
        assert first.returncode == 0, first.stderr
        restored = json.loads(first.stdout)
        assert restored["artifacts"] == 3 and not restored["objects"]["conflicts"]
        mlflow = services.start_mlflow(tmp_path, pg, s3, ARTIFACT_BUCKET)

        assert snapshot(kube, ns) == before_objects
        assert registry(mlflow) == before_registry

        # A second restore changes nothing.
        again = mlopsctl("restore", info["id"], "-i", str(inventory), "--json", kubeconfig=kubeconfig)
        assert again.returncode == 0, again.stderr
        second = json.loads(again.stdout)
        assert (
            not second["objects"]["created"] and not second["objects"]["updated"] and second["artifacts"] == 0
        )

        # A credential changed since the backup is a conflict: kept, reported, exit 1.
        core.patch_namespaced_secret(
            "grafana-admin",
            f"{ns}-platform",
            {"data": {"admin-password": base64.b64encode(b"changed").decode()}},
        )
        conflict = mlopsctl("restore", info["id"], "-i", str(inventory), kubeconfig=kubeconfig)
        assert (
            conflict.returncode == 1
            and "grafana-admin" in conflict.stderr
            and "--overwrite" in conflict.stderr
        )
        assert (
            core.read_namespaced_secret("grafana-admin", f"{ns}-platform").data["admin-password"]
            == base64.b64encode(b"changed").decode()
        )

        # The restored database archives to the restored Cluster's path (its new timeline's history first).
        deadline = time.monotonic() + 120
        while not list(s3.client().list_objects(after.bucket, prefix=_prefix(after), recursive=True)):
            assert time.monotonic() < deadline, (
                f"nothing archived under {after.destination}{after.server_name}/"
            )
            time.sleep(1)
    finally:
        if mlflow is not None:
            services.stop(mlflow.proc)
        pg.remove()
    with capsys.disabled():
        print(
            "\nrestore drill: "
            + ", ".join(f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}" for k, v in figures.items())
        )


def delete_platform_objects(kube, ns: str) -> None:
    """Every object platform_objects made (the namespaces stay: the test control plane runs
    no namespace controller to empty them)."""
    core, custom = client.CoreV1Api(kube), client.CustomObjectsApi(kube)
    core.delete_collection_namespaced_secret(f"{ns}-platform")
    core.delete_collection_namespaced_config_map(
        ns, label_selector="app.kubernetes.io/managed-by=mlops-platform"
    )
    for plural in ("applications", "appprojects"):
        for o in custom.list_namespaced_custom_object(*ARGO, ns, plural)["items"]:
            custom.delete_namespaced_custom_object(*ARGO, ns, plural, o["metadata"]["name"])


def _prefix(b: cnpg_cluster.Barman) -> str:
    """The object prefix barman-cloud writes a server's backups and WAL under."""
    path = b.destination.removeprefix("s3://").split("/", 1)[1]
    return f"{path}{b.server_name}/"
