"""The contract tier: the platform charts as our roles configure them, checked end to end.

The real gitops and platform stages run on the local control plane with the OpenStack
target's config (inventory/openstack/group_vars/all/platform.yml), once as shipped and once
with the options (ACME domain, external S3). Each Application they declare is rendered
from its chart in ../shared/fixtures/charts with `helm template` at the cluster's
Kubernetes version, every rendered object is dry-run by the API server with the charts'
real CRDs installed, and the references between objects are checked (references.py).
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from . import references as refs
from .render import LOADER, Obj, Rendered, render_applications

ROOT = Path(__file__).resolve().parents[2]
OPENSTACK_CONFIG = ROOT / "inventory/openstack/group_vars/all/platform.yml"
#: A documentation address (RFC 5737) standing in for the floating IP the inventory plugin gives.
FLOATING_IP = "203.0.113.10"
#: The options: a DNS domain (ACME) and the cloud's S3 endpoint instead of MinIO.
OPTIONS = {
    "platform_ingress_domain": "ml.example.org",
    "platform_acme_email": "ops@example.org",
    "platform_object_store": "external",
    "platform_s3_endpoint": "https://object.example.org",
    "platform_s3_access_key": "contract-access-key",
    "platform_s3_secret_key": "contract-secret-key",
    # A failure webhook: Alertmanager then routes failed workflows to it.
    "workflows_failure_webhook_secret": "workflow-failure-webhook",
    # The database restored from its backups under / (to a point in time); it archives to /restored/.
    "platform_postgresql_recovery_path": "/",
    "platform_postgresql_recovery_target_time": "2026-12-01T03:00:00Z",
    "platform_postgresql_backup_path": "/restored/",
}
#: Release manifests the gitops and workflows stages install (their Services are reached through
#: Traefik), at the releases the roles pin (test_pins checks they are the fixtures'), in the
#: namespaces the roles install them to.
ARGOCD_MANIFEST = "argo-cd-v3.5.1-install.yaml"
WORKFLOWS_MANIFEST = "argo-workflows-v4.1.2-install.yaml"
INSTALL_MANIFESTS = {ARGOCD_MANIFEST: "argocd", WORKFLOWS_MANIFEST: "argo"}
COUNTS: dict[str, int] = {}
SECONDS: dict[str, float] = {}


@contextlib.contextmanager
def timed(what: str):
    """Time one step of the tier; the summary prints it next to the counts."""
    start = time.monotonic()
    yield
    SECONDS[what] = SECONDS.get(what, 0.0) + time.monotonic() - start


def count(what: str, n: int = 1) -> None:
    """Add to one of the figures the tier prints at the end."""
    COUNTS[what] = COUNTS.get(what, 0) + n


def pytest_terminal_summary(terminalreporter):
    if COUNTS:
        terminalreporter.section("contract counts")
        for what, n in sorted(COUNTS.items()):
            terminalreporter.write_line(f"{n:6d}  {what}")
        for what, sec in SECONDS.items():
            terminalreporter.write_line(f"{sec:6.1f}s {what}")


def run_playbook(playbook: Path, kubeconfig: str, *extra: str) -> dict:
    """ansible-playbook on the local inventory, pointed at the control plane; the json callback's answer."""
    from ansible_run import ANSIBLE_PLAYBOOK, playbook_env

    proc = subprocess.run(  # noqa: S603 - our own playbook
        [ANSIBLE_PLAYBOOK, str(playbook), *extra],
        cwd=ROOT,
        env=playbook_env(kubeconfig, ANSIBLE_NOCOLOR="1"),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        pytest.fail(f"{playbook.name}: no JSON output\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    failed = [
        f"{play['play']['name']} / {t['task']['name']}: {h.get('msg')}"
        for play in data["plays"]
        for t in play["tasks"]
        for h in t["hosts"].values()
        if h.get("failed")
    ]
    if failed:
        pytest.fail(f"{playbook.name} failed: {failed}")
    return data


def declared_applications(play: dict) -> list[dict]:
    """The Applications one play declared, as the API server returned them."""
    return [
        app["object"]
        for t in play["tasks"]
        for h in t["hosts"].values()
        for app in h.get("applications") or []
        if app.get("object")
    ]


def argocd_crds_only(shared_fixtures: Path, out: Path) -> Path:
    """ArgoCD's install manifest cut to its CRDs and Secrets: all the gitops stage needs here to
    declare the AppProjects (its Deployments would only cost time; nothing runs them)."""
    docs = yaml.load_all((shared_fixtures / "manifests" / ARGOCD_MANIFEST).read_text(), Loader=LOADER)
    keep = [d for d in docs if d and d.get("kind") in ("CustomResourceDefinition", "Secret")]
    out.write_text(yaml.safe_dump_all(keep))
    return out


def crds_only(manifest: Path, out: Path) -> Path:
    """A release manifest cut to its CRDs (the workflows stage's workflows_crd_files)."""
    docs = yaml.load_all(manifest.read_text(), Loader=LOADER)
    out.write_text(yaml.safe_dump_all([d for d in docs if d and d.get("kind") == "CustomResourceDefinition"]))
    return out


def stages_playbook(tmp: Path, manifest: Path, config: dict, workflow_crds: Path) -> Path:
    """One playbook, so Ansible starts once: the real gitops stage, the platform stage as shipped
    and with the options, and the workflows and environments stages, each with the OpenStack
    target's config (the workflows stage with Argo Workflows' CRDs only: nothing runs them). Every
    stage gets the floating IP the inventory plugin gives them on the real target."""
    stages = ROOT / "playbooks"
    shipped = {**config, "mlops_floating_ip": FLOATING_IP}
    plays = [
        {
            "import_playbook": str(stages / "gitops.yml"),
            # No pod runs here: ArgoCD's Deployments never become available.
            "vars": {"gitops_install_manifest": str(manifest), "gitops_wait_ready": False},
        },
        {"import_playbook": str(stages / "platform.yml"), "vars": shipped},
        {"import_playbook": str(stages / "platform.yml"), "vars": {**shipped, **OPTIONS}},
        {
            "import_playbook": str(stages / "workflows.yml"),
            "vars": {**shipped, "workflows_crd_files": [str(workflow_crds)]},
        },
        {"import_playbook": str(stages / "environments.yml"), "vars": shipped},
    ]
    path = tmp / "stages.yml"
    path.write_text(yaml.safe_dump(plays))
    return path


#: What the stages give every play here as the inventory plugin does on the real target.
GIVEN = {"mlops_floating_ip"}


def resolvable(value, config: dict, seen: frozenset = frozenset()) -> bool:
    """True unless `value` is a template that needs more than other settings of `config` (resolvable
    themselves) and what the stages give (GIVEN): the inventory's directory, lookups, the vault."""
    if not isinstance(value, str) or "{{" not in value:
        return True
    from jinja2 import Environment, meta

    if "lookup(" in value or "query(" in value:
        return False
    class AnyName(dict):  # Ansible's and our filters and tests: only the variables matter here
        def __contains__(self, key):
            return True

        def get(self, key, default=None):
            return super().get(key) or (lambda *a, **k: None)

    env = Environment()
    env.filters, env.tests = AnyName(env.filters), AnyName(env.tests)
    names = meta.find_undeclared_variables(env.parse(value))
    return all(
        name in GIVEN
        or (name in config and name not in seen and resolvable(config[name], config, seen | {name}))
        for name in names
    )


@pytest.fixture(scope="session")
def openstack_config() -> dict:
    return yaml.safe_load(OPENSTACK_CONFIG.read_text())


@pytest.fixture(scope="session")
def kube_version(openstack_config) -> str:
    """The Kubernetes version of the real cluster (what Kubespray installs)."""
    return str(openstack_config["mlops_kubernetes_version"])


@pytest.fixture(scope="session")
def kube(kubeconfig):
    from ansible_collections.mlops.platform.plugins.module_utils.kube import KubeClient

    return KubeClient.from_params({"kubeconfig": kubeconfig})


def _secrets(kube, namespaces) -> dict:
    out = {}
    for ns in sorted(namespaces):
        for sec in kube.request("GET", f"/api/v1/namespaces/{ns}/secrets")["items"]:
            out[(ns, sec["metadata"]["name"])] = sorted((sec.get("data") or {}).keys())
    return out


@pytest.fixture(scope="session")
def stages(kube, kubeconfig, shared_fixtures, openstack_config, tmp_path_factory) -> dict:
    """Run the stages; what the platform stage declared in each run, and the AppProjects.

    The platform's Secrets are read after both runs: the options add one (the external
    object store's keys) and change none.
    """
    tmp = tmp_path_factory.mktemp("contract")
    manifest = argocd_crds_only(shared_fixtures, tmp / "argocd-crds.yaml")
    workflow_crds = crds_only(
        shared_fixtures / "manifests" / WORKFLOWS_MANIFEST, tmp / "argo-workflows-crds.yaml"
    )
    # Values templated from other settings of the config stay (Ansible resolves them in the
    # play); those that need the inventory (its directory, lookups, the vault) cannot.
    config = {k: v for k, v in openstack_config.items() if resolvable(v, openstack_config)}
    config["platform_storage_class"] = openstack_config["mlops_storage_class"]
    # The OpenStack target retrains on alerts (the workflows role's default).
    config.setdefault("workflows_retrain_on_alert", True)
    # This cluster runs the API server alone: no ArgoCD reports the Applications' health.
    config["platform_wait"] = config["environments_wait"] = False
    # The OpenStack target's chart values, not inventory/local's (which turn webhooks off).
    config.setdefault("platform_extra_values", {})
    with timed("ansible: gitops, platform x2, workflows, environments stages"):
        data = run_playbook(stages_playbook(tmp, manifest, config, workflow_crds), kubeconfig)
    platform_plays = [p for p in data["plays"] if p["play"]["name"] == "Platform stage"]
    assert len(platform_plays) == 2, [p["play"]["name"] for p in data["plays"]]
    runs = {}
    for name, play in zip(("shipped", "options"), platform_plays, strict=True):
        apps = declared_applications(play)
        runs[name] = {"applications": apps}
    namespaces = {a["spec"]["destination"]["namespace"] for r in runs.values() for a in r["applications"]}
    secrets = _secrets(kube, namespaces)
    for r in runs.values():
        r["secrets"] = secrets
    items = kube.request("GET", "/apis/argoproj.io/v1alpha1/namespaces/argocd/appprojects")["items"]
    return {
        "runs": runs,
        "projects": {p["metadata"]["name"]: p for p in items},
        # What the stages printed (the json callback's answer), for the no-secret-in-output checks.
        "output": json.dumps(data),
    }


@pytest.fixture(scope="session")
def environment_apps(stages, kube) -> dict[str, dict]:
    """The Applications the environments stage declared (charts/model-service), by environment."""
    items = kube.request("GET", "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications")["items"]
    apps = [a for a in items if (a["spec"].get("source") or {}).get("path") == "charts/model-service"]
    by_env = {a["spec"]["source"]["helm"]["valuesObject"]["environment"]: a for a in apps}
    assert len(by_env) == len(apps), (
        f"two Applications serve one environment: {[a['metadata']['name'] for a in apps]}"
    )
    return by_env


@pytest.fixture(scope="session")
def runs(stages) -> dict[str, dict]:
    return stages["runs"]


@pytest.fixture(scope="session")
def projects(stages) -> dict[str, dict]:
    return stages["projects"]


@pytest.fixture(scope="session")
def helm(repo_root) -> str:
    path = repo_root / ".cache/bin/helm"
    if not path.exists():
        pytest.fail(f"{path} is missing: `make test-deps` builds helm (scripts/build-go.sh helm)")
    return str(path)


@pytest.fixture(scope="session")
def rendered(runs, helm, shared_fixtures, kube_version) -> dict[str, Rendered]:
    """Every Application of each run rendered from its fixture chart."""
    out = {}
    for name, run in runs.items():
        with timed("helm template"):
            out[name] = render_applications(
                helm, shared_fixtures / "charts", run["applications"], kube_version, run["secrets"]
            )
        count(f"objects rendered ({name})", len(out[name].objects))
    count("charts rendered", sum(len(r.applications) for r in out.values()))
    return out


def _establish(kube, crds):
    from ansible_collections.mlops.platform.plugins.module_utils.kube import apply, wait_established

    apply(kube, crds, manager="mlops-contract")
    wait_established(kube, crds, timeout=60)


@pytest.fixture(scope="session")
def installed(rendered, kube):
    """The charts' CRDs installed for real (Established) and every destination namespace made."""
    from ansible_collections.mlops.platform.plugins.module_utils.kube import apply

    crds = {}
    for r in rendered.values():
        for o in r.of_kind("CustomResourceDefinition"):
            crds[o.name] = o.body
    with timed("CRDs installed"):
        _establish(kube, list(crds.values()))
    count("CRDs installed from the charts", len(crds))
    namespaces = {o.namespace or o.destination for r in rendered.values() for o in r.objects}
    apply(
        kube,
        [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}} for ns in sorted(namespaces)],
        manager="mlops-contract",
    )
    return True


