"""Alerts that act, as the charts render them, checked with Prometheus' and Alertmanager's own tools.

The PrometheusRules and the Alertmanager configuration come from the rendered charts (the
platform's kube-prometheus-stack Application, the environments' model-service Applications),
not from our templates: `promtool check rules` and `promtool test rules` (Debian's prometheus
package) run on the rules, `amtool check-config` and `amtool config routes test` (Alertmanager's
amtool at the chart's Alertmanager version) on the configuration. Then the references: the
retraining webhook's URL against Argo Server's Service and the WorkflowEventBinding the
workflows stage declared, its bearer token file against the Secret Alertmanager mounts and the
service account that Secret belongs to, the failure webhook against train-model's Secret, and
every exporter a rule reads against a monitor that scrapes it.
"""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
from pathlib import Path, PurePosixPath

import pytest
import yaml

from . import references as refs
from .conftest import INSTALL_MANIFESTS, OPTIONS, WORKFLOWS_MANIFEST, count, timed
from .render import LOADER, helm_template

pytestmark = pytest.mark.controlplane

RUNS = ["shipped", "options"]
HERE = Path(__file__).parent
RULE_TESTS = HERE / "alerts" / "platform-rules.test.yml"
MODEL_RULE_TESTS = HERE / "alerts" / "model-service-rules.test.yml"
RETRAIN_RECEIVER = "argo-workflows-retrain"
FAILURE_RECEIVER = "workflow-failure"


def _tool(repo_root: Path, name: str, how: str) -> str:
    path = repo_root / ".cache/bin" / name
    if not path.exists():
        pytest.fail(f"{path} is missing: `make test-deps` installs it ({how})")
    return str(path)


@pytest.fixture(scope="session")
def promtool(repo_root) -> str:
    return _tool(repo_root, "promtool", "scripts/test-deps.sh, Debian's prometheus package")


@pytest.fixture(scope="session")
def amtool(repo_root) -> str:
    return _tool(repo_root, "amtool", "scripts/build-go.sh amtool")


def run(cmd: list[str], what: str) -> subprocess.CompletedProcess:
    with timed(what):
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603


def monitoring_objects(rendered, kind: str):
    return [o for o in rendered.of_kind(kind) if o.app == "monitoring"]


def alertmanager_config(rendered) -> tuple[str, dict]:
    """The configuration the chart gives Alertmanager (its Secret's alertmanager.yaml)."""
    found = [
        o for o in monitoring_objects(rendered, "Secret") if "alertmanager.yaml" in (o.body.get("data") or {})
    ]
    assert len(found) == 1, f"the monitoring Application renders {len(found)} Alertmanager config Secrets"
    text = base64.b64decode(found[0].body["data"]["alertmanager.yaml"]).decode()
    return text, yaml.safe_load(text)


def the_alertmanager(rendered):
    found = monitoring_objects(rendered, "Alertmanager")
    assert len(found) == 1, f"the monitoring Application renders {len(found)} Alertmanagers"
    return found[0]


@pytest.fixture(scope="session")
def am_config_files(platform, tmp_path_factory) -> dict[str, Path]:
    out = {}
    tmp = tmp_path_factory.mktemp("alertmanager")
    for name in RUNS:
        text, _config = alertmanager_config(platform[name])
        out[name] = tmp / f"{name}.yml"
        out[name].write_text(text)
    return out


# -- the cluster objects the workflows stage declared ---------------------------------------


@pytest.fixture(scope="session")
def retrain_binding(stages, kube) -> dict:
    items = kube.request("GET", "/apis/argoproj.io/v1alpha1/workfloweventbindings")["items"]
    found = [b for b in items if b["metadata"]["name"] == "retrain-on-alert"]
    assert len(found) == 1, (
        f"the workflows stage declared {len(found)} WorkflowEventBindings retrain-on-alert"
    )
    return found[0]


