"""The URLs `mlopsctl status` gives an operator, from the config (and node ports)."""

from __future__ import annotations

import pytest

from mlops_platform.urls import operator_urls

ALL = [
    "MinIO console",
    "MLflow",
    "Label Studio",
    "Prometheus",
    "Grafana",
    "Container registry",
    "ArgoCD",
    "Argo Workflows",
]


def by_name(values, node_ports=None):
    return {u.name: u for u in operator_urls(values, node_ports)}


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"mlops_floating_ip": "203.0.113.10"}, "https://mlflow.203.0.113.10.sslip.io"),
        (
            {"mlops_floating_ip": "203.0.113.10", "platform_ingress_domain": "ml.example.org"},
            "https://mlflow.ml.example.org",
        ),
        ({}, "https://mlflow.127.0.0.1.sslip.io"),
    ],
)
def test_ingress_urls_follow_the_domain(values, expected):
    urls = by_name(values)
    assert urls["MLflow"].url == expected
    assert [n for n in urls if not n.startswith("environment ")] == ALL


def test_external_object_store_has_no_minio_console_and_apps_left_out_have_no_url():
    urls = by_name({"platform_object_store": "external", "platform_apps": ["postgresql", "mlflow"]})
    assert "MinIO console" not in urls and "Grafana" not in urls and "Label Studio" not in urls
    assert {"MLflow", "ArgoCD", "Argo Workflows"} <= set(urls)


def test_node_ports_come_from_the_live_services():
    values = {"platform_service_exposure": "NodePort", "mlops_floating_ip": "203.0.113.10"}
    urls = by_name(values, {("platform", "mlflow"): 31234})
    assert urls["MLflow"].url == "http://203.0.113.10:31234"
    assert urls["Grafana"].url == "" and "no node port" in urls["Grafana"].note


def test_each_environment_has_its_ingress_host_or_says_why_not():
    values = {
        "environments_list": [
            {"name": "staging"},
            {"name": "production", "ingress_host": "models.example.org"},
        ]
    }
    urls = by_name(values)
    assert urls["environment production"].url == "https://models.example.org"
    assert urls["environment staging"].url == ""
    assert "model-service-staging" in urls["environment staging"].note