@pytest.fixture(scope="session")
def namespaced(installed, rendered, kube) -> dict[tuple[str, str], bool]:
    """(apiVersion, kind) -> namespaced, from the API server's discovery; and ArgoCD's
    destination namespace given to every namespaced object without one."""
    out = {}
    for r in rendered.values():
        for o in r.objects:
            key = (o.body["apiVersion"], o.kind)
            if key not in out:
                out[key] = kube.resource(*key).namespaced
            if out[key] and not o.namespace:
                o.body["metadata"]["namespace"] = o.destination
    return out


@pytest.fixture(scope="session")
def platform(namespaced, rendered, kube, shared_fixtures):
    """The rendered runs, every namespaced object with its namespace (as ArgoCD applies it), and
    the objects controllers make from them (references.made_by_controllers), with the API
    server's own `kubernetes` Service as the control plane serves it."""
    api_service = kube.request("GET", "/api/v1/namespaces/default/services/kubernetes")
    installed = [Obj("", api_service, "default", "the API server")]
    for filename, ns in INSTALL_MANIFESTS.items():
        docs = yaml.load_all((shared_fixtures / "manifests" / filename).read_text(), Loader=LOADER)
        for d in docs:
            if d and d.get("kind") in ("Service", "Deployment"):
                d["metadata"].setdefault("namespace", ns)
                installed.append(Obj("", d, ns, filename))
    for r in rendered.values():
        r.extra = [*refs.made_by_controllers(r), *installed]
    return rendered
