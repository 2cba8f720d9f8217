"""mlopsctl through Typer's CliRunner, with the API's runs replaced by recorded results.

The Platform methods that would start ansible-playbook or reach a cluster are
patched (the boundary that needs the control plane); argument parsing, exit
codes, --json shapes and the rendering are the real ones.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from mlops_platform import cli
from mlops_platform.errors import MlopsError
from mlops_platform.results import (
    ApplicationStatus,
    ClusterInfo,
    CredentialInfo,
    EnvironmentStatus,
    Failure,
    RunResult,
    StageResult,
    Status,
    WorkflowTemplateInfo,
)
from mlops_platform.runner import RunEvent

runner = CliRunner()


def result(status="successful", rc=0, changed=0, check=False):
    stages = [
        StageResult("gitops", 1.5, tasks=4, ok=4, changed=changed),
        StageResult("platform", 2.0, tasks=2, ok=2),
    ]
    failures = []
    if status == "failed":
        stages[1].failed = 1
        failures = [Failure("platform", "localhost", "Apply MinIO", "Forbidden: minio")]
    return RunResult(
        "site.yml",
        status,
        rc,
        "/work/artifacts/runs/x",
        check=check,
        duration=3.5,
        stages=stages,
        failures=failures,
    )


@pytest.fixture
def api(monkeypatch, checkout):
    """Patch Platform's runs; each returns the result queued in api['result'] and records its call."""
    monkeypatch.setenv("MLOPS_ROOT", str(checkout))
    state = {"result": result(), "calls": []}

    def record(name):
        def method(self, *args, **kwargs):
            state["calls"].append((name, args, kwargs))
            callback = kwargs.get("on_event")
            if callback:  # drive the progress display as a real run would
                callback(RunEvent("playbook_on_task_start", "gitops", "Gitops stage", "Install ArgoCD"))
                callback(
                    RunEvent("runner_on_ok", "gitops", "Gitops stage", "Install ArgoCD", "localhost", True)
                )
            if isinstance(state["result"], Exception):
                raise state["result"]
            return state["result"]

        return method

    for name in ("up", "plan", "destroy", "promote", "rollback", "train"):
        monkeypatch.setattr(f"mlops_platform.api.Platform.{name}", record(name))
    return state


def test_help_lists_every_command():
    out = runner.invoke(cli.app, ["--help"])
    assert out.exit_code == 0
    for command in (
        "up",
        "plan",
        "destroy",
        "status",
        "promote",
        "rollback",
        "train",
        "kubeconfig",
        "credentials",
    ):
        assert command in out.stdout


def test_help_does_not_import_the_heavy_libraries():
    code = (
        "import sys; from mlops_platform import cli; "
        "heavy = ('ansible_runner', 'ansible', 'kubernetes', 'mlops_platform.api'); "
        "heavy = [m for m in heavy if m in sys.modules]; "
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_up_prints_the_summary_and_exits_0(api):
    api["result"] = result(changed=3)
    out = runner.invoke(cli.app, ["up"])
    assert out.exit_code == 0, out.output
    assert "gitops" in out.stdout and "changed=3 failed=0" in out.stdout
    # Not a terminal: one line per stage, with its counts, on stderr.
    assert "changed 1" in out.stderr and "✓ gitops" in out.stderr
    assert api["calls"][0][0] == "up"


def test_up_failure_exits_1_and_names_the_task(api):
    api["result"] = result("failed", rc=2)
    out = runner.invoke(cli.app, ["up"])
    assert out.exit_code == 1
    assert "platform / Apply MinIO on localhost" in out.stdout and "Forbidden: minio" in out.stdout


def test_up_json_shape(api):
    api["result"] = result(changed=2)
    out = runner.invoke(
        cli.app, ["up", "--json", "-s", "platform", "-s", "gitops", "-e", "a=1", "-e", "b=x=y"]
    )
    assert out.exit_code == 0
    data = json.loads(out.stdout)
    assert set(data) >= {
        "playbook",
        "status",
        "rc",
        "ok",
        "changed",
        "failed",
        "stages",
        "failures",
        "changes",
        "artifacts",
        "interrupted_stage",
        "duration",
        "check",
    }
    assert data["changed"] == 2 and data["stages"][0] == {
        "name": "gitops",
        "duration": 1.5,
        "tasks": 4,
        "ok": 4,
        "changed": 2,
        "failed": 0,
        "skipped": 0,
        "unreachable": 0,
        "interrupted": False,
        "status": "changed",
    }
    name, args, kwargs = api["calls"][0]
    assert args == (["gitops", "platform"],) and kwargs["extra_vars"] == {"a": "1", "b": "x=y"}
    assert kwargs["on_event"] is None  # no progress display in --json mode


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["up", "-s", "argo"], "unknown stage(s) argo"),
        (["up", "-e", "novalue"], "is not NAME=VALUE"),
        (["train", "-p", "=3"], "is not NAME=VALUE"),
        (["promote", "staging"], "Missing argument"),
        (["up", "--bogus"], "No such option"),
        (["destroy"], "needs --yes"),
        (["destroy", "--delete-data"], "needs --confirm"),
        (["credentials"], "Missing argument"),
    ],
)
def test_bad_input_exits_2(api, argv, message):
    out = runner.invoke(cli.app, argv)
    assert out.exit_code == 2, out.output
    assert message in out.output
    assert api["calls"] == []


