"""Read the live state of the platform; nothing here changes anything.

The Kubernetes side is read with the collection's own client (plugins/module_utils/kube:
one connection, JSON over urllib3, no import of the `kubernetes` package, which costs
seconds here) and the target's admin kubeconfig, in one round of list calls; the cloud
side from `terraform output -json` when the target has a Terraform state. Generated
credentials are listed by Secret name and key names; their values are read only by
`read_credentials`, for one app, when the operator asks.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any, Protocol

from . import urls
from .collection import module_utils
from .errors import EXIT_BAD_INPUT, EXIT_RUN_FAILED, MlopsError
from .results import (
    ApplicationStatus,
    ClusterInfo,
    CredentialInfo,
    EnvironmentStatus,
    Status,
    WorkflowTemplateInfo,
)


class Target(Protocol):
    """What status reads of a target (api.Platform is one): its checkout, inventory and variables."""

    root: Path
    inventory: Path

    def vars(self, names: list[str]) -> dict[str, Any]: ...

    def kubeconfig(self) -> Path: ...


#: The collection's promotion rules: what an Application deploys, the history, the names.
appl = module_utils("promotion.application")
history = module_utils("promotion.history")
names = module_utils("promotion.names")
kube_client = module_utils("kube.client")
kube_errors = module_utils("kube.errors")

ARGO_API = "/apis/argoproj.io/v1alpha1"
#: Inventory variables status() reads (missing ones fall back to the defaults below).
STATUS_VARS = [
    "mlops_target",
    "mlops_kubeconfig",
    "mlops_cluster_name",
    "mlops_argocd_namespace",
    "gitops_namespace",
    "environments_list",
    "environments_argocd_namespace",
    "environments_name_prefix",
    "environments_promotion_history_name",
    "mlops_terraform_dir",
]
DEFAULT_ARGOCD_NAMESPACE = "argocd"
#: The label on environment Applications naming their environment.
ENVIRONMENT_LABEL = "mlops.platform/environment"
#: generated_secret labels its Secrets managed-by mlops-platform; ArgoCD repository
#: Secrets (argocd_repository) carry the same label and are not credentials of an app.
CREDENTIAL_SELECTOR = "app.kubernetes.io/managed-by=mlops-platform,!argocd.argoproj.io/secret-type"
#: The labels naming the app of a generated Secret, first found wins; without them the
#: Secret's name less a suffix (minio-credentials -> minio, grafana-admin -> grafana).
APP_LABELS = ("app.kubernetes.io/name", "app.kubernetes.io/instance")
SECRET_SUFFIXES = ("-admin-credentials", "-credentials", "-admin", "-secret", "-auth")
#: Environment Applications are named after their environment (environment_promote's default).
APPLICATION_FORMAT = names.name_format()
REQUEST_TIMEOUT = 10


def connect(kubeconfig: Path):
    """The collection's KubeClient for the target's kubeconfig (one connection for all reads)."""
    try:
        return kube_client.KubeClient.from_params(
            {"kubeconfig": str(kubeconfig), "request_timeout": REQUEST_TIMEOUT}
        )
    except kube_errors.KubeError as e:
        raise MlopsError(f"cannot load kubeconfig {kubeconfig}: {e}", exit_code=EXIT_BAD_INPUT) from e


def app_of(secret: dict) -> str:
    """The app a generated Secret belongs to: its app.kubernetes.io labels, else its name less a suffix."""
    meta = secret.get("metadata") or {}
    labels = meta.get("labels") or {}
    label = next((labels[k] for k in APP_LABELS if labels.get(k)), None)
    if label:
        return str(label)
    name = meta.get("name", "")
    stripped = (name[: -len(sfx)] for sfx in SECRET_SUFFIXES if name.endswith(sfx) and len(name) > len(sfx))
    return next(stripped, name)


def _generated_secrets(kube) -> list[dict]:
    return kube.request(
        "GET",
        "/api/v1/secrets",
        query={"labelSelector": CREDENTIAL_SELECTOR},
        action="listing",
        ref="Secrets",
    )["items"]


def _list(kube, plural: str) -> list[dict]:
    """Objects of an Argo CRD kind in every namespace; [] when the CRD is not installed yet."""
    out = kube.request(
        "GET", f"{ARGO_API}/{plural}", action="listing", ref=f"{plural}.argoproj.io", allow=(404,)
    )
    return sorted(
        (out or {}).get("items", []),
        key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]),
    )


def _application(obj: dict) -> ApplicationStatus:
    meta, spec, st = obj.get("metadata", {}), obj.get("spec", {}), obj.get("status", {}) or {}
    dest = spec.get("destination", {}) or {}
    return ApplicationStatus(
        name=meta.get("name", ""),
        namespace=meta.get("namespace", ""),
        project=spec.get("project", ""),
        destination=dest.get("namespace", "") or dest.get("name", "") or dest.get("server", ""),
        sync=(st.get("sync") or {}).get("status", "") or "Unknown",
        health=(st.get("health") or {}).get("status", "") or "Unknown",
        revision=(st.get("sync") or {}).get("revision", "") or "",
    )


def deployed(obj: dict) -> tuple[str, str]:
    """(model version, image tag) an environment Application renders ("" when unset)."""
    version, image = appl.deployed(appl.source_of(obj))
    return version or "", image or ""


def _history(kube, namespace: str, name: str) -> list[dict]:
    """The promotion history's records (promotion/history.py's reading; unreadable ones dropped)."""
    cm = kube.request(
        "GET",
        f"/api/v1/namespaces/{namespace}/configmaps/{name}",
        action="reading",
        ref=f"ConfigMap {namespace}/{name}",
        allow=(404,),
    )
    if cm is None:
        return []
    records, _warnings = history.parse(cm)
    return records


def environment_of(obj: dict, names: list[str], app_format: str = APPLICATION_FORMAT) -> str | None:
    """The environment an Application deploys: its environment label, or its name per app_format."""
    meta = obj.get("metadata") or {}
    label = (meta.get("labels") or {}).get(ENVIRONMENT_LABEL)
    if label:
        return str(label)
    return next((env for env in names if meta.get("name") == app_format.format(environment=env)), None)


def _environments(
    apps: list[dict], names: list[str], history: list[dict], app_format: str = APPLICATION_FORMAT
) -> list[EnvironmentStatus]:
    by_env: dict[str, dict] = {}
    for obj in apps:
        env = environment_of(obj, names, app_format)
        if env:
            by_env.setdefault(env, obj)
    ordered = list(names) + sorted(set(by_env) - set(names))
    out = []
    for env in ordered:
        obj = by_env.get(env)
        last = next((r for r in reversed(history) if r.get("to") == env), None)
        if obj is None:
            out.append(EnvironmentStatus(name=env, application="", last_promotion=last))
            continue
        app = _application(obj)
        version, image = deployed(obj)
        out.append(
            EnvironmentStatus(
                name=env,
                application=app.name,
                namespace=app.destination,
                version=version,
                image=image,
                sync=app.sync,
                health=app.health,
                last_promotion=last,
            )
        )
    return out


def _terraform_outputs(root: Path, terraform_dir: str | None) -> dict[str, Any] | None:
    """`terraform output -json` of the infra stage's state, flattened to values; None without a state."""
    tf_dir = Path(terraform_dir) if terraform_dir else root / "terraform"
    if not tf_dir.is_absolute():
        tf_dir = root / tf_dir
    if not (tf_dir / "terraform.tfstate").is_file() and not (tf_dir / ".terraform").is_dir():
        return None
    binary = shutil.which("terraform")
    if not binary:
        return {"error": "terraform is not installed: run `make deps`"}
    proc = subprocess.run(  # noqa: S603 - read-only command on our own module
        [binary, f"-chdir={tf_dir}", "output", "-json", "-no-color"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if proc.returncode != 0:
        return {
            "error": proc.stderr.strip().splitlines()[-1]
            if proc.stderr.strip()
            else "terraform output failed"
        }
    outputs = json.loads(proc.stdout or "{}")
    return {name: out.get("value") for name, out in outputs.items() if not out.get("sensitive")}


def read_status(platform: Target) -> Status:
    values = platform.vars(STATUS_VARS + urls.URL_VARS)
    target = str(values.get("mlops_target", ""))
    status = Status(target=target, inventory=str(platform.inventory), cluster=ClusterInfo(reachable=False))
    if target != "local":
        status.infra = _terraform_outputs(platform.root, values.get("mlops_terraform_dir"))
        if status.infra is None:
            status.notes.append("no Terraform state yet: the infra stage has not run")
    try:
        kubeconfig = platform.kubeconfig()
    except MlopsError as e:
        status.cluster.error = str(e)
        return status
    status.cluster.kubeconfig = str(kubeconfig)

    kube = connect(kubeconfig)
    status.cluster.server = kube.server
    try:
        info = kube.request("GET", "/version", action="reading", ref="the server's version")
    except kube_errors.KubeError as e:
        status.cluster.error = f"{status.cluster.server} does not answer: {e}"
        return status
    status.cluster.reachable, status.cluster.version = True, info.get("gitVersion", "")

    argocd_ns = str(
        values.get("mlops_argocd_namespace") or values.get("gitops_namespace") or DEFAULT_ARGOCD_NAMESPACE
    )
    env_names = [
        e if isinstance(e, str) else str(e.get("name"))
        for e in values.get("environments_list") or names.DEFAULT_ENVIRONMENTS
    ]
    env_ns = str(values.get("environments_argocd_namespace") or argocd_ns)
    app_format = names.name_format(str(values.get("environments_name_prefix") or names.DEFAULT_PREFIX))
    history_name = str(values.get("environments_promotion_history_name") or names.HISTORY_NAME)
    try:
        # One list of Applications (every namespace), kept to ArgoCD's and the environments'.
        namespaces = {argocd_ns, env_ns}
        apps = [a for a in _list(kube, "applications") if a["metadata"].get("namespace") in namespaces]
        env_apps = [a for a in apps if environment_of(a, env_names, app_format)]
        status.applications = [_application(a) for a in apps if a not in env_apps]
        records = _history(kube, env_ns, history_name)
        status.environments = _environments(env_apps, env_names, records, app_format)
        status.workflow_templates = [
            WorkflowTemplateInfo(o["metadata"]["name"], o["metadata"].get("namespace", ""))
            for o in _list(kube, "workflowtemplates")
        ]
        secrets = _generated_secrets(kube)
        status.urls = urls.operator_urls(values, urls.node_ports(kube, values))
    except kube_errors.KubeError as e:
        raise MlopsError(f"reading the cluster failed: {e}", exit_code=EXIT_RUN_FAILED) from e
    status.credentials = sorted(
        (
            CredentialInfo(
                app=app_of(s),
                secret=s["metadata"]["name"],
                namespace=s["metadata"].get("namespace", ""),
                keys=sorted((s.get("data") or {}).keys()),
            )
            for s in secrets
        ),
        key=lambda c: (c.app, c.namespace, c.secret),
    )
    if not apps:
        status.notes.append(f"no ArgoCD Applications in namespace {argocd_ns}: run `mlopsctl up`")
    elif target == "local" and all(a.get("status") is None for a in apps):
        status.notes.append(
            "local rehearsal target: no ArgoCD controller or pods run here, so the Applications are "
            "declared but never synced (sync/health Unknown); a real cluster shows them Synced/Healthy"
        )
    return status


def read_credentials(platform: Target, app: str) -> dict[str, str]:
    """The decoded values of the Secret(s) generated for `app`; an unknown app lists the known ones."""
    kube = connect(platform.kubeconfig())
    try:
        secrets = _generated_secrets(kube)
    except kube_errors.KubeError as e:
        raise MlopsError(f"cannot list Secrets: {e}", exit_code=EXIT_RUN_FAILED) from e
    mine = [s for s in secrets if app in (app_of(s), s["metadata"]["name"])]
    if not mine:
        known = sorted({app_of(s) for s in secrets})
        raise MlopsError(
            f"no generated credentials for app {app!r}; apps with credentials: "
            f"{', '.join(known) or 'none (run mlopsctl up)'}"
        )
    values: dict[str, str] = {}
    for secret in mine:
        prefix = f"{secret['metadata']['name']}." if len(mine) > 1 else ""
        for key, raw in sorted((secret.get("data") or {}).items()):
            values[prefix + key] = base64.b64decode(raw).decode(errors="replace")
    return values