@pytest.fixture(scope="session")
def model_service_rules(environment_apps, helm, repo_root, kube_version) -> tuple[str, list[dict]]:
    """The staging environment's PrometheusRule groups, from its Application (as the
    environments stage declared it) rendered from charts/model-service; and its namespace."""
    assert "staging" in environment_apps, (
        f"the environments stage declared no staging Application: {sorted(environment_apps)}"
    )
    app = environment_apps["staging"]
    helm_src = app["spec"]["source"].get("helm") or {}
    docs = helm_template(
        helm,
        repo_root / "charts/model-service",
        helm_src.get("releaseName") or app["metadata"]["name"],
        app["spec"]["destination"]["namespace"],
        helm_src.get("valuesObject") or {},
        kube_version,
        ["monitoring.coreos.com/v1"],
    )
    groups = [g for d in docs if d["kind"] == "PrometheusRule" for g in d["spec"]["groups"]]
    assert groups, f"Application {app['metadata']['name']} renders no PrometheusRule"
    return app["spec"]["destination"]["namespace"], groups


@pytest.fixture(scope="session")
def model_drift_alert(model_service_rules) -> dict:
    """The labels the model service's drift alert carries."""
    namespace, groups = model_service_rules
    drift = [r for g in groups for r in g["rules"] if r.get("alert") == "ModelDriftHigh"]
    assert drift, "the model service renders no ModelDriftHigh rule"
    return {"alertname": "ModelDriftHigh", "namespace": namespace, **drift[0]["labels"]}


def platform_rule(rendered) -> dict:
    found = [o for o in monitoring_objects(rendered, "PrometheusRule") if o.name.endswith("-platform")]
    assert len(found) == 1, f"the monitoring Application renders {len(found)} platform PrometheusRules"
    return found[0].body


def alert_labels(rendered, alert: str, **series) -> dict:
    rules = [
        r for g in platform_rule(rendered)["spec"]["groups"] for r in g["rules"] if r.get("alert") == alert
    ]
    assert rules, f"no rule {alert} in the platform PrometheusRule"
    return {"alertname": alert, **rules[0].get("labels", {}), **series}


# -- promtool ---------------------------------------------------------------------------------


def test_every_rendered_rule_passes_promtool_check(platform, promtool, tmp_path):
    """Every PrometheusRule any chart renders (ours, kube-prometheus-stack's, CloudNativePG's)."""
    files = []
    for o in platform["shipped"].of_kind("PrometheusRule"):
        path = tmp_path / f"{o.app}-{o.name}.yml"
        path.write_text(yaml.safe_dump({"groups": o.body["spec"]["groups"]}))
        files.append(path)
    assert len(files) > 1, "no PrometheusRule rendered"
    out = run([promtool, "check", "rules", *map(str, files)], "promtool check rules")
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-4000:]
    count("PrometheusRules checked by promtool", len(files))


def test_platform_alerts_fire_and_stay_quiet_under_promtool(platform, promtool, tmp_path):
    (tmp_path / "platform-rules.yml").write_text(
        yaml.safe_dump({"groups": platform_rule(platform["shipped"])["spec"]["groups"]})
    )
    shutil.copy(RULE_TESTS, tmp_path / RULE_TESTS.name)
    out = run([promtool, "test", "rules", str(tmp_path / RULE_TESTS.name)], "promtool test rules")
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-4000:]
    tested = {
        t["alertname"] for t in yaml.safe_load(RULE_TESTS.read_text())["tests"] for t in t["alert_rule_test"]
    }
    declared = {r["alert"] for g in platform_rule(platform["shipped"])["spec"]["groups"] for r in g["rules"]}
    assert tested == declared, f"alerts without a promtool test: {sorted(declared - tested)}"
    count("platform alerts tested by promtool", len(declared))


