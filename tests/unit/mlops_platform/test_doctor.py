"""The doctor's checks, each on recorded inputs: what needs the operator and what does not."""

from __future__ import annotations

import datetime

import pytest

from mlops_platform import backup
from mlops_platform.backup import objects
from mlops_platform.doctor import checks
from mlops_platform.results import ApplicationStatus, ClusterInfo, EnvironmentStatus, Status

NOW = datetime.datetime(2026, 12, 1, 12, 0, tzinfo=datetime.UTC)


def status(**kw) -> Status:
    return Status(
        target="openstack", inventory="inv", cluster=ClusterInfo(True, "https://api:6443", "v1.35.1"), **kw
    )


@pytest.mark.parametrize(
    ("version", "pin", "state"),
    [
        ("v1.35.1", "1.35.1", "ok"),
        ("v1.35.1", "v1.35.1", "ok"),
        ("v1.34.9", "1.35.1", "attention"),
        ("v1.35.1", "", "ok"),
    ],
)
def test_cluster_version_against_the_pin(version, pin, state):
    s = status()
    s.cluster.version = version
    assert checks.check_cluster(s, pin)[0].state == state


def test_unreachable_cluster_needs_the_operator():
    s = Status(target="openstack", inventory="inv", cluster=ClusterInfo(False, error="no route"))
    assert checks.check_cluster(s, "1.35.1") == [checks.Finding("cluster", "attention", "no route")]


def test_applications_out_of_sync_are_named():
    s = status(
        applications=[ApplicationStatus("mlflow", "argocd", sync="Synced", health="Healthy"),
                      ApplicationStatus("minio", "argocd", sync="OutOfSync", health="Degraded")],
        environments=[EnvironmentStatus("staging", "model-service-staging", sync="Synced", health="Healthy")],
    )  # fmt: skip
    found = checks.check_applications(s)
    assert [f.detail for f in found] == ["Application minio: OutOfSync/Degraded"]


def test_certificates():
    items = [
        {"metadata": {"name": "ok", "namespace": "platform"},
         "status": {"conditions": [{"type": "Ready", "status": "True"}], "notAfter": "2027-03-01T00:00:00Z"}},
        {"metadata": {"name": "soon", "namespace": "platform"},
         "status": {"conditions": [{"type": "Ready", "status": "True"}], "notAfter": "2026-12-05T12:00:00Z"}},
        {"metadata": {"name": "broken", "namespace": "platform"}, "status": {"conditions": []}},
    ]  # fmt: skip

    class Kube:  # the collection's KubeClient
        def request(self, method, path, **_kw):
            assert (method, path) == ("GET", "/apis/cert-manager.io/v1/certificates")
            return {"items": items}

    found = checks.check_certificates(Kube(), NOW)
    assert [f.detail for f in found] == [
        "Certificate platform/soon expires in 4 days (2026-12-05T12:00:00Z)",
        "Certificate platform/broken is not Ready",
    ]


def test_backups(tmp_path, monkeypatch):
    monkeypatch.setattr(objects, "collect", lambda api_client: [])
    config = {"store": (tmp_path / "store").as_uri(), "key_file": str(tmp_path / "k")}
    assert "no backup yet" in checks.check_backups(config, tmp_path, NOW)[0].detail
    key = backup.load_key(tmp_path / "k", create=True)
    backup.create(
        None, backup.store.DirStore(tmp_path / "store"), key, now=NOW - datetime.timedelta(hours=30)
    )
    found = checks.check_backups(config, tmp_path, NOW)
    assert found[0].state == "attention" and "ago" in found[0].detail
    assert checks.check_backups(None, tmp_path, NOW)[0].state == "attention"


def test_local_target_skips_the_cloud_checks(tmp_path):
    assert checks.check_terraform("local", tmp_path, "terraform")[0].state == "skipped"
    assert checks.check_nodes(None, "local")[0].state == "skipped"
    assert (
        checks.check_terraform("openstack", tmp_path, "terraform")[0].state == "attention"
    )  # not initialised


def test_report_exit_state():
    report = checks.Report([checks.Finding("a", "ok", ""), checks.Finding("b", "skipped", "")])
    assert not report.needs_operator
    report.findings.append(checks.Finding("c", "attention", "x"))
    assert report.to_dict()["needs_operator"]
