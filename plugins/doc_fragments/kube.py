# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""Connection options shared by every module of the action group mlops.platform.kube."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  api_key:
    description:
      - Bearer token to authenticate with, instead of (or on top of) the kubeconfig user's credentials.
    type: str
  ca_cert:
    description:
      - Path to the CA certificate that signed the API server's certificate.
      - Overrides the kubeconfig's C(certificate-authority).
    type: path
    aliases: [ssl_ca_cert]
  client_cert:
    description:
      - Path to a client certificate for authentication (overrides the kubeconfig's).
    type: path
    aliases: [cert_file]
  client_key:
    description:
      - Path to the key of O(client_cert).
    type: path
    aliases: [key_file]
  context:
    description:
      - Name of the kubeconfig context to use; the kubeconfig's C(current-context) when omitted.
      - Can also be set with the E(K8S_AUTH_CONTEXT) environment variable.
    type: str
  host:
    description:
      - URL of the API server, for example C(https://10.0.0.10:6443).
      - Without O(kubeconfig), the connection is built from O(host), O(api_key) and O(ca_cert) alone.
    type: str
  kubeconfig:
    description:
      - Path to a kubeconfig file. Defaults to E(K8S_AUTH_KUBECONFIG), then the first file of
        E(KUBECONFIG), then C(~/.kube/config).
      - The playbooks set it once per play with C(module_defaults) for the group C(mlops.platform.kube).
    type: path
  request_timeout:
    description:
      - Seconds one API request may take before it fails.
    type: float
    default: 30.0
  validate_certs:
    description:
      - Whether to verify the API server's TLS certificate. Defaults to the kubeconfig's setting (verify).
    type: bool
    aliases: [verify_ssl]
notes:
  - One API client is built per module run; objects are written by server-side apply with the
    field manager C(mlops-platform), and check mode uses the API server's dry run.
requirements:
  - kubernetes >= 30 (Python)
  - PyYAML
"""
