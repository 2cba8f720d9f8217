"""Which kubeconfigs the client reads itself (certificates, token) and which go to the kubernetes package."""

from __future__ import annotations

import base64
import json

import pytest
from ansible_collections.mlops.platform.plugins.module_utils.kube.client import (
    Direct,
    KubeClient,
    direct_settings,
)


def kubeconfig(cluster: dict, user: dict) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "c",
        "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u"}}],
        "clusters": [{"name": "k", "cluster": {"server": "https://127.0.0.1:6443", **cluster}}],
        "users": [{"name": "u", "user": user}],
    }


def test_certificate_files_are_relative_to_the_kubeconfig():
    raw = kubeconfig(
        {"certificate-authority": "pki/ca.crt"}, {"client-certificate": "a.crt", "client-key": "a.key"}
    )
    config = direct_settings(raw, "c", "/etc/kube/config")
    assert isinstance(config, Direct)
    assert (config.ssl_ca_cert, config.cert_file, config.key_file) == (
        "/etc/kube/pki/ca.crt",
        "/etc/kube/a.crt",
        "/etc/kube/a.key",
    )
    assert config.verify_ssl is True and config.host == "https://127.0.0.1:6443"


def test_inline_data_and_token():
    pem = "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n"
    raw = kubeconfig(
        {
            "certificate-authority-data": base64.b64encode(pem.encode()).decode(),
            "insecure-skip-tls-verify": False,
        },
        {"token": "t0k"},
    )
    config = direct_settings(raw, "c", "/k")
    assert config.ca_data == pem and config.ssl_ca_cert is None
    assert config.get_api_key_with_prefix("authorization") == "Bearer t0k"


@pytest.mark.parametrize(
    "user",
    [
        {"exec": {"command": "aws", "apiVersion": "client.authentication.k8s.io/v1"}},
        {"auth-provider": {"name": "oidc"}},
        {"username": "a", "password": "b"},
        {"client-certificate": "a.crt"},  # no key: the kubernetes loader says what is missing
        {"client-certificate-data": "not base64!"},
    ],
)
def test_anything_else_goes_to_the_kubernetes_package(user):
    assert direct_settings(kubeconfig({}, user), "c", "/k") is None


def test_a_proxy_goes_to_the_kubernetes_package():
    assert direct_settings(kubeconfig({"proxy-url": "http://proxy:3128"}, {"token": "t"}), "c", "/k") is None


def test_an_exec_kubeconfig_is_loaded_by_the_kubernetes_package(tmp_path):
    path = tmp_path / "config"
    raw = kubeconfig({"insecure-skip-tls-verify": True}, {"token": "t"})
    raw["users"][0]["user"] = {"token": "t", "as": "someone"}
    path.write_text(json.dumps(raw))
    client = KubeClient.from_params({"kubeconfig": str(path)})
    assert not isinstance(client.configuration, Direct)
    assert client.server == "https://127.0.0.1:6443"


def test_explicit_options_replace_the_kubeconfig_data(tmp_path):
    path = tmp_path / "config"
    data = base64.b64encode(b"pem").decode()
    path.write_text(
        json.dumps(
            kubeconfig(
                {"certificate-authority-data": data},
                {"client-certificate-data": data, "client-key-data": data},
            )
        )
    )
    client = KubeClient.from_params(
        {"kubeconfig": str(path), "ca_cert": "/ca", "client_cert": "/c", "client_key": "/k", "api_key": "x"}
    )
    config = client.configuration
    assert (config.ssl_ca_cert, config.ca_data, config.cert_file, config.cert_data) == (
        "/ca",
        None,
        "/c",
        None,
    )
    assert (config.key_file, config.key_data) == ("/k", None)
    assert client._headers(None)["Authorization"] == "Bearer x"
