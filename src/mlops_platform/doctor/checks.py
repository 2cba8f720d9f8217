"""`mlopsctl doctor`: one read-only report of what drifted from the config and what needs the operator.

Each check returns findings: ``ok``, ``attention`` (the operator should act; the exit code
becomes 1) or ``skipped`` (cannot be checked on this target, and why). Nothing here
changes anything: Terraform plans with ``-lock=false -refresh-only`` semantics left to
Terraform's plan, the cluster is only listed, MLflow only read.
"""

from __future__ import annotations

import datetime
import json
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import MlopsError

if TYPE_CHECKING:
    from ..api import Platform
    from ..results import Status

OK, ATTENTION, SKIPPED = "ok", "attention", "skipped"
#: Variables the doctor reads (missing ones: the check says it was skipped).
DOCTOR_VARS = [
    "mlops_target",
    "mlops_kubernetes_version",
    "mlops_backup",
    "environments_promotion_mlflow_url",
    "environments_model_name",
    "infra_terraform_dir",
    "infra_terraform_binary",
]
CERT_WARN_DAYS = 14
BACKUP_MAX_AGE_HOURS = 26  # a daily backup, with slack


@dataclass
class Finding:
    check: str
    state: str
    detail: str


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)

    @property
    def needs_operator(self) -> bool:
        return any(f.state == ATTENTION for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        return {"needs_operator": self.needs_operator, "findings": [asdict(f) for f in self.findings]}


def check_cluster(status: Status, pin: str) -> list[Finding]:
    c = status.cluster
    if not c.reachable:
        return [Finding("cluster", ATTENTION, c.error or "the Kubernetes API does not answer")]
    running = c.version.lstrip("v").split("+")[0]
    if pin and running != str(pin).lstrip("v"):
        return [
            Finding(
                "cluster",
                ATTENTION,
                f"Kubernetes {c.version} runs, the config pins {pin} (mlops_kubernetes_version)",
            )
        ]
    return [Finding("cluster", OK, f"Kubernetes {c.version} at {c.server}")]


def check_applications(status: Status) -> list[Finding]:
    named = [("Application", a) for a in status.applications] + [
        ("environment", e) for e in status.environments
    ]
    out = [
        Finding("argocd", ATTENTION, f"{what} {a.name}: {a.sync or 'Unknown'}/{a.health or 'Unknown'}")
        for what, a in named
        if (a.sync, a.health) != ("Synced", "Healthy")
    ]
    if not named:
        out.append(Finding("argocd", ATTENTION, "no Applications: run `mlopsctl up`"))
    return out or [Finding("argocd", OK, f"{len(named)} Applications Synced/Healthy")]


def check_aliases(status: Status, mlflow_url: str, model: str) -> list[Finding]:
    """Each environment's deployed model version against MLflow's alias named after it."""
    if not mlflow_url or not model:
        return [
            Finding("mlflow", SKIPPED, "environments_promotion_mlflow_url or environments_model_name not set")
        ]
    import requests

    try:
        r = requests.get(
            f"{mlflow_url.rstrip('/')}/api/2.0/mlflow/registered-models/get",
            params={"name": model},
            timeout=10,
        )
    except requests.RequestException as e:
        return [
            Finding("mlflow", ATTENTION, f"MLflow at {mlflow_url} does not answer: {e.__class__.__name__}")
        ]
    if r.status_code == 404 or (r.ok and "registered_model" not in r.json()):
        return [
            Finding("mlflow", ATTENTION, f"MLflow has no registered model {model!r}: run `mlopsctl train`")
        ]
    if not r.ok:
        return [Finding("mlflow", ATTENTION, f"MLflow at {mlflow_url}: HTTP {r.status_code}")]
    aliases = {a["alias"]: a["version"] for a in r.json()["registered_model"].get("aliases", [])}
    out = []
    for env in status.environments:
        alias = aliases.get(env.name)
        if env.version and alias != env.version:
            out.append(
                Finding(
                    "mlflow",
                    ATTENTION,
                    f"{env.name} runs version {env.version}, MLflow's alias {env.name} is {alias or 'unset'}",
                )
            )
    return out or [
        Finding("mlflow", OK, f"{len(status.environments)} environments match their MLflow aliases")
    ]


def check_certificates(kube, now: datetime.datetime) -> list[Finding]:
    """kube: the collection's KubeClient (status.connect)."""
    from ..status import kube_errors

    try:
        listing = kube.request(
            "GET", "/apis/cert-manager.io/v1/certificates", action="listing", ref="Certificates", allow=(404,)
        )
    except kube_errors.KubeError as e:
        return [Finding("certificates", ATTENTION, f"cannot list Certificates: {e}")]
    if listing is None:
        return [Finding("certificates", SKIPPED, "cert-manager is not installed")]
    certs = listing.get("items", [])
    out = []
    for c in certs:
        ref = f"Certificate {c['metadata'].get('namespace', '')}/{c['metadata']['name']}"
        st = c.get("status") or {}
        ready = any(x.get("type") == "Ready" and x.get("status") == "True" for x in st.get("conditions", []))
        not_after = st.get("notAfter")
        if not ready:
            out.append(Finding("certificates", ATTENTION, f"{ref} is not Ready"))
        elif not_after:
            left = datetime.datetime.fromisoformat(not_after.replace("Z", "+00:00")) - now
            if left < datetime.timedelta(days=CERT_WARN_DAYS):
                out.append(
                    Finding("certificates", ATTENTION, f"{ref} expires in {left.days} days ({not_after})")
                )
    return out or [
        Finding(
            "certificates", OK, f"{len(certs)} certificates Ready, none expiring within {CERT_WARN_DAYS} days"
        )
    ]


def check_backups(config: Any, root: Path, now: datetime.datetime) -> list[Finding]:
    if not config:
        return [
            Finding(
                "backup", ATTENTION, "no backups configured (mlops_backup): nothing protects the credentials"
            )
        ]
    from ..backup import list_backups
    from ..backup.settings import backup_store, parse

    try:
        backups = list_backups(backup_store(parse(config, {}, root)))
    except MlopsError as e:
        return [Finding("backup", ATTENTION, f"cannot read the backup store: {e}")]
    if not backups:
        return [Finding("backup", ATTENTION, "no backup yet: run `mlopsctl backup`")]
    last = backups[-1]
    age = now - datetime.datetime.fromisoformat(last.created)
    hours = age.total_seconds() / 3600
    state = ATTENTION if hours > BACKUP_MAX_AGE_HOURS else OK
    return [Finding("backup", state, f"last backup {last.id}, {hours:.1f} h ago ({len(backups)} kept)")]


def check_terraform(target: str, terraform_dir: Any, binary: Any) -> list[Finding]:
    """Terraform's own plan, read-only (-lock=false): exit code 2 means the cloud drifted from the config."""
    if target == "local":
        return [Finding("terraform", SKIPPED, "the local rehearsal target has no cloud")]
    tf_dir = Path(str(terraform_dir or "terraform"))
    if not (tf_dir / ".terraform").is_dir():
        return [Finding("terraform", ATTENTION, f"{tf_dir} is not initialised: the infra stage has not run")]
    try:
        proc = subprocess.run(
            [
                str(binary or "terraform"),
                "plan",
                "-detailed-exitcode",
                "-input=false",
                "-lock=false",
                "-no-color",
                "-json",
            ],
            cwd=tf_dir,
            capture_output=True,
            text=True,
            timeout=600,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        return [Finding("terraform", ATTENTION, f"terraform plan did not run: {e}")]
    if proc.returncode == 0:
        return [Finding("terraform", OK, "the cloud matches the config (terraform plan: no changes)")]
    changes = []
    for line in proc.stdout.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if event.get("type") == "planned_change":
            change = event["change"]
            changes.append(f"{change['action']} {change['resource']['addr']}")
    if proc.returncode == 2:
        return [Finding("terraform", ATTENTION, "drift: " + ", ".join(changes or ["see terraform plan"]))]
    return [
        Finding(
            "terraform",
            ATTENTION,
            f"terraform plan failed (exit {proc.returncode}): {proc.stderr.strip()[-300:]}",
        )
    ]


NODE_PROBE = (
    "echo {{ 'data' if mlops_data_volume is defined else 'node' }}; "
    "findmnt -n -o SOURCE {{ mlops_data_mount | default('/srv/mlops-data') | quote }} || true"
)


def check_nodes(platform: Platform, target: str) -> list[Finding]:
    """Every node answers over SSH, and the data volume is mounted on the node that carries it."""
    if target == "local":
        return [Finding("nodes", SKIPPED, "the local rehearsal target has no nodes to reach")]
    import tempfile

    import ansible_runner

    with tempfile.TemporaryDirectory(prefix="mlops-doctor-") as tmp:
        r = ansible_runner.run(
            private_data_dir=tmp,
            inventory=str(platform.inventory),
            host_pattern="k8s_cluster",
            module="ansible.builtin.shell",
            module_args=NODE_PROBE,
            quiet=True,
            envvars={"ANSIBLE_CONFIG": str(platform.root / "ansible.cfg")},
        )
        events = list(r.events)
    out, seen = [], 0
    for ev in events:
        data, host = ev.get("event_data", {}), ev.get("event_data", {}).get("host", "")
        if ev["event"] == "runner_on_unreachable":
            out.append(
                Finding(
                    "nodes", ATTENTION, f"{host} is unreachable: {data.get('res', {}).get('msg', '')[:200]}"
                )
            )
        elif ev["event"] == "runner_on_failed":
            out.append(
                Finding(
                    "nodes",
                    ATTENTION,
                    f"{host}: the probe failed: {data.get('res', {}).get('msg', '')[:200]}",
                )
            )
        elif ev["event"] == "runner_on_ok":
            seen += 1
            lines = data.get("res", {}).get("stdout", "").splitlines()
            if lines[:1] == ["data"] and len(lines) < 2:
                out.append(
                    Finding("nodes", ATTENTION, f"{host}: the data volume is not mounted (mlops_data_mount)")
                )
    if not events or (not seen and not out):
        return [Finding("nodes", ATTENTION, "no node in the inventory's k8s_cluster group")]
    return out or [Finding("nodes", OK, f"{seen} nodes reachable, the data volume mounted")]


def run_doctor(platform: Platform, now: datetime.datetime | None = None) -> Report:
    from ..status import read_status

    now = now or datetime.datetime.now(datetime.UTC)
    values = platform.vars(DOCTOR_VARS)
    target = str(values.get("mlops_target", ""))
    status = read_status(platform)
    report = Report()
    report.findings += check_terraform(
        target, values.get("infra_terraform_dir"), values.get("infra_terraform_binary")
    )
    report.findings += check_nodes(platform, target)
    report.findings += check_cluster(status, str(values.get("mlops_kubernetes_version") or ""))
    if status.cluster.reachable:
        from ..status import connect

        kube = connect(Path(status.cluster.kubeconfig))
        report.findings += check_applications(status)
        report.findings += check_aliases(
            status,
            str(values.get("environments_promotion_mlflow_url") or ""),
            str(values.get("environments_model_name") or ""),
        )
        report.findings += check_certificates(kube, now)
    report.findings += check_backups(values.get("mlops_backup"), platform.root, now)
    return report