def test_model_service_alerts_fire_and_stay_quiet_under_promtool(model_service_rules, promtool, tmp_path):
    """The staging model service's alerts: the drift alert that retrains, errors and latency."""
    _namespace, groups = model_service_rules
    (tmp_path / "model-service-rules.yml").write_text(yaml.safe_dump({"groups": groups}))
    shutil.copy(MODEL_RULE_TESTS, tmp_path / MODEL_RULE_TESTS.name)
    out = run([promtool, "test", "rules", str(tmp_path / MODEL_RULE_TESTS.name)], "promtool test rules")
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-4000:]
    tested = {
        t["alertname"]
        for t in yaml.safe_load(MODEL_RULE_TESTS.read_text())["tests"]
        for t in t["alert_rule_test"]
    }
    declared = {r["alert"] for g in groups for r in g["rules"]}
    assert tested == declared, f"alerts without a promtool test: {sorted(declared - tested)}"
    count("model service alerts tested by promtool", len(declared))


# -- amtool -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", RUNS)
def test_alertmanager_config_passes_amtool_check(am_config_files, amtool, name):
    out = run([amtool, "check-config", str(am_config_files[name])], "amtool check-config")
    assert out.returncode == 0, out.stdout + out.stderr


def routed_to(amtool: str, config: Path, labels: dict) -> list[str]:
    out = run(
        [
            amtool,
            "config",
            "routes",
            "test",
            f"--config.file={config}",
            *(f"{k}={v}" for k, v in labels.items()),
        ],
        "amtool config routes test",
    )
    assert out.returncode == 0, out.stdout + out.stderr
    count("alerts routed by amtool")
    return out.stdout.strip().split(",")


@pytest.mark.parametrize("name", RUNS)
def test_drift_alert_reaches_argo_and_failed_workflows_the_webhook(
    platform, am_config_files, amtool, model_drift_alert, name
):
    config = am_config_files[name]
    assert routed_to(amtool, config, model_drift_alert) == [RETRAIN_RECEIVER], model_drift_alert
    failed = alert_labels(platform[name], "WorkflowFailed", namespace="argo", phase="Failed")
    want = [FAILURE_RECEIVER] if name == "options" else ["null"]  # shipped: no failure webhook configured
    assert routed_to(amtool, config, failed) == want, failed
    # Alerts that page do not retrain.
    down = alert_labels(platform[name], "PlatformAppDown", namespace="platform", deployment="mlflow")
    assert RETRAIN_RECEIVER not in routed_to(amtool, config, down)
    errors = {**model_drift_alert, "alertname": "ModelServiceErrorRateHigh"}
    errors.pop("action")
    assert RETRAIN_RECEIVER not in routed_to(amtool, config, errors)


# -- references -------------------------------------------------------------------------------


def receiver(config: dict, name: str) -> dict:
    found = [r for r in config["receivers"] if r["name"] == name]
    assert len(found) == 1, f"Alertmanager config has {len(found)} receivers {name}"
    return found[0]


def mounted_secret(alertmanager, file: str) -> tuple[str, str]:
    """(Secret name, key) that a file path in Alertmanager's container comes from."""
    spec = alertmanager.body["spec"]
    path = PurePosixPath(file)
    mounts = [m for m in spec.get("volumeMounts") or [] if PurePosixPath(m["mountPath"]) == path.parent]
    assert len(mounts) == 1, f"{alertmanager.ref}: no volumeMount at {path.parent} for {file}"
    volume = next((v for v in spec.get("volumes") or [] if v["name"] == mounts[0]["name"]), None)
    assert volume and "secret" in volume, f"{alertmanager.ref}: volume {mounts[0]['name']} is not a Secret"
    items = {i["path"]: i["key"] for i in volume["secret"].get("items") or []}
    return volume["secret"]["secretName"], items.get(path.name, path.name)


