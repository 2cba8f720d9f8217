"""What the GitOps modules build from their options, and the bad inputs they refuse."""

from __future__ import annotations

import base64
import copy

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible_collections.mlops.platform.plugins.module_utils.argocd import application, project, repository
from ansible_collections.mlops.platform.plugins.module_utils.argocd.common import ArgoCDError
from ansible_collections.mlops.platform.plugins.module_utils.kube.errors import KubeError
from ansible_collections.mlops.platform.plugins.module_utils.kube.items import check_unique


def validated(spec, **params):
    # Ansible fills sub-option defaults into the spec's default dicts in place: validate a copy.
    result = ArgumentSpecValidator(copy.deepcopy(spec)).validate(params)
    assert not result.error_messages, result.error_messages
    return result.validated_parameters


def app(**params):
    base = {
        "name": "minio",
        "repo_url": "https://charts.min.io/",
        "chart": "minio",
        "chart_version": "5.4.0",
        "destination_namespace": "platform",
    }
    return validated(application.APPLICATION_SPEC, **{**base, **params})


def test_helm_application():
    obj = application.build(
        app(
            sync_wave=2,
            helm_values="auth:\n  existingSecret: x\n",
            helm_parameters=[{"name": "a", "value": "1", "force_string": True}],
        )
    )
    assert obj["metadata"] == {
        "name": "minio",
        "namespace": "argocd",
        "annotations": {"argocd.argoproj.io/sync-wave": "2"},
        "finalizers": ["resources-finalizer.argocd.argoproj.io"],
    }
    src = obj["spec"]["source"]
    assert src == {
        "repoURL": "https://charts.min.io/",
        "chart": "minio",
        "targetRevision": "5.4.0",
        "helm": {
            "valuesObject": {"auth": {"existingSecret": "x"}},
            "parameters": [{"name": "a", "value": "1", "forceString": True}],
        },
    }
    policy = obj["spec"]["syncPolicy"]
    assert policy["automated"] == {"prune": True, "selfHeal": True}
    assert policy["syncOptions"] == ["CreateNamespace=true"]
    assert policy["retry"] == {"limit": 5, "backoff": {"duration": "5s", "factor": 2, "maxDuration": "3m"}}


def test_git_application_with_kustomize_images_and_no_automation():
    obj = application.build(
        app(
            chart=None,
            chart_version=None,
            path="k8s/staging",
            revision="v1",
            kustomize_images=["img=img:2"],
            cascade_delete=False,
            sync_policy={
                "automated": False,
                "create_namespace": False,
                "retry_limit": 0,
                "server_side_apply": True,
            },
        )
    )
    assert obj["spec"]["source"] == {
        "repoURL": "https://charts.min.io/",
        "path": "k8s/staging",
        "targetRevision": "v1",
        "kustomize": {"images": ["img=img:2"]},
    }
    assert "finalizers" not in obj["metadata"]
    assert obj["spec"]["syncPolicy"] == {"syncOptions": ["ServerSideApply=true"]}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"chart_version": None}, "chart 'minio' needs chart_version"),
        ({"path": "x"}, "either chart"),
        ({"chart": None, "chart_version": None}, "set chart + chart_version"),
        ({"repo_url": "not a url"}, "is not a repository URL"),
        ({"repo_url": None}, "repo_url is required"),
        ({"destination_namespace": "Bad_NS"}, "not a valid namespace name"),
        ({"destination_namespace": None}, "destination_namespace is required"),
        ({"namespace": "-argocd"}, "namespace '-argocd' is not a valid namespace name"),
        ({"name": "Minio"}, "name 'Minio' is not a valid object name"),
        ({"kustomize_images": ["a=b"]}, "kustomize_images applies to a Git path"),
        ({"helm_values": "- a\n- b\n"}, "helm_values must be a mapping"),
        ({"helm_values": "a: [b"}, "helm_values is not valid YAML"),
    ],
)
def test_application_bad_inputs(params, message):
    with pytest.raises(ArgoCDError, match=message.replace("(", r"\(").replace("+", r"\+")):
        application.build(app(**params))


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/a/b.git",
        "ssh://git@github.com/a/b.git",
        "git@github.com:a/b",
        "oci://ghcr.io/a/charts",
        "http://gitea.local:3000/a/b",
    ],
)
def test_repo_urls_accepted(url):
    application.build(app(repo_url=url))


def test_absent_needs_only_name():
    obj = application.build(validated(application.APPLICATION_SPEC, name="minio", state="absent"))
    assert obj == {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "minio", "namespace": "argocd"},
    }


def test_duplicates_refused():
    objs = [application.build(app()), application.build(app(chart_version="1"))]
    with pytest.raises(ArgoCDError, match="two Applications claim argocd/minio"):
        check_unique(objs, "Applications", ArgoCDError)


