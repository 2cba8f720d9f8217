# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""One API client per module run, from kubeconfig / context / host + token / CA.

It speaks JSON to the API server over the connection pool that the `kubernetes`
package configures (TLS, client certificates, proxies, exec credential plugins),
without the generated models: we send and receive plain dicts, and we know the
paths of the kinds we manage, so no API discovery happens for them.
"""

from __future__ import annotations

import json
import os
from urllib.parse import urlencode

from ansible_collections.mlops.platform.plugins.module_utils.kube.errors import (
    KubeError,
    translate,
    unreachable,
)
from ansible_collections.mlops.platform.plugins.module_utils.kube.resources import KNOWN, Resource

DEFAULT_KUBECONFIG = "~/.kube/config"
FIELD_MANAGER = "mlops-platform"


def ref_of(obj: dict) -> str:
    """'Kind namespace/name' (or 'Kind name' for cluster-scoped objects) for messages."""
    meta = obj.get("metadata") or {}
    name = meta.get("name") or "<no name>"
    ns = meta.get("namespace")
    return f"{obj.get('kind', '?')} {ns + '/' if ns else ''}{name}"


class KubeClient:
    """A connection to one API server. Build it with `KubeClient.from_params`.

    `requests` counts the HTTP requests made (the benchmark reads it).
    """

    def __init__(self, configuration, auth_source: str, timeout: float = 30.0):
        self.configuration = configuration
        self.auth_source = auth_source
        self.server = configuration.host.rstrip("/")
        self.timeout = timeout
        self.requests = 0
        self._pool = None
        self._discovered: dict[str, dict] = {}

    # -- construction --------------------------------------------------------

    @classmethod
    def from_params(cls, params: dict) -> KubeClient:
        """Build from a module's connection options (see args.KUBE_ARGSPEC).

        Precedence: explicit host/api_key/ca_cert/... override the kubeconfig; without
        host, the kubeconfig (option, K8S_AUTH_KUBECONFIG, KUBECONFIG, ~/.kube/config)
        is read and `context` (or its current-context) selected.
        """
        from kubernetes.client import Configuration

        config = Configuration()
        host = params.get("host")
        kubeconfig = params.get("kubeconfig") or os.environ.get("K8S_AUTH_KUBECONFIG")
        context = params.get("context") or os.environ.get("K8S_AUTH_CONTEXT")
        if host and not kubeconfig:
            config.host = host
            auth_source = f"the host/api_key options (host {host})"
        else:
            path = os.path.expanduser(
                kubeconfig or os.environ.get("KUBECONFIG", "").split(os.pathsep)[0] or DEFAULT_KUBECONFIG
            )
            _load_kubeconfig(config, path, context)
            auth_source = f"kubeconfig {path} (context {context or 'current-context'})"
            if host:
                config.host = host
        if params.get("api_key"):
            config.api_key = {"authorization": f"Bearer {params['api_key']}"}
            config.api_key_prefix = {}
            if not (host and not kubeconfig):
                auth_source += " with the api_key option"
        if params.get("ca_cert"):
            config.ssl_ca_cert = params["ca_cert"]
        if params.get("client_cert"):
            config.cert_file = params["client_cert"]
        if params.get("client_key"):
            config.key_file = params["client_key"]
        if params.get("validate_certs") is not None:
            config.verify_ssl = params["validate_certs"]
        if not config.host or not config.host.startswith(("https://", "http://")):
            raise KubeError(
                f"the API server address {config.host!r} from {auth_source} is not an http(s) URL"
            )
        return cls(config, auth_source, float(params.get("request_timeout") or 30.0))

    # -- HTTP ----------------------------------------------------------------

    @property
    def pool(self):
        if self._pool is None:
            import urllib3
            from kubernetes.client.rest import RESTClientObject

            if not self.configuration.verify_ssl:
                urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
            # Fail fast on connection refused (one quick retry, never on a read); retry a
            # 429 (API priority and fairness) a few times, honouring Retry-After: the server
            # rejected the request before processing it, so even a write is safe to resend.
            self.configuration.retries = urllib3.Retry(
                total=5, connect=1, read=0, redirect=2, status=3, other=0, backoff_factor=0.2,
                status_forcelist=[429], allowed_methods=None, raise_on_status=False,
            )
            self._pool = RESTClientObject(self.configuration).pool_manager
        return self._pool

    def _headers(self, content_type: str | None) -> dict:
        headers = {"Accept": "application/json", "User-Agent": "mlops-platform"}
        if content_type:
            headers["Content-Type"] = content_type
        hook = getattr(self.configuration, "refresh_api_key_hook", None)
        if hook is not None:
            hook(self.configuration)
        token = self.configuration.get_api_key_with_prefix("authorization") or \
            self.configuration.get_api_key_with_prefix("BearerToken")
        if token:
            headers["Authorization"] = token if " " in token else f"Bearer {token}"
        return headers

    def request(self, method: str, path: str, *, body=None, query: dict | None = None,
                content_type: str | None = None, action: str = "calling", ref: str = "",
                allow: tuple[int, ...] = ()) -> dict | None:
        """One API call; returns the decoded JSON answer, or None for a status in `allow`.

        Errors raise KubeError naming `ref` (the object) and `action`.
        """
        import urllib3

        url = self.server + path
        if query:
            url += "?" + urlencode({k: v for k, v in query.items() if v is not None}, doseq=True)
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            content_type = content_type or "application/json"
        self.requests += 1
        try:
            response = self.pool.request(
                method, url, body=data, headers=self._headers(content_type),
                timeout=urllib3.Timeout(total=self.timeout), preload_content=True,
            )
        except urllib3.exceptions.HTTPError as e:
            cause = getattr(e, "reason", None) or e
            raise unreachable(cause, action=action, ref=ref or path, server=self.server,
                              auth_source=self.auth_source) from e
        if response.status in allow:
            return None
        if response.status >= 400:
            raise translate(response.status, response.data, action=action, ref=ref or path,
                            server=self.server, auth_source=self.auth_source)
        if not response.data:
            return {}
        return json.loads(response.data)

    # -- resources -----------------------------------------------------------

    def resource(self, api_version: str, kind: str) -> Resource:
        """The API path information for a kind: from the table, else by discovery (cached)."""
        known = KNOWN.get((api_version, kind))
        if known:
            return known
        if api_version not in self._discovered:
            base = f"/apis/{api_version}" if "/" in api_version else f"/api/{api_version}"
            listing = self.request("GET", base, action="discovering", ref=f"API {api_version}", allow=(404,))
            if listing is None:
                raise KubeError(
                    f"the API server {self.server} does not serve {api_version}: install the "
                    f"CustomResourceDefinition for {kind} first"
                )
            self._discovered[api_version] = {
                r["kind"]: r for r in listing.get("resources", []) if "/" not in r["name"]
            }
        entry = self._discovered[api_version].get(kind)
        if entry is None:
            raise KubeError(f"the API server {self.server} serves {api_version} but has no kind {kind}")
        return Resource(api_version, kind, entry["name"], entry.get("namespaced", False))

    def path_of(self, obj: dict, with_name: bool = True) -> str:
        meta = obj.get("metadata") or {}
        res = self.resource(obj.get("apiVersion", ""), obj.get("kind", ""))
        try:
            return res.path(meta.get("name") if with_name else None,
                            meta.get("namespace") if res.namespaced else None)
        except ValueError as e:
            raise KubeError(f"{ref_of(obj)}: {e}") from e


def _load_kubeconfig(config, path: str, context: str | None) -> None:
    """Fill `config` from a kubeconfig file, with clear errors for the usual mistakes."""
    import yaml

    if not os.path.isfile(path):
        raise KubeError(
            f"kubeconfig {path} does not exist: run the kubeconfig stage (or `make envtest-up` "
            "for the local target), or set mlops_kubeconfig / the kubeconfig option to the right file"
        )
    try:
        with open(path, encoding="utf-8") as f:
            raw = yaml.safe_load(f) or {}
    except (OSError, yaml.YAMLError) as e:
        raise KubeError(f"kubeconfig {path} cannot be read as YAML: {e}") from e
    contexts = [c.get("name") for c in raw.get("contexts") or [] if isinstance(c, dict)]
    wanted = context or raw.get("current-context")
    if not wanted:
        raise KubeError(
            f"kubeconfig {path} has no current-context: set the context option to one of {contexts}"
        )
    if wanted not in contexts:
        raise KubeError(
            f"context {wanted!r} is not in kubeconfig {path}; its contexts are: "
            f"{', '.join(map(str, contexts)) or 'none'}"
        )
    from kubernetes.config.config_exception import ConfigException
    from kubernetes.config.kube_config import load_kube_config

    try:
        load_kube_config(config_file=path, context=wanted, client_configuration=config, persist_config=False)
    except (ConfigException, OSError, ValueError) as e:
        raise KubeError(f"kubeconfig {path} context {wanted!r} is not usable: {e}") from e