def test_domain_error_exit_code_and_message(api):
    api["result"] = MlopsError("playbook playbooks/promote.yml does not exist in this checkout")
    out = runner.invoke(cli.app, ["promote", "staging", "canary", "--version", "3", "--json"])
    assert out.exit_code == 2
    assert "error: playbook playbooks/promote.yml does not exist" in out.stderr and out.stdout == ""
    assert api["calls"][0][1] == ("staging", "canary", "3")


def test_promote_a_new_build_into_the_first_environment(api):
    out = runner.invoke(cli.app, ["promote", "-", "staging", "--version", "4", "--image-tag", "v4", "--json"])
    assert out.exit_code == 0, out.output
    name, args, kwargs = api["calls"][0]
    assert args == (None, "staging", "4") and kwargs["image_tag"] == "v4" and kwargs["force"] is False


def test_plan_shows_changes(api):
    planned = result(changed=1, check=True)
    from mlops_platform.results import Change

    planned.changes = [Change("platform", "localhost", "Declare Grafana", "--- before\n+++ after\n-a\n+b\n")]
    api["result"] = planned
    out = runner.invoke(cli.app, ["plan"])
    assert out.exit_code == 0
    assert "1 task(s) would change" in out.stdout and "Declare Grafana" in out.stdout and "+b" in out.stdout


def test_canceled_run_names_the_stage_and_exits_1(api):
    canceled = result("canceled", rc=254)
    canceled.interrupted_stage = "platform"
    api["result"] = canceled
    out = runner.invoke(cli.app, ["up"])
    assert out.exit_code == 1 and "interrupted during stage platform" in out.stdout


@pytest.mark.parametrize(
    ("argv", "method", "args", "kwargs"),
    [
        (["rollback", "canary", "--json"], "rollback", ("canary",), {}),
        (
            ["train", "-p", "epochs=3", "--timeout", "60", "--json"],
            "train",
            ({"epochs": "3"},),
            {"timeout": 60},
        ),
        (["destroy", "--yes", "--json"], "destroy", (), {"keep_data": True, "confirm": None}),
        (
            ["destroy", "--delete-data", "--confirm", "unit-data", "--json"],
            "destroy",
            (),
            {"keep_data": False, "confirm": "unit-data"},
        ),
    ],
)
def test_operations_call_the_api(api, argv, method, args, kwargs):
    out = runner.invoke(cli.app, argv)
    assert out.exit_code == 0, out.output
    name, got_args, got_kwargs = api["calls"][0]
    assert name == method and got_args == args
    assert {k: got_kwargs[k] for k in kwargs} == kwargs
    assert json.loads(out.stdout)["ok"] is True


def _status(reachable=True):
    return Status(
        target="local",
        inventory="inventory/local",
        cluster=ClusterInfo(
            reachable,
            "https://127.0.0.1:6443",
            "v1.36.3" if reachable else "",
            "/kc",
            "" if reachable else "connection refused",
        ),
        applications=[ApplicationStatus("minio", "argocd", "platform", "minio", "Synced", "Healthy")],
        environments=[
            EnvironmentStatus(
                "staging",
                "model-service-staging",
                "staging",
                "3",
                "v3",
                "Synced",
                "Healthy",
                {"to": "staging", "version": "3", "result": "succeeded"},
            )
        ],
        workflow_templates=[WorkflowTemplateInfo("train-model", "argo")],
        credentials=[CredentialInfo("minio", "minio-credentials", "minio", ["rootPassword", "rootUser"])],
    )