@pytest.mark.parametrize("name", RUNS)
def test_retrain_webhook_reaches_the_binding_with_the_senders_token(platform, retrain_binding, kube, name):
    _text, config = alertmanager_config(platform[name])
    hook = receiver(config, RETRAIN_RECEIVER)["webhook_configs"][0]
    # URL: Argo Server's Service and port, the binding's namespace and discriminator.
    m = re.match(refs.SVC_HOST.pattern, hook["url"])
    assert m, hook["url"]
    svcs = refs.services(platform[name])
    svc = svcs.get((m["ns"], m["name"]))
    assert svc is not None, f"{hook['url']} -> no Service {m['ns']}/{m['name']} ({sorted(INSTALL_MANIFESTS)})"
    assert int(m["port"]) in svc.ports, f"{hook['url']} -> {svc.ref} has ports {sorted(svc.ports)}"
    path = re.match(r"^https://[^/]+/api/v1/events/(?P<ns>[^/]+)/(?P<disc>[^/]+)$", hook["url"])
    assert path, f"{hook['url']}: not Argo Server's /api/v1/events/<namespace>/<discriminator>"
    binding_ns = retrain_binding["metadata"]["namespace"]
    discriminators = re.findall(r'discriminator == "([^"]+)"', retrain_binding["spec"]["event"]["selector"])
    assert path["ns"] == binding_ns, (
        f"{hook['url']} -> WorkflowEventBinding retrain-on-alert is in {binding_ns}"
    )
    assert discriminators == [path["disc"]], f"{hook['url']} -> the binding selects {discriminators}"
    # Argo Server speaks TLS (the install manifest's argo-server serves https only).
    assert hook["url"].startswith("https://")
    # Bearer token: a file from a Secret Alertmanager mounts, the token of a service account that
    # the binding's namespace grants what Argo Server checks.
    auth = hook["http_config"]["authorization"]
    assert auth.get("type", "Bearer") == "Bearer"
    am = the_alertmanager(platform[name])
    secret_name, key = mounted_secret(am, auth["credentials_file"])
    assert key == "token", f"{am.ref} mounts key {key} of {secret_name}, a token Secret's key is token"
    ns = am.namespace
    secret = kube.request("GET", f"/api/v1/namespaces/{ns}/secrets/{secret_name}", allow=(404,))
    assert secret and secret.get("type") == "kubernetes.io/service-account-token", (
        f"{am.ref} mounts Secret {ns}/{secret_name}: the workflows stage declared no such token Secret there"
    )
    account = secret["metadata"]["annotations"]["kubernetes.io/service-account.name"]
    assert kube.request("GET", f"/api/v1/namespaces/{ns}/serviceaccounts/{account}", allow=(404,)), (
        f"Secret {ns}/{secret_name} -> no ServiceAccount {ns}/{account}"
    )
    bindings = kube.request(
        "GET", f"/apis/rbac.authorization.k8s.io/v1/namespaces/{binding_ns}/rolebindings"
    )["items"]
    granted = [
        b
        for b in bindings
        for s in b.get("subjects") or []
        if s["kind"] == "ServiceAccount" and s["name"] == account and s.get("namespace") == ns
    ]
    assert granted, (
        f"ServiceAccount {ns}/{account} has no RoleBinding in {binding_ns}, where Argo Server checks it"
    )
    role = kube.request(
        "GET",
        f"/apis/rbac.authorization.k8s.io/v1/namespaces/{binding_ns}/roles/{granted[0]['roleRef']['name']}",
    )
    verbs = {(res, v) for r in role["rules"] for res in r["resources"] for v in r["verbs"]}
    for need in [("workfloweventbindings", "list"), ("workflowtemplates", "get"), ("workflows", "create")]:
        assert need in verbs, f"Role {binding_ns}/{role['metadata']['name']} lacks {need}"
    count("retraining webhook references checked", 6)


def test_failure_webhook_is_the_secret_train_model_posts_to(platform, stages, kube):
    """The options run's failure receiver reads the same Secret, and key, as train-model's exit handler."""
    _text, config = alertmanager_config(platform["options"])
    slack = receiver(config, FAILURE_RECEIVER)["slack_configs"][0]
    # train-model's exit handler posts {"text": ...}: Alertmanager's message_text is that field.
    assert slack.get("message_text"), f"{FAILURE_RECEIVER}: no message_text (the webhook reads text)"
    name, key = mounted_secret(the_alertmanager(platform["options"]), slack["api_url_file"])
    assert name == OPTIONS["workflows_failure_webhook_secret"], name
    template = kube.request("GET", "/apis/argoproj.io/v1alpha1/namespaces/argo/workflowtemplates/train-model")
    reads = [
        e["valueFrom"]["secretKeyRef"]["key"]
        for t in template["spec"]["templates"]
        for e in (t.get("script") or t.get("container") or {}).get("env") or []
        if e.get("name") == "WEBHOOK_URL"
    ]
    assert reads == [key], f"Alertmanager reads key {key} of {name}; train-model's exit handler reads {reads}"
    _text, shipped = alertmanager_config(platform["shipped"])
    assert FAILURE_RECEIVER not in {r["name"] for r in shipped["receivers"]}


