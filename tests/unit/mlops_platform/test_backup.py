"""Backups on a directory store: encryption, incremental artifact copies, retention, bad input.

The cluster side (collecting and restoring objects) is exercised against the real API
server by tests/integration/backup; here `objects.collect` and `objects.restore` are
replaced by recorders so the store logic is tested alone.
"""

from __future__ import annotations

import datetime
import json
import os

import pytest

from mlops_platform import backup
from mlops_platform.backup import objects, settings
from mlops_platform.backup.store import DirStore, open_store
from mlops_platform.errors import MlopsError

OBJECTS = [
    {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "minio-credentials", "namespace": "platform"},
     "data": {"rootPassword": "c2VjcmV0LXZhbHVl"}},  # "secret-value"
]  # fmt: skip


@pytest.fixture
def fake_cluster(monkeypatch):
    restored = []
    monkeypatch.setattr(objects, "collect", lambda api_client: OBJECTS)

    def fake_restore(api_client, objs, overwrite=False, dry_run=False):
        restored.append(objs)
        return objects.RestoreReport(created=[objects.ref(o) for o in objs])

    monkeypatch.setattr(objects, "restore", fake_restore)
    return restored


def at(minute: int) -> datetime.datetime:
    return datetime.datetime(2026, 12, 1, 12, minute, tzinfo=datetime.UTC)


def test_backup_is_encrypted_and_restores(fake_cluster, tmp_path):
    store, src = DirStore(tmp_path / "store"), DirStore(tmp_path / "mlflow")
    src.put("models/m/1/model.bin", b"weights-1")
    key = backup.load_key(tmp_path / "backup.key", create=True)
    info = backup.create(None, store, key, buckets={"mlflow": src}, now=at(0))
    blob = (tmp_path / "store" / "backups" / info.id / "objects.enc").read_bytes()
    assert b"c2VjcmV0LXZhbHVl" not in blob and b"secret-value" not in blob
    assert oct((tmp_path / "backup.key").stat().st_mode & 0o777) == "0o600"

    target = DirStore(tmp_path / "mlflow-restored")
    result = backup.restore(None, store, info.id, key, buckets=lambda: {"mlflow": target})
    assert fake_cluster == [OBJECTS]
    assert target.get("models/m/1/model.bin") == b"weights-1" and result.artifacts == 1
    again = backup.restore(None, store, info.id, key, buckets=lambda: {"mlflow": target})
    assert again.artifacts == 0  # equal artifacts are not copied again


def test_key_is_never_regenerated(tmp_path):
    first = backup.load_key(tmp_path / "k", create=True)
    assert backup.load_key(tmp_path / "k", create=True) == first


def test_wrong_or_missing_key_is_refused(fake_cluster, tmp_path):
    store = DirStore(tmp_path / "store")
    info = backup.create(None, store, backup.load_key(tmp_path / "k1", create=True), now=at(0))
    other = backup.load_key(tmp_path / "k2", create=True)
    with pytest.raises(MlopsError, match="encrypted with key"):
        backup.restore(None, store, info.id, other)
    with pytest.raises(MlopsError, match="missing"):
        backup.load_key(tmp_path / "absent", create=False)
    os.chmod(tmp_path / "k2", 0o644)
    with pytest.raises(MlopsError, match="chmod 600"):
        backup.load_key(tmp_path / "k2", create=False)


def test_tampered_backup_is_refused(fake_cluster, tmp_path):
    store = DirStore(tmp_path / "store")
    key = backup.load_key(tmp_path / "k", create=True)
    info = backup.create(None, store, key, now=at(0))
    path = tmp_path / "store" / "backups" / info.id / "objects.enc"
    path.write_bytes(path.read_bytes()[:-4] + b"AAAA")
    with pytest.raises(MlopsError, match="checksum"):
        backup.restore(None, store, info.id, key)


