"""Backups and archived logs: where the rendered Cluster and Argo's controller write, and with what.

The database (CloudNativePG's Cluster, rendered from the cluster chart) archives to the object
store: its endpoint must be MinIO's rendered Service and port (shipped) or the external endpoint
(options), its bucket one MinIO's bucket job makes, its credentials a Secret with the keys the
Cluster names, holding the object store's keys. The options run also restores: the Cluster
bootstraps from its own backups (server name = the Cluster's) under another path than the one it
archives to. Argo Workflows' controller archives every step's log (archiveLogs) to a bucket
MinIO makes, at MinIO's Service, with a Secret in the workflows' namespace; its artifact
repository is dry-run against the real Workflow CRD (v4.1.2) with strict field validation.
"""

from __future__ import annotations

import base64
import re

import pytest
import yaml

from . import references as refs
from .conftest import OPENSTACK_CONFIG, OPTIONS, ROOT, count

pytestmark = pytest.mark.controlplane

RUNS = ["shipped", "options"]
WORKFLOWS_NS = "argo"


def settings(run: str) -> dict:
    """The platform role's variables as the run had them: defaults, the OpenStack config, options."""
    defaults = yaml.safe_load((ROOT / "roles/platform/defaults/main.yml").read_text())
    config = yaml.safe_load(OPENSTACK_CONFIG.read_text())
    return {**defaults, **config, **(OPTIONS if run == "options" else {})}


def minio_buckets(platform) -> list[str]:
    values = platform["shipped"].app("minio")["spec"]["source"]["helm"]["valuesObject"]
    return [b["name"] for b in values.get("buckets") or []]


def secret_data(kube, ns: str, name: str) -> dict[str, str]:
    sec = kube.request("GET", f"/api/v1/namespaces/{ns}/secrets/{name}", allow=(404,))
    assert sec is not None, f"Secret {ns}/{name} does not exist"
    return sec.get("data") or {}


def cluster(rendered):
    found = [o for o in rendered.of_kind("Cluster") if o.body["apiVersion"].startswith("postgresql.cnpg.io/")]
    assert len(found) == 1, [o.ref for o in found]
    return found[0]


def check_endpoint(platform, run: str, url: str, where: str) -> None:
    if run == "options":
        assert url == OPTIONS["platform_s3_endpoint"], f"{where}: endpoint {url}, the config's is external"
        return
    m = refs.SVC_HOST.match(url)
    assert m, f"{where}: {url} is not an in-cluster Service address"
    svc = refs.services(platform[run]).get((m["ns"], m["name"]))
    assert svc is not None, f"{where}: {url} -> no such Service in the rendered manifests"
    port = int(m["port"] or refs.DEFAULT_PORTS[m["scheme"] or "http"])
    assert port in svc.ports, f"{where}: port {port} -> {svc.ref} has ports {sorted(svc.ports)}"
    minio = {(o.namespace, o.name) for o in platform[run].of_kind("Service") if o.app == "minio"}
    assert (svc.namespace, svc.name) in minio, f"{where}: {url} -> {svc.ref}, not MinIO's"


def check_bucket(platform, run: str, bucket: str, where: str) -> None:
    if run == "shipped":
        made = minio_buckets(platform)
        assert bucket in made, f"{where}: bucket {bucket}; MinIO's bucket job makes {made}"


@pytest.mark.parametrize("run", RUNS)
def test_the_database_archives_to_the_object_store(platform, run):
    s = settings(run)
    pg = cluster(platform[run])
    stores = dict(refs.barman_object_stores(pg))
    store = stores.get("spec.backup.barmanObjectStore")
    assert store, f"{pg.ref} has no backup section: its database is not backed up"
    where = f"{pg.ref} spec.backup.barmanObjectStore"
    check_endpoint(platform, run, store["endpointURL"], where)
    m = re.match(r"^s3://([^/]+)(/.*)$", store["destinationPath"])
    assert m, f"{where}: destinationPath {store['destinationPath']}"
    assert (m[1], m[2]) == (s["platform_postgresql_backup_bucket"], s["platform_postgresql_backup_path"])
    check_bucket(platform, run, m[1], where)
    # The WAL and base backups the drill takes are the same shape: gzip, no server-side encryption.
    assert store["wal"]["compression"] == store["data"]["compression"] == "gzip", store
    assert "encryption" not in store["wal"] and "encryption" not in store["data"], store
    assert pg.body["spec"]["backup"]["retentionPolicy"] == s["platform_postgresql_backup_retention"]
    schedules = [
        o for o in platform[run].of_kind("ScheduledBackup") if o.body["spec"]["cluster"]["name"] == pg.name
    ]
    assert [o.body["spec"]["schedule"] for o in schedules] == [s["platform_postgresql_backup_schedule"]], (
        f"ScheduledBackups of {pg.ref}: {[o.ref for o in schedules]}"
    )
    assert len(s["platform_postgresql_backup_schedule"].split()) == 6, (
        "CloudNativePG's cron has seconds first"
    )
    count(f"database backup references checked ({run})", 4)