def test_status_table_and_json(api, monkeypatch):
    monkeypatch.setattr("mlops_platform.api.Platform.status", lambda self: _status())
    out = runner.invoke(cli.app, ["status"], env={"COLUMNS": "200"})
    assert out.exit_code == 0
    for text in (
        "minio",
        "model-service-staging",
        "train-model",
        "minio-credentials",
        "rootPassword",
        "v1.36.3",
    ):
        assert text in out.stdout
    data = json.loads(runner.invoke(cli.app, ["status", "--json"]).stdout)
    assert data["cluster"]["reachable"] is True
    assert data["applications"][0]["health"] == "Healthy"
    assert data["environments"][0]["version"] == "3"
    assert data["workflow_templates"] == [{"name": "train-model", "namespace": "argo"}]
    assert data["credentials"][0]["keys"] == ["rootPassword", "rootUser"]


def test_status_of_an_unreachable_cluster_exits_1(api, monkeypatch):
    monkeypatch.setattr("mlops_platform.api.Platform.status", lambda self: _status(reachable=False))
    out = runner.invoke(cli.app, ["status"])
    assert out.exit_code == 1 and "connection refused" in out.stdout


def test_kubeconfig_path_and_export(api, tmp_path):
    path = tmp_path / "my kube"
    path.write_text("{}")
    out = runner.invoke(cli.app, ["kubeconfig", "--kubeconfig", str(path)])
    assert out.exit_code == 0 and out.stdout.strip() == str(path)
    out = runner.invoke(cli.app, ["kubeconfig", "--export", "--kubeconfig", str(path)])
    assert out.stdout.strip() == f"export KUBECONFIG='{path}'"
    out = runner.invoke(cli.app, ["kubeconfig"])
    assert out.exit_code == 1 and "make envtest-up" in out.stderr


def test_credentials_prints_values_of_one_app(api, monkeypatch):
    monkeypatch.setattr("mlops_platform.api.Platform.credentials", lambda self, app: {"rootUser": "admin"})
    out = runner.invoke(cli.app, ["credentials", "minio"])
    assert out.exit_code == 0 and out.stdout == "rootUser=admin\n"
    out = runner.invoke(cli.app, ["credentials", "minio", "--json"])
    assert json.loads(out.stdout) == {"app": "minio", "values": {"rootUser": "admin"}}


def test_inventory_option_is_checked(api):
    out = runner.invoke(cli.app, ["up", "-i", "inventory/nowhere"])
    assert out.exit_code == 2 and "inventory/nowhere does not exist" in out.stderr


def test_live_progress_shows_the_current_task():
    import io

    from rich.console import Console

    from mlops_platform.progress import RunProgress

    buffer = io.StringIO()
    with RunProgress("up", Console(file=buffer, force_terminal=True, width=160)) as progress:
        progress.on_event(RunEvent("playbook_on_task_start", "gitops", "Gitops stage", "Install ArgoCD"))
        progress.on_event(
            RunEvent("runner_on_ok", "gitops", "Gitops stage", "Install ArgoCD", "localhost", True)
        )
        progress.progress.refresh()
        assert "Install ArgoCD" in buffer.getvalue() and "changed 1" in buffer.getvalue()
        progress.on_event(RunEvent("playbook_on_task_start", "platform", "Platform stage", "Declare MinIO"))
        progress.progress.refresh()
    text = buffer.getvalue()
    assert "Declare MinIO" in text and "platform" in text


def test_version_names_the_package_the_collection_and_every_pin():
    from pathlib import Path

    from mlops_platform import __version__

    root = Path(__file__).resolve().parents[3]
    out = CliRunner().invoke(cli.app, ["--version"])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert lines[0] == f"mlopsctl (mlops_platform) {__version__}"
    assert lines[1].startswith("collection mlops.platform ")
    pins = (root / "versions.env").read_text().splitlines()
    expected = [f"  {line}" for line in pins if "=" in line and not line.startswith("#")]
    assert lines[2:] == expected


def test_a_failure_under_json_prints_a_json_error_object():
    """Scripts that pass --json always get JSON on stdout, also when the command fails."""
    mlopsctl = [sys.executable, "-m", "mlops_platform.cli"]
    bad = subprocess.run(
        [*mlopsctl, "predict", "staging", "--data", "{not json", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 2
    error = json.loads(bad.stdout)
    assert error["exit_code"] == 2 and error["error"].startswith("--data is not JSON")
    assert bad.stderr.startswith("error: --data is not JSON")
    plain = subprocess.run(
        [*mlopsctl, "predict", "staging", "--data", "{not json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert plain.returncode == 2 and plain.stdout == ""