def test_artifacts_are_copied_incrementally_and_pruned(fake_cluster, tmp_path):
    store, src = DirStore(tmp_path / "store"), DirStore(tmp_path / "src")
    key = backup.load_key(tmp_path / "k", create=True)
    src.put("a", b"1" * 10)
    first = backup.create(None, store, key, buckets={"b1": src}, now=at(0))
    assert first.copied_bytes == 10
    src.put("b", b"2" * 20)
    second = backup.create(None, store, key, buckets={"b1": src}, now=at(1))
    assert second.copied_bytes == 20 and second.artifacts == 2
    src.delete(["a"])
    third = backup.create(None, store, key, buckets={"b1": src}, keep=1, now=at(2))
    assert [b.id for b in backup.list_backups(store)] == [third.id]
    assert [e.key for e in store.list("artifacts/")] == [
        "artifacts/b1/b"
    ]  # "a" no longer listed by any backup


def test_unknown_backup_names_the_known_ones(fake_cluster, tmp_path):
    store = DirStore(tmp_path / "store")
    info = backup.create(None, store, backup.load_key(tmp_path / "k", create=True), now=at(0))
    with pytest.raises(MlopsError, match=f"no backup 'nope'.*{info.id}"):
        backup.restore(None, store, "nope", backup.load_key(tmp_path / "k", create=False))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda text: text[: len(text) // 2], "manifest.json is not valid JSON"),
        (lambda text: text.replace('"key_id"', '"key"'), "manifest.json lacks key_id"),
        (
            lambda text: text.replace('"objects":', '"things":'),
            "manifest.json's summary is not a backup summary",
        ),
    ],
    ids=["truncated", "missing-field", "bad-summary"],
)
def test_a_damaged_manifest_is_one_line_and_the_others_stay_listed(fake_cluster, tmp_path, damage, message):
    """Issue 28: a truncated manifest gave JSONDecodeError and broke `mlopsctl backups` for the whole
    store; a missing field gave KeyError."""
    store = DirStore(tmp_path / "store")
    key = backup.load_key(tmp_path / "k", create=True)
    good, bad = backup.create(None, store, key, now=at(0)), backup.create(None, store, key, now=at(1))
    path = tmp_path / "store" / "backups" / bad.id / "manifest.json"
    path.write_text(damage(path.read_text()))
    damaged = []
    assert [b.id for b in backup.list_backups(store, damaged)] == [good.id]
    assert len(damaged) == 1 and message in damaged[0] and bad.id in damaged[0]
    with pytest.raises(MlopsError, match=message) as e:
        backup.restore(None, store, bad.id, key)
    assert e.value.exit_code == 2


def test_an_unwritable_store_is_one_line(fake_cluster, tmp_path):
    """Issue 28: a backup to an unwritable path gave FileNotFoundError (an unexpected failure)."""
    (tmp_path / "file").write_text("not a directory")
    store = DirStore(tmp_path / "file" / "store")
    key = backup.load_key(tmp_path / "k", create=True)
    with pytest.raises(MlopsError, match=r"backup store .*: cannot write .* \(Not a directory\)") as e:
        backup.create(None, store, key, now=at(0))
    assert e.value.exit_code == 2


def test_dir_store_keeps_keys_inside(tmp_path):
    with pytest.raises(MlopsError, match="leaves the store"):
        DirStore(tmp_path).put("../escape", b"x")