def test_project():
    obj = project.build(
        validated(
            project.PROJECT_SPEC,
            name="staging",
            source_repos=["https://g.com/a.git"],
            destinations=[{"namespace": "staging"}],
        )
    )
    assert obj["spec"] == {
        "sourceRepos": ["https://g.com/a.git"],
        "destinations": [{"server": "https://kubernetes.default.svc", "namespace": "staging"}],
        "clusterResourceWhitelist": [],
    }


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"source_repos": []}, "source_repos must list"),
        ({"destinations": []}, "destinations must list"),
        ({"destinations": [{"namespace": "UPPER"}]}, "not a valid namespace name"),
    ],
)
def test_project_bad_inputs(params, message):
    base = {"name": "p", "source_repos": ["*"], "destinations": [{"namespace": "x"}]}
    with pytest.raises(ArgoCDError, match=message):
        project.build(validated(project.PROJECT_SPEC, **{**base, **params}))


def test_repository_secret():
    obj = repository.build(
        validated(repository.REPOSITORY_SPEC, name="repo", url="https://g.com/a.git", password="tok")
    )
    assert obj["metadata"]["labels"] == {"argocd.argoproj.io/secret-type": "repository"}
    data = {k: base64.b64decode(v).decode() for k, v in obj["data"].items()}
    assert data == {"url": "https://g.com/a.git", "type": "git", "username": "git", "password": "tok"}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"url": "https://g.com/a.git", "ssh_private_key": "-----BEGIN OPENSSH PRIVATE KEY-----"},
            "needs an SSH URL",
        ),
        ({"url": "git@g.com:a/b", "password": "x"}, "needs an https:// URL"),
        ({"url": "git@g.com:a/b", "ssh_private_key": "not a key"}, "does not look like"),
        ({"url": "g.com a"}, "is not a repository URL"),
    ],
)
def test_repository_bad_inputs(params, message):
    with pytest.raises(ArgoCDError, match=message):
        repository.build(validated(repository.REPOSITORY_SPEC, name="r", **params))


def test_wait_helpers():
    degraded = {
        "status": {
            "sync": {"status": "Synced"},
            "health": {"status": "Degraded"},
            "resources": [
                {
                    "kind": "Deployment",
                    "name": "d",
                    "namespace": "n",
                    "health": {"status": "Degraded", "message": "boom"},
                },
                {"kind": "Service", "name": "s", "namespace": "n", "health": {"status": "Healthy"}},
            ],
        }
    }
    assert application.unhealthy_resources(degraded) == ["Deployment n/d: Degraded (boom)"]
    with pytest.raises(KubeError, match="Deployment n/d: Degraded"):
        application.reached(degraded, "healthy", "Application argocd/x")
    # A fresh install passes through Degraded: only a lasting one stops the wait.
    assert application.reached(degraded, "healthy", "x", degraded_for=5.0) is False
    with pytest.raises(KubeError, match=r"x is Degraded \(for 120 s\)"):
        application.reached(degraded, "healthy", "x", degraded_for=application.DEGRADED_GRACE)
    synced = {"status": {"sync": {"status": "Synced"}, "health": {"status": "Progressing"}}}
    assert application.reached(synced, "synced", "x") is True
    assert application.reached(synced, "healthy", "x") is False
    failed = {"status": {"operationState": {"phase": "Failed", "message": "hook failed"}}}
    with pytest.raises(KubeError, match="sync Failed: hook failed"):
        application.reached(failed, "synced", "x")


class _Replies:
    """An API client whose GETs of one Application return `statuses` in turn, on a fake clock."""

    def __init__(self, statuses):
        self.statuses = list(statuses)
        self.now = 0.0

    def path_of(self, obj):
        return "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/" + obj["metadata"]["name"]

    def request(self, method, path, **_):
        if method == "PATCH":
            return {}
        health = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        return {"status": {"sync": {"status": "Synced"}, "health": {"status": health}}}

    def sleep(self, seconds):
        self.now += seconds


@pytest.mark.parametrize(
    ("statuses", "outcome"),
    [
        (["Progressing", "Degraded", "Degraded", "Healthy"], "Healthy"),  # a fresh install's passage
        (["Progressing", "Degraded"], "is Degraded (for 120 s)"),  # a lasting one
    ],
)
def test_wait_tolerates_a_passing_degraded(statuses, outcome):
    client = _Replies(statuses)
    app = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "monitoring", "namespace": "argocd"},
    }

    def wait():
        return application.refresh_and_wait(
            client, [(app, "healthy", 900)], interval=10, sleep=client.sleep, clock=lambda: client.now
        )

    if outcome == "Healthy":
        assert wait()[0]["status"]["health"]["status"] == "Healthy"
    else:
        with pytest.raises(KubeError, match=outcome.replace("(", r"\(").replace(")", r"\)")):
            wait()
        assert client.now < 900
