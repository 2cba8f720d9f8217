"""Each reference check fails on a seeded mistake, naming both objects (a check that cannot
fail is a defect). The mistakes are edits of the real rendered platform, the kind a chart
bump or a values change makes."""

from __future__ import annotations

import copy

import pytest
import yaml

from . import references as refs
from .conftest import OPENSTACK_CONFIG
from .test_placement import _schedcheck, stateful_pods
from .test_placement import cluster as cluster  # noqa: PLC0414 - a fixture, used by name
from .test_platform import POLICY, _sizes
from .test_platform import environment_namespaces as environment_namespaces  # noqa: PLC0414 - a fixture

pytestmark = pytest.mark.controlplane


@pytest.fixture
def shipped(platform):
    return copy.deepcopy(platform["shipped"])


def _one(rendered, kind, name):
    return next(o for o in rendered.objects if o.kind == kind and o.name == name)


def test_a_service_port_change_is_caught(shipped):
    # The MLflow chart's own default port: what the role shipped before this tier existed.
    _one(shipped, "Service", "mlflow").body["spec"]["ports"][0]["port"] = 80
    config = yaml.safe_load(OPENSTACK_CONFIG.read_text())
    problems, _ = refs.check_service_refs(shipped, config, "platform.yml")
    assert any(
        "environments_mlflow_tracking_uri" in p.a and "Service platform/mlflow" in p.b and "5000" in p.why
        for p in problems
    ), problems


def test_a_namespace_outside_the_appproject_is_caught(shipped, projects, namespaced):
    projects = copy.deepcopy(projects)
    projects["platform"]["spec"]["destinations"] = [
        d for d in projects["platform"]["spec"]["destinations"] if d["namespace"] != "monitoring"
    ]
    problems, _ = refs.check_projects(shipped, projects, namespaced)
    assert any("(Application monitoring)" in p.a and p.b == "AppProject platform" for p in problems), problems


def test_a_monitor_port_rename_is_caught(shipped):
    mon = _one(shipped, "ServiceMonitor", "mlflow")
    mon.body["spec"]["endpoints"][0]["port"] = "metrics"
    problems, _ = refs.check_monitors(shipped)
    assert any(
        p.a == mon.ref and "Service platform/mlflow" in p.b and "metrics" in p.why for p in problems
    ), problems


def test_an_unselected_monitor_is_caught(shipped):
    prom = shipped.of_kind("Prometheus")[0]
    prom.body["spec"]["serviceMonitorSelector"] = {"matchLabels": {"release": "monitoring"}}
    problems, _ = refs.check_monitors(shipped)
    assert any("ServiceMonitor platform/mlflow" in p.a and prom.ref in p.b for p in problems), problems


def test_a_dashboard_namespace_that_does_not_exist_is_caught(shipped, environment_namespaces):
    app = shipped.app("monitoring")
    board = app["spec"]["source"]["helm"]["valuesObject"]["grafana"]["dashboards"]["model-services"][
        "model-services"
    ]
    board["json"] = board["json"].replace("model-service-staging", "staging")
    problems, _ = refs.check_dashboards(shipped, environment_namespaces)
    assert any("Application monitoring dashboard" in p.a and p.b == "Namespace staging" for p in problems), (
        problems
    )


def test_a_secret_key_the_role_does_not_make_is_caught(shipped):
    shipped.secrets[("platform", "postgresql-credentials")] = ["password"]
    problems, _ = refs.check_secret_keys(shipped, {})
    assert any(
        "Cluster platform/postgresql" in p.a
        and "Secret platform/postgresql-credentials" in p.b
        and "username" in p.why
        for p in problems
    ), problems


def test_a_backup_secret_key_the_cluster_names_but_nobody_makes_is_caught(shipped):
    pg = _one(shipped, "Cluster", "postgresql")
    pg.body["spec"]["backup"]["barmanObjectStore"]["s3Credentials"]["secretAccessKey"]["key"] = "secretKey"
    problems, _ = refs.check_secret_keys(shipped, {})
    assert any(
        "spec.backup.barmanObjectStore" in p.a
        and "Secret platform/postgresql-backup-s3" in p.b
        and "secretKey" in p.why
        for p in problems
    ), problems


def test_a_claim_off_our_config_is_caught(shipped):
    config = yaml.safe_load(OPENSTACK_CONFIG.read_text())
    sizes = {**_sizes(config), "minio": "75Gi"}
    problems, _ = refs.check_claims(shipped, config["mlops_storage_class"], sizes)
    assert any("(Application minio)" in p.a and "our config" in p.b and "50Gi" in p.why for p in problems), (
        problems
    )
    problems, _ = refs.check_claims(shipped, "ssd", _sizes(config))
    assert len(problems) >= 4, problems


def test_an_image_outside_the_policy_is_caught(shipped):
    policy = yaml.safe_load(POLICY.read_text())
    dep = _one(shipped, "Deployment", "mlflow")
    dep.body["spec"]["template"]["spec"]["containers"][0]["image"] = (
        "docker.io/bitnami/postgresql:17.6.0-debian-12-r4"
    )
    problems, _ = refs.check_images(shipped, policy)
    assert any(dep.ref in p.a and "bitnami" in p.b for p in problems), problems


def test_a_pod_without_the_toleration_is_caught(shipped, cluster):
    nodes, data_host, _storage, _config = cluster
    shape = next(s for s in stateful_pods(shipped) if s.app == "minio")
    spec = dict(shape.spec, tolerations=[])
    verdict = _schedcheck(nodes, [{"metadata": {"name": "p"}, "spec": spec}])
    assert "untolerated taint" in verdict["p"][data_host], verdict
    spec = dict(shape.spec, nodeSelector={})
    verdict = _schedcheck(
        nodes, [{"metadata": {"name": "p"}, "spec": dict(spec, tolerations=shape.spec["tolerations"])}]
    )
    assert sum(1 for why in verdict["p"].values() if not why) > 1, (
        "without the selector it may run on the workers too"
    )