@pytest.mark.parametrize(
    ("url", "kwargs", "message"),
    [
        ("ftp://host/x", {}, "scheme 'ftp' is not supported"),
        ("s3:///prefix", {"endpoint": "http://127.0.0.1:9"}, "needs a bucket"),
        ("s3://bucket", {}, "needs an endpoint"),
        ("s3://bucket", {"endpoint": "http://127.0.0.1:9"}, "no credentials"),
    ],
)
def test_bad_store_urls(url, kwargs, message):
    with pytest.raises(MlopsError, match=message) as e:
        open_store(url, **kwargs)
    assert e.value.exit_code == 2


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({}, "no backup store"),
        ({"store": "file:///x", "keep": 0}, r"keep: 0 is out of range \(allowed: 1 to 10000\)"),
        ({"store": "file:///x", "keep": "7"}, "keep: '7' is not a whole number"),
        ({"store": "file:///x", "keep": True}, "keep: True is not a whole number"),
        ({"store": "file:///x", "bucketz": []}, "unknown field.*bucketz"),
        ({"store": "file:///x", "buckets": ["ab"]}, "'ab' is not a bucket name"),
        ({"store": "file:///x", "buckets": ["mlflow"]}, "needs source_endpoint and source_secret"),
    ],
)
def test_bad_settings_name_the_field(config, message, tmp_path):
    with pytest.raises(MlopsError, match=message) as e:
        settings.parse(config, {}, tmp_path)
    assert e.value.exit_code == 2


def test_flags_override_the_inventory(tmp_path):
    s = settings.parse(
        {"store": "file:///a", "keep": 3, "key_file": "k"}, {"store": "file:///b", "keep": None}, tmp_path
    )
    assert (s.store, s.keep, s.key_file) == ("file:///b", 3, tmp_path / "k")


def test_clean_drops_what_the_server_owns():
    obj = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "a", "namespace": "argocd", "uid": "u", "resourceVersion": "7",
                     "managedFields": [],
                     "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}", "keep": "me"}},
        "spec": {"project": "p"},
        "status": {"sync": {}},
        "operation": {"sync": {}},
    }  # fmt: skip
    assert objects.clean(obj) == {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "a", "namespace": "argocd", "annotations": {"keep": "me"}},
        "spec": {"project": "p"},
    }
    assert json.dumps(objects.clean(obj))  # what is stored is plain JSON


def test_collect_leaves_out_service_account_tokens(monkeypatch):
    token = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/service-account-token",
        "metadata": {"name": "alertmanager-events-token", "namespace": "monitoring"},
        "data": {"token": "dA=="},
    }
    generated = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {"name": "minio-credentials", "namespace": "platform"},
        "data": {"k": "dg=="},
    }
    monkeypatch.setattr(objects, "_live", lambda api_client: [token, generated])  # fmt: skip
    assert [objects.ref(o) for o in objects.collect(None)] == ["Secret platform/minio-credentials"]


def test_schedule_units_are_written_once(tmp_path):
    from mlops_platform.backup import schedule

    files = schedule.units(str(tmp_path / "inventory" / "openstack"), "*-*-* 02:30", mlopsctl="/opt/mlopsctl")
    assert "OnCalendar=*-*-* 02:30" in files["mlopsctl-backup.timer"]
    assert "ExecStart=/opt/mlopsctl backup --inventory" in files["mlopsctl-backup.service"]
    assert schedule.install(files, tmp_path / "units") == ["mlopsctl-backup.service", "mlopsctl-backup.timer"]
    assert schedule.install(files, tmp_path / "units") == []
    assert schedule.remove(tmp_path / "units") == ["mlopsctl-backup.service", "mlopsctl-backup.timer"]


@pytest.mark.parametrize("bad", ["daily; rm -rf /", "$(id)", "", "x" * 101])
def test_schedule_refuses_what_is_not_a_calendar(bad):
    from mlops_platform.backup import schedule

    with pytest.raises(MlopsError, match="not a systemd calendar expression"):
        schedule.units("inventory/local", bad)


@pytest.mark.parametrize("bad", ["every blue moon", "Mon..Fru 22:00", "*-*-* 25:00"])
def test_schedule_refuses_what_systemd_does_not_read(bad):
    """Expressions made of allowed characters that systemd's own parser refuses (issue 28: such a
    timer was written, and never ran)."""
    from mlops_platform.backup import schedule

    with pytest.raises(MlopsError, match="systemd does not read it as a calendar expression"):
        schedule.units("inventory/local", bad)
    assert schedule.units("inventory/local", "Mon..Fri 22:00", mlopsctl="/opt/mlopsctl")
