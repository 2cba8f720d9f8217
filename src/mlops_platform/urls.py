"""The URLs an operator opens, from the platform config (and, for node ports, the live Services).

With the Ingress exposure (the default) every app is at https://<app>.<domain>, as the platform
role names the hosts (roles/platform/vars/main.yml: __platform_hosts, __platform_argo_routes);
the domain is platform_ingress_domain, else <floating IP>.sslip.io. With NodePort the URL is
http://<floating IP>:<node port> of the app's Service as the cluster reports it. Each
environment is at https://<its ingress_host> when it has one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: Inventory variables the URLs come from (status reads them with its own).
URL_VARS = [
    "platform_service_exposure",
    "platform_ingress_domain",
    "platform_apps",
    "platform_object_store",
    "platform_namespace",
    "platform_monitoring_namespace",
    "mlops_floating_ip",
    "environments_list",
    "environments_name_prefix",
]
LOCAL_ADDRESS = "127.0.0.1"


@dataclass
class OperatorURL:
    name: str
    url: str
    note: str = ""


@dataclass(frozen=True)
class _App:
    name: str
    host: str  # the Ingress host's first label
    needs: str | None  # the platform app that brings it (None: always there)
    namespace_var: str  # the namespace variable of its Service
    default_ns: str
    service: str  # its Service (node port lookup)


APPS = [
    _App("MinIO console", "minio", "minio", "platform_namespace", "platform", "minio-console"),
    _App("MLflow", "mlflow", "mlflow", "platform_namespace", "platform", "mlflow"),
    _App(
        "Label Studio",
        "label-studio",
        "label_studio",
        "platform_namespace",
        "platform",
        "label-studio-ls-app",
    ),
    _App(
        "Prometheus",
        "prometheus",
        "monitoring",
        "platform_monitoring_namespace",
        "monitoring",
        "monitoring-kube-prometheus-prometheus",
    ),
    _App(
        "Grafana",
        "grafana",
        "monitoring",
        "platform_monitoring_namespace",
        "monitoring",
        "monitoring-grafana",
    ),
    _App(
        "Container registry",
        "registry",
        "registry",
        "platform_namespace",
        "platform",
        "registry-docker-registry",
    ),
    _App("ArgoCD", "argocd", None, "", "argocd", "argocd-server"),
    _App("Argo Workflows", "argo-workflows", None, "", "argo", "argo-server"),
]
#: roles/platform/defaults/main.yml's platform_apps (a unit test keeps them equal).
DEFAULT_APPS = ["minio", "postgresql", "mlflow", "monitoring", "label_studio", "logs", "registry"]


def domain(values: dict[str, Any]) -> str:
    """The apps' DNS domain, as the platform role derives it."""
    return str(values.get("platform_ingress_domain") or "") or (
        f"{values.get('mlops_floating_ip') or LOCAL_ADDRESS}.sslip.io"
    )


def _enabled(app: _App, values: dict[str, Any]) -> bool:
    apps = values.get("platform_apps") or DEFAULT_APPS
    if app.needs == "minio" and (values.get("platform_object_store") or "minio") != "minio":
        return False
    return app.needs is None or app.needs in apps


def _environments(values: dict[str, Any]) -> list[OperatorURL]:
    from .collection import module_utils

    names = module_utils("promotion.names")
    prefix = str(values.get("environments_name_prefix") or names.DEFAULT_PREFIX)
    out = []
    for env in values.get("environments_list") or [{"name": n} for n in names.DEFAULT_ENVIRONMENTS]:
        env = env if isinstance(env, dict) else {"name": str(env)}
        host = env.get("ingress_host")
        if host:
            out.append(OperatorURL(f"environment {env['name']}", f"https://{host}"))
        else:
            out.append(
                OperatorURL(
                    f"environment {env['name']}",
                    "",
                    f"no ingress_host: in-cluster only (namespace {names.qualified(prefix, env['name'])})",
                )
            )
    return out


def operator_urls(
    values: dict[str, Any], node_ports: dict[tuple[str, str], int] | None = None
) -> list[OperatorURL]:
    """Every URL an operator opens. node_ports: (namespace, Service) -> its first node port."""
    exposure = str(values.get("platform_service_exposure") or "Ingress")
    out = []
    for app in APPS:
        if not _enabled(app, values):
            continue
        if exposure == "Ingress":
            out.append(OperatorURL(app.name, f"https://{app.host}.{domain(values)}"))
            continue
        ns = str(values.get(app.namespace_var) or app.default_ns) if app.namespace_var else app.default_ns
        port = (node_ports or {}).get((ns, app.service))
        address = values.get("mlops_floating_ip") or LOCAL_ADDRESS
        if exposure == "NodePort" and port:
            out.append(OperatorURL(app.name, f"http://{address}:{port}"))
        else:
            out.append(OperatorURL(app.name, "", f"{exposure}: Service {ns}/{app.service} has no node port"))
    return out + _environments(values)


def node_ports(kube, values: dict[str, Any]) -> dict[tuple[str, str], int]:
    """(namespace, Service) -> first node port, for the NodePort exposure; {} otherwise.

    kube: the collection's KubeClient (one list of every Service)."""
    if (values.get("platform_service_exposure") or "Ingress") != "NodePort":
        return {}
    out = {}
    for svc in kube.request("GET", "/api/v1/services", action="listing", ref="Services")["items"]:
        ports = [p["nodePort"] for p in (svc.get("spec") or {}).get("ports") or [] if p.get("nodePort")]
        if ports:
            out[(svc["metadata"]["namespace"], svc["metadata"]["name"])] = ports[0]
    return out