def test_the_options_restore_the_database_from_its_own_backups(platform):
    s = settings("options")
    pg = cluster(platform["options"])
    spec = pg.body["spec"]
    recovery = spec["bootstrap"]["recovery"]
    assert "initdb" not in spec["bootstrap"], spec["bootstrap"]
    source = next((e for e in spec.get("externalClusters") or [] if e["name"] == recovery["source"]), None)
    assert source, f"{pg.ref}: bootstrap.recovery.source {recovery['source']} names no externalCluster"
    store = source["barmanObjectStore"]
    assert store["serverName"] == pg.name, "the restore reads the backups this Cluster wrote (server name)"
    assert (
        store["destinationPath"]
        == f"s3://{s['platform_postgresql_backup_bucket']}{s['platform_postgresql_recovery_path']}"
    )
    assert store["destinationPath"] != spec["backup"]["barmanObjectStore"]["destinationPath"], (
        "the restored database would archive over the backups it comes from"
    )
    check_endpoint(platform, "options", store["endpointURL"], f"{pg.ref} {source['name']}")
    assert (recovery["database"], recovery["owner"]) == (
        s["platform_mlflow_database"],
        s["platform_mlflow_db_user"],
    )
    assert recovery["recoveryTarget"]["targetTime"] == OPTIONS["platform_postgresql_recovery_target_time"]
    shipped = cluster(platform["shipped"]).body["spec"]
    assert "recovery" not in shipped["bootstrap"] and "externalClusters" not in shipped


def same_values(kube, copy: tuple[str, str, dict], source: tuple[str, str, dict]) -> None:
    """Every key of the copy holds the value of its source key (compared, never printed)."""
    (cns, cname, ckeys), (sns, sname, skeys) = copy, source
    got, want = secret_data(kube, cns, cname), secret_data(kube, sns, sname)
    for ckey, skey in zip(ckeys, skeys, strict=True):
        assert ckey in got, f"Secret {cns}/{cname} has no key {ckey} (keys: {sorted(got)})"
        assert got[ckey] == want.get(skey), f"Secret {cns}/{cname} {ckey} is not Secret {sns}/{sname} {skey}"


def test_the_database_backup_secret_holds_the_object_stores_keys(platform, kube):
    """After the options run (external store) the copy is the external store's keys."""
    pg = cluster(platform["options"])
    names = {
        ref["name"] for _, store in refs.barman_object_stores(pg) for ref in store["s3Credentials"].values()
    }
    assert len(names) == 1, names
    same_values(
        kube,
        (pg.namespace, names.pop(), ["ACCESS_KEY_ID", "ACCESS_SECRET_KEY"]),
        (pg.namespace, "object-store-credentials", ["access-key", "secret-key"]),
    )


@pytest.fixture(scope="session")
def artifact_repository(stages, kube) -> dict:
    cm = kube.request("GET", f"/api/v1/namespaces/{WORKFLOWS_NS}/configmaps/workflow-controller-configmap")
    return yaml.safe_load(cm["data"]["artifactRepository"])


def test_workflow_logs_are_archived_to_the_object_store(platform, artifact_repository, kube):
    repo = artifact_repository
    assert repo["archiveLogs"] is True, repo
    s3 = repo["s3"]
    where = f"ConfigMap {WORKFLOWS_NS}/workflow-controller-configmap artifactRepository.s3"
    check_endpoint(platform, "shipped", f"http://{s3['endpoint']}", where)
    assert s3["insecure"] is True, "MinIO's in-cluster Service speaks plain http"
    check_bucket(platform, "shipped", s3["bucket"], where)
    secret = {s3["accessKeySecret"]["name"], s3["secretKeySecret"]["name"]}
    assert len(secret) == 1, secret
    same_values(
        kube,
        (WORKFLOWS_NS, secret.pop(), [s3["accessKeySecret"]["key"], s3["secretKeySecret"]["key"]]),
        ("platform", "minio-credentials", ["rootUser", "rootPassword"]),
    )
    count("workflow log archive references checked", 4)


def _dry_run_workflow(kube, archive: dict):
    body = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": "archive-check", "namespace": WORKFLOWS_NS},
        "spec": {
            "entrypoint": "main",
            "templates": [{"name": "main", "container": {"image": "busybox"}, "archiveLocation": archive}],
        },
    }
    return kube.request(
        "POST",
        f"/apis/argoproj.io/v1alpha1/namespaces/{WORKFLOWS_NS}/workflows",
        body=body,
        query={"dryRun": "All", "fieldValidation": "Strict"},
        action="creating (dry run)",
        ref="Workflow archive-check",
    )


def test_the_artifact_repository_fits_argos_schema(artifact_repository, kube):
    """A template's archiveLocation is the repository's S3 bucket plus a key: the Workflow CRD's
    schema, strictly validated by the API server, checks every field name and type."""
    from ansible_collections.mlops.platform.plugins.module_utils.kube import KubeError

    archive = {**artifact_repository, "s3": {**artifact_repository["s3"], "key": "check/main.log"}}
    _dry_run_workflow(kube, archive)
    wrong = {**archive, "s3": {**archive["s3"], "accesKeySecret": archive["s3"]["accessKeySecret"]}}
    with pytest.raises(KubeError, match="accesKeySecret"):
        _dry_run_workflow(kube, wrong)


def test_no_object_store_key_in_the_stages_output(stages, kube):
    values = []
    for ns, name, key in [
        ("platform", "minio-credentials", "rootPassword"),
        ("platform", "object-store-credentials", "secret-key"),
        ("platform", "postgresql-backup-s3", "ACCESS_SECRET_KEY"),
        (WORKFLOWS_NS, "argo-workflows-s3", "secretKey"),
    ]:
        encoded = secret_data(kube, ns, name)[key]
        values += [encoded, base64.b64decode(encoded).decode()]
    leaked = [i for i, v in enumerate(values) if v in stages["output"]]
    assert not leaked, f"{len(leaked)} secret value(s) in the stages' output"
    count("secret values looked for in the output", len(values))
