"""Every pin matches the upstream artifact the tests run: a pin and its fixture never differ."""

from __future__ import annotations

import re
import tarfile
from pathlib import Path

import pytest
import yaml

from .conftest import count
from .render import fixture_chart

ROOT = Path(__file__).resolve().parents[2]


def versions_env() -> dict[str, str]:
    out = {}
    for line in (ROOT / "versions.env").read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            out[key.strip()] = value.strip()
    return out


def role_default(role: str, var: str) -> str | None:
    """A pin where it lives: the role's defaults (ArgoCD, Argo Workflows, Rollouts)."""
    data = yaml.safe_load((ROOT / f"roles/{role}/defaults/main.yml").read_text()) or {}
    value = data.get(var)
    return None if value is None else str(value)


PLATFORM_CHARTS = [
    # (versions.env key, chart name in index.yaml)
    ("MINIO_CHART_VERSION", "minio"),
    ("CNPG_CHART_VERSION", "cloudnative-pg"),
    ("CNPG_CLUSTER_CHART_VERSION", "cluster"),
    ("MLFLOW_CHART_VERSION", "mlflow"),
    ("KUBE_PROMETHEUS_STACK_CHART_VERSION", "kube-prometheus-stack"),
    ("LABEL_STUDIO_CHART_VERSION", "label-studio"),
    ("LOKI_CHART_VERSION", "loki"),
    ("FLUENT_BIT_CHART_VERSION", "fluent-bit"),
    ("TRAEFIK_CHART_VERSION", "traefik"),
    ("CERT_MANAGER_VERSION", "cert-manager"),
]


@pytest.mark.parametrize(("key", "chart"), PLATFORM_CHARTS)
def test_chart_pin_is_the_fixture(key, chart, shared_fixtures):
    version = versions_env()[key]
    path = fixture_chart(shared_fixtures / "charts", chart, version)
    known = [
        str(e["version"])
        for e in yaml.safe_load((shared_fixtures / "charts/index.yaml").read_text())["entries"].get(chart, [])
    ]
    assert path is not None and path.exists(), (
        f"versions.env {key}={version} -> ../shared/fixtures/charts has {chart} {known}"
    )
    with tarfile.open(path) as tar:
        meta = yaml.safe_load(tar.extractfile(f"{chart}/Chart.yaml"))
    assert str(meta["version"]) == version, f"{path.name} Chart.yaml says {meta['version']}, pin {version}"
    count("pins checked against fixtures")


def test_cnpg_operator_pin_matches_its_chart_and_manifest(shared_fixtures):
    env = versions_env()
    chart = fixture_chart(shared_fixtures / "charts", "cloudnative-pg", env["CNPG_CHART_VERSION"])
    with tarfile.open(chart) as tar:
        app_version = yaml.safe_load(tar.extractfile("cloudnative-pg/Chart.yaml"))["appVersion"]
    manifest = shared_fixtures / f"manifests/cnpg-{env['CNPG_VERSION']}.yaml"
    assert str(app_version) == env["CNPG_VERSION"], (
        f"versions.env CNPG_VERSION={env['CNPG_VERSION']} -> chart {chart.name} runs {app_version}"
    )
    assert manifest.exists(), f"versions.env CNPG_VERSION={env['CNPG_VERSION']} -> no {manifest}"
    assert f"ghcr.io/cloudnative-pg/cloudnative-pg:{env['CNPG_VERSION']}" in manifest.read_text()
    count("pins checked against fixtures")


def test_amtool_pin_is_the_charts_alertmanager(shared_fixtures):
    """The tests' amtool (scripts/build-go.sh amtool) is the Alertmanager kube-prometheus-stack runs."""
    env = versions_env()
    chart = fixture_chart(
        shared_fixtures / "charts", "kube-prometheus-stack", env["KUBE_PROMETHEUS_STACK_CHART_VERSION"]
    )
    with tarfile.open(chart) as tar:
        values = yaml.safe_load(tar.extractfile("kube-prometheus-stack/values.yaml"))
    image = values["alertmanager"]["alertmanagerSpec"]["image"]
    assert image["repository"] == "prometheus/alertmanager", image
    assert str(image["tag"]) == env["ALERTMANAGER_VERSION"], (
        f"versions.env ALERTMANAGER_VERSION={env['ALERTMANAGER_VERSION']} -> {chart.name} runs {image['tag']}"
    )
    count("pins checked against fixtures")


def test_platform_role_reads_the_pins_from_versions_env():
    """The role's defaults take every version from versions.env (one place), none typed again."""
    defaults = (ROOT / "roles/platform/defaults/main.yml").read_text()
    for key, _chart in PLATFORM_CHARTS:
        assert f"__platform_versions.{key.lower()}" in defaults, f"platform_charts does not read {key}"
    assert not re.search(r"version: \"?\d", defaults), "a chart version typed in roles/platform/defaults"


# ArgoCD, Argo Workflows and Argo Rollouts: the pins live in their roles; each must be a
# release the fixtures hold (what the tests install is what the platform installs).
ARGO_PINS = [
    ("gitops", "gitops_argocd_version", "manifests/argo-cd-{v}-install.yaml"),
    ("workflows", "workflows_version", "manifests/argo-workflows-{v}-install.yaml"),
    ("gitops", "gitops_argo_rollouts_version", "manifests/argo-rollouts-{v}-install.yaml"),
]


@pytest.mark.parametrize(("role", "var", "pattern"), ARGO_PINS, ids=[p[1] for p in ARGO_PINS])
def test_argo_pin_is_a_fixture_release(role, var, pattern, shared_fixtures):
    version = role_default(role, var)
    path = shared_fixtures / pattern.format(v=version)
    assert version is not None, f"roles/{role}/defaults/main.yml has no {var}"
    assert path.exists(), f"roles/{role} {var}={version} -> no {path}"
    count("pins checked against fixtures")


#: versions.env entries that are settings, not component versions.
NOT_COMPONENTS = {"TERRAFORM_MIN_VERSION", "DEBIAN_SUITE", "NODE_IMAGE"}


def _readme_rows() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Components", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("| ") and "---" not in line]


@pytest.mark.parametrize("key", sorted(set(versions_env()) - NOT_COMPONENTS))
def test_readme_component_table_shows_the_pin(key):
    value = versions_env()[key].rsplit(":", 1)[-1]
    rows = [r for r in _readme_rows() if re.search(rf"\b{key}\b", r)]
    assert rows, f"README.md ## Components has no row naming versions.env {key}"
    assert any(value in r.split("|")[2] for r in rows), (
        f"README.md row {rows[0]!r} -> versions.env {key}={value}"
    )


@pytest.mark.parametrize(
    ("role", "var"), [("gitops", "gitops_argocd_version"), ("workflows", "workflows_version")]
)
def test_readme_component_table_shows_the_argo_pins(role, var):
    value = role_default(role, var)
    rows = [r for r in _readme_rows() if var in r]
    assert rows and value in rows[0].split("|")[2], (
        f"README.md ## Components {rows} -> roles/{role} {var}={value}"
    )