def _cnpg_metric_names(shared_fixtures: Path) -> set[str]:
    """Metric names CloudNativePG's default monitoring queries export: cnpg_<query>_<column>."""
    docs = yaml.load_all((shared_fixtures / "manifests/cnpg-1.30.0.yaml").read_text(), Loader=LOADER)
    cm = next(
        d
        for d in docs
        if d and d["kind"] == "ConfigMap" and d["metadata"]["name"] == "cnpg-default-monitoring"
    )
    queries = yaml.safe_load(cm["data"]["queries"])
    return {f"cnpg_{q}_{col}" for q, spec in queries.items() for m in spec.get("metrics", []) for col in m}


def test_every_exporter_a_platform_rule_reads_is_scraped(platform, shared_fixtures):
    rendered = platform["shipped"]
    exprs = [r["expr"] for g in platform_rule(rendered)["spec"]["groups"] for r in g["rules"]]
    metrics = {
        m for e in exprs for m in re.findall(r"\b(?:kube|cnpg|certmanager|argo_workflows)_[a-z0-9_]+", e)
    }
    # CloudNativePG's: named in its default queries, scraped through the Cluster's PodMonitor.
    cnpg = {m for m in metrics if m.startswith("cnpg_")}
    assert cnpg and cnpg <= _cnpg_metric_names(shared_fixtures), cnpg - _cnpg_metric_names(shared_fixtures)
    monitors = {(o.app, o.kind, o.name) for o in rendered.of_kind("ServiceMonitor", "PodMonitor")}
    scraped = {
        "kube_": lambda a, k, n: a == "monitoring" and "kube-state-metrics" in n,
        "cnpg_": lambda a, k, n: a == "postgresql" and k == "PodMonitor",
        "certmanager_": lambda a, k, n: a == "cert-manager" and k == "ServiceMonitor",
        "argo_workflows_": lambda a, k, n: n == "argo-workflows-controller" and k == "PodMonitor",
    }
    for prefix, is_it in scraped.items():
        assert any(m.startswith(prefix) for m in metrics), f"no rule reads {prefix}*: update this table"
        assert any(is_it(*mon) for mon in monitors), (
            f"rules read {prefix}* and no monitor scrapes it: {sorted(monitors)}"
        )
    # The Argo Workflows controller's pods, as its install manifest runs them, match the PodMonitor.
    pm = next(o for o in rendered.of_kind("PodMonitor") if o.name == "argo-workflows-controller")
    docs = yaml.load_all((shared_fixtures / "manifests" / WORKFLOWS_MANIFEST).read_text(), Loader=LOADER)
    controller = next(
        d for d in docs if d and d["kind"] == "Deployment" and d["metadata"]["name"] == "workflow-controller"
    )
    pod = controller["spec"]["template"]
    assert refs.label_selector_matches(pm.body["spec"]["selector"], pod["metadata"]["labels"]), pm.body[
        "spec"
    ]["selector"]
    assert pm.body["spec"]["namespaceSelector"]["matchNames"] == [INSTALL_MANIFESTS[WORKFLOWS_MANIFEST]]
    ports = {p.get("name") for c in pod["spec"]["containers"] for p in c.get("ports") or []}
    for ep in pm.body["spec"]["podMetricsEndpoints"]:
        assert ep["port"] in ports, (
            f"{pm.ref} scrapes port {ep['port']}; workflow-controller has {sorted(ports)}"
        )
    count("exporters of the platform rules checked", len(scraped))
