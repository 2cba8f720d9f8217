"""The workflows' deploy step (deploy-container-image), run for real against the real ArgoCD.

The step's own script runs as a process (tests/workflow_templates.run_step) with the pod's
view of the cluster: KUBERNETES_SERVICE_HOST/PORT and a service account directory holding a
token of the workflows stage's own service account (the stage is run here, so its Roles are
exactly what the product declares) and the API server's CA. It runs the promote playbook,
the code `mlopsctl promote` runs: the new build enters staging, staging moves to canary, the
MLflow aliases follow, the history records both, and skipping canary is refused.
"""

from __future__ import annotations

import base64
import json
import shutil
import urllib.parse
import uuid
from pathlib import Path

import pytest
import yaml
from ansible_collections.mlops.platform.plugins.module_utils.promotion import application as appl
from environments_support import ENVS, ROOT, playbook
from workflow_templates import load, run_step

pytestmark = [pytest.mark.controlplane, pytest.mark.mlflow]
TOOLS_BIN = ROOT / ".cache" / "venv" / "bin"


@pytest.fixture
def service_account(crds, kubeconfig, shared_fixtures):
    """The workflows stage run in a namespace of its own; a directory (outside /tmp, which the
    step's mount namespace replaces) with its service account's token and the cluster's CA."""
    suffix = uuid.uuid4().hex[:6]
    ns, history = f"argo-{suffix}", f"wf{suffix}-history"
    crd_files = [
        str(shared_fixtures / "crds" / f"argo-workflows-argoproj.io_{kind}.yaml")
        for kind in ("workflows", "workflowtemplates", "cronworkflows")
    ]
    stage = playbook(
        kubeconfig,
        "workflows.yml",
        {
            "workflows_namespace": ns,
            "workflows_argocd_namespace": "argocd",
            "workflows_crd_files": crd_files,
            "workflows_retrain_on_alert": False,
            "workflows_artifact_bucket": "",
            "workflows_history_name": history,
        },
    )
    assert stage.returncode == 0, stage.stdout[-3000:]
    token = crds.request(
        "POST",
        f"/api/v1/namespaces/{ns}/serviceaccounts/mlops-workflow/token",
        body={
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {"expirationSeconds": 3600},
        },
    )["status"]["token"]
    config = yaml.safe_load(Path(kubeconfig).read_text())
    cluster = config["clusters"][0]["cluster"]
    directory = ROOT / ".cache" / "tmp" / f"serviceaccount-{suffix}"
    directory.mkdir(parents=True)
    (directory / "token").write_text(token)
    if "certificate-authority-data" in cluster:
        (directory / "ca.crt").write_bytes(base64.b64decode(cluster["certificate-authority-data"]))
    else:
        shutil.copy(Path(kubeconfig).parent / cluster["certificate-authority"], directory / "ca.crt")
    server = urllib.parse.urlparse(cluster["server"])
    env = {
        "SERVICE_ACCOUNT_DIR": str(directory),
        "KUBERNETES_SERVICE_HOST": server.hostname,
        "KUBERNETES_SERVICE_PORT": str(server.port),
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
    }
    yield env, history
    shutil.rmtree(directory)


def test_deploy_step_promotes_with_the_code_of_mlopsctl(
    crds, kubeconfig, argocd, service_account, mlflow_server, registered_model, tmp_path
):
    env, history = service_account
    client, model = registered_model
    prefix = f"ms{uuid.uuid4().hex[:6]}"
    declared = playbook(
        kubeconfig,
        "environments.yml",
        {
            "environments_name_prefix": prefix,
            "environments_promotion_history_name": history,
            "environments_chart_repo_url": argocd["git_url"],
            "environments_promotion_update_alias": False,
        },
    )
    assert declared.returncode == 0, declared.stdout[-3000:]
    params = {
        "tools-image": "-",
        "environments": " ".join(ENVS),
        "environment-prefix": prefix,
        "argocd-namespace": "argocd",
        "history-name": history,
        "model-name": model,
        "mlflow-url": mlflow_server.url,
    }
    template = load("deploy-container-image")

    def deploy(n: int, **inputs: str):
        pod_tmp = tmp_path / f"pod-{n}"
        pod_tmp.mkdir()
        return run_step(
            template,
            "deploy",
            params,
            {"source": "", "model-version": "", "image-tag": "", **inputs},
            tmp=pod_tmp,
            path=[TOOLS_BIN],
            env=env,
        )

    def runs(environment: str):
        app = crds.request(
            "GET", f"/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/{prefix}-{environment}"
        )
        return appl.deployed(app["spec"]["source"]), appl.runs_healthy(app)

    new_build = deploy(1, environment="staging", **{"model-version": "2", "image-tag": "2"})
    assert new_build.returncode == 0, new_build.stdout[-3000:] + new_build.stderr[-2000:]
    assert "staging runs version 2 (image 2)" in new_build.stdout
    assert runs("staging") == (("2", "2"), True)
    assert client.get_alias(model, "staging") == "2"

    forward = deploy(2, environment="canary", source="staging")
    assert forward.returncode == 0, forward.stdout[-3000:]
    assert runs("canary") == (("2", "2"), True) and client.get_alias(model, "canary") == "2"

    skip = deploy(3, environment="production", source="staging")
    assert skip.returncode != 0 and "staging -> production would skip canary" in skip.stdout
    assert client.get_alias(model, "production") is None
    records = json.loads(
        crds.request("GET", f"/api/v1/namespaces/argocd/configmaps/{history}")["data"]["history.json"]
    )
    done = [(r["from"], r["to"], r["version"]) for r in records if r["result"] == "succeeded"]
    assert done == [(None, "staging", "2"), ("staging", "canary", "2")]
