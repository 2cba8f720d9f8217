"""Every bad input is a clear error and changes nothing (one playbook run, one task each)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.controlplane

GOOD = {
    "name": "minio",
    "repo_url": "https://charts.min.io/",
    "chart": "minio",
    "chart_version": "5.4.0",
    "destination_namespace": "platform",
}


def cases(ns, controlplane, tmp_path):
    app = dict(GOOD, namespace=ns)
    return [
        (
            "chart without version",
            "argocd_application",
            {**app, "chart_version": None},
            None,
            [f"Application {'minio'}: chart 'minio' needs chart_version"],
        ),
        (
            "malformed repo URL",
            "argocd_application",
            {**app, "repo_url": "htps//charts min io"},
            None,
            ["repo_url 'htps//charts min io' is not a repository URL"],
        ),
        (
            "malformed repository URL",
            "argocd_repository",
            {"name": "repo", "namespace": ns, "url": "github.com example", "password": "t0ken-value"},
            None,
            ["url 'github.com example' is not a repository URL"],
        ),
        (
            "invalid namespace name",
            "argocd_application",
            {**app, "destination_namespace": "Platform_NS"},
            None,
            ["destination_namespace 'Platform_NS' is not a valid namespace name"],
        ),
        (
            "two apps claiming the same namespace/name",
            "argocd_application",
            {"namespace": ns, "applications": [dict(GOOD, chart_version="5.4.0"), dict(GOOD, path=None)]},
            None,
            [f"two Applications claim {ns}/minio (items 0 and 1)"],
        ),
        (
            "kubeconfig path missing",
            "argocd_application",
            app,
            {"kubeconfig": str(tmp_path / "nope.yaml")},
            [f"kubeconfig {tmp_path / 'nope.yaml'} does not exist"],
        ),
        (
            "wrong context name",
            "argocd_application",
            app,
            {"kubeconfig": str(controlplane.kubeconfig), "context": "prod-cluster"},
            ["context 'prod-cluster' is not in kubeconfig", "its contexts are: mlops-local"],
        ),
        (
            "token rejected (401)",
            "argocd_application",
            app,
            # no kubeconfig (its client certificate would authenticate): host + token + CA only
            {
                "kubeconfig": None,
                "host": controlplane.server,
                "api_key": "not-a-valid-token",
                "ca_cert": str(controlplane.ca_file),
            },
            ["401 Unauthorized", f"Application {ns}/minio", "Check the token"],
        ),
        (
            "unknown option in a list element",
            "argocd_application",
            {"namespace": ns, "applications": [dict(GOOD, chart_verison="1")]},
            None,
            ["applications[0]: unknown option(s) chart_verison"],
        ),
        (
            "generated key too short",
            "generated_secret",
            {"name": "s", "namespace": ns, "keys": [{"name": "password", "length": 4}]},
            None,
            ["key password: length 4 must be between 8 and 4096"],
        ),
    ]


def test_bad_inputs_fail_clearly_and_change_nothing(
    play, kube, argocd_crds, namespace, controlplane, tmp_path
):
    table = cases(namespace, controlplane, tmp_path)
    tasks = []
    for title, module, args, conn, _ in table:
        task = {"name": title, f"mlops.platform.{module}": {k: v for k, v in args.items() if v is not None}}
        if conn is not None:
            task["module_defaults"] = {f"mlops.platform.{module}": conn}
        tasks.append(task)
    # module_defaults on the task replaces the play's for that module: connection overrides per case
    out = play.run(tasks)
    for (title, _m, _a, _c, expected), result in zip(table, out["results"], strict=True):
        assert result.get("failed") is True, f"{title}: expected a failure, got {result}"
        for part in expected:
            assert part in result["msg"], f"{title}: {part!r} not in {result['msg']!r}"
        assert result.get("changed") is False, title
    listing = kube.request("GET", f"/apis/argoproj.io/v1alpha1/namespaces/{namespace}/applications")
    assert listing["items"] == []
    secrets = kube.request("GET", f"/api/v1/namespaces/{namespace}/secrets")
    assert secrets["items"] == []
