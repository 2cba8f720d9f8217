"""The pure parts of status(): Applications, environments and their versions."""

from __future__ import annotations

import pytest

from mlops_platform.status import _application, _environments, deployed, environment_of


def app(name, labels=None, helm=None, sync=None, health=None, dest="minio"):
    obj = {
        "metadata": {"name": name, "namespace": "argocd", "labels": labels or {}},
        "spec": {"project": "platform", "destination": {"namespace": dest}, "source": {"helm": helm or {}}},
    }
    if sync:
        obj["status"] = {"sync": {"status": sync, "revision": "abc"}, "health": {"status": health}}
    return obj


def test_application_without_status_reads_unknown():
    a = _application(app("minio"))
    assert (a.name, a.project, a.destination, a.sync, a.health) == (
        "minio",
        "platform",
        "minio",
        "Unknown",
        "Unknown",
    )
    b = _application(app("mlflow", sync="Synced", health="Healthy"))
    assert (b.sync, b.health, b.revision) == ("Synced", "Healthy", "abc")


@pytest.mark.parametrize(
    ("helm", "expected"),
    [
        ({}, ("", "")),
        ({"valuesObject": {"model": {"version": 2}, "image": {"tag": "v2"}}}, ("2", "v2")),
        (
            {
                "valuesObject": {"model": {"version": 2}, "image": {"tag": "v2"}},
                "parameters": [{"name": "model.version", "value": "3"}, {"name": "image.tag", "value": "v3"}],
            },
            ("3", "v3"),
        ),
    ],
)
def test_deployed_version_parameters_win(helm, expected):
    assert deployed(app("model-service-staging", helm=helm)) == expected


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (app("model-service-canary"), "canary"),
        (app("anything", labels={"mlops.platform/environment": "production"}), "production"),
        (app("minio"), None),
        (app("model-service-qa"), None),
    ],
)
def test_environment_of(obj, expected):
    assert environment_of(obj, ["staging", "canary", "production"]) == expected


def test_environments_in_order_with_their_last_promotion():
    apps = [app("model-service-canary", helm={"valuesObject": {"model": {"version": 1}}}, dest="canary")]
    history = [
        {"to": "canary", "from": "staging", "version": "1", "result": "succeeded", "time": "t1"},
        {"to": "canary", "from": "staging", "version": "2", "result": "rolled-back", "time": "t2"},
    ]
    envs = _environments(apps, ["staging", "canary", "production"], history)
    assert [e.name for e in envs] == ["staging", "canary", "production"]
    assert envs[0].application == "" and envs[0].last_promotion is None
    assert (envs[1].application, envs[1].namespace, envs[1].version) == (
        "model-service-canary",
        "canary",
        "1",
    )
    assert envs[1].last_promotion["time"] == "t2"


@pytest.mark.parametrize(
    ("name", "labels", "expected"),
    [
        ("minio-credentials", {}, "minio"),
        ("grafana-admin", {}, "grafana"),
        ("label-studio-admin", {}, "label-studio"),
        ("postgresql-credentials", {"app.kubernetes.io/name": "postgres"}, "postgres"),
        ("standalone", None, "standalone"),
    ],
)
def test_app_of_a_generated_secret(name, labels, expected):
    from mlops_platform.status import app_of

    secret = {"metadata": {"name": name, "namespace": "platform", "labels": labels}}
    assert app_of(secret) == expected


class FakeKube:
    """The collection's KubeClient (its `request`) on a cluster with environment Applications
    and a history; each call is recorded by what it reads."""

    server = "https://127.0.0.1:6443"

    def __init__(self, apps: list[dict], history_name: str, records: list[dict]):
        self.apps, self.history_name, self.records = apps, history_name, records
        self.calls: list[str] = []

    def request(self, method, path, *, query=None, allow=(), **_kw):
        import json

        assert method == "GET", path
        if path == "/version":
            return {"gitVersion": "v1.36.3"}
        if path.startswith("/apis/argoproj.io/v1alpha1/"):
            plural = path.rsplit("/", 1)[1]
            self.calls.append(f"list {plural}")
            return {"items": self.apps if plural == "applications" else []}
        if "/configmaps/" in path:
            namespace, name = path.split("/")[4], path.rsplit("/", 1)[1]
            self.calls.append(f"get configmap {namespace}/{name}")
            if name != self.history_name:
                assert 404 in allow
                return None
            meta = {"namespace": namespace, "name": name}
            return {"metadata": meta, "data": {"history.json": json.dumps(self.records)}}
        if path == "/api/v1/secrets":
            self.calls.append("list secrets")
            assert "managed-by=mlops-platform" in query["labelSelector"]
            return {"items": []}
        raise AssertionError(f"unexpected read {path}")


def test_status_reads_the_configured_history_in_one_round_of_lists(monkeypatch, tmp_path):
    """environments_promotion_history_name is the ConfigMap status reads; each kind is listed once."""
    from types import SimpleNamespace

    from mlops_platform import status

    record = {"to": "canary", "from": "staging", "version": "2", "image": "2", "result": "succeeded",
              "time": "t1", "operation": "promote"}
    kube = FakeKube([app("model-service-canary", dest="model-service-canary")], "team-history", [record])
    monkeypatch.setattr(status, "connect", lambda _path: kube)
    values = {"mlops_target": "local", "environments_promotion_history_name": "team-history"}
    target = SimpleNamespace(root=tmp_path, inventory=tmp_path, vars=lambda _names: values,
                             kubeconfig=lambda: tmp_path / "kubeconfig")

    out = status.read_status(target)

    canary = next(e for e in out.environments if e.name == "canary")
    assert canary.last_promotion["version"] == "2"
    assert kube.calls == ["list applications", "get configmap argocd/team-history", "list workflowtemplates",
                          "list secrets"]
