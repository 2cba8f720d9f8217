# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""One API client per module run, from kubeconfig / context / host + token / CA.

It speaks JSON to the API server over one urllib3 connection pool, without the
generated models: we send and receive plain dicts, and we know the paths of the
kinds we manage, so no API discovery happens for them.

A kubeconfig whose cluster and user use only certificates and a token (what Kubespray
and the local control plane write) is read here with the C YAML loader: importing
the `kubernetes` package costs more than most module runs take. Anything else
(exec credential plugins, auth providers, proxies, ...) goes through the `kubernetes`
package's own loader, which configures the pool.
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
        # a kubernetes.client.Configuration, or a Direct for the certificate/token kubeconfigs
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
        host = params.get("host")
        kubeconfig = params.get("kubeconfig") or os.environ.get("K8S_AUTH_KUBECONFIG")
        context = params.get("context") or os.environ.get("K8S_AUTH_CONTEXT")
        if host and not kubeconfig:
            config = Direct(host)
            auth_source = f"the host/api_key options (host {host})"
        else:
            path = os.path.expanduser(
                kubeconfig or os.environ.get("KUBECONFIG", "").split(os.pathsep)[0] or DEFAULT_KUBECONFIG
            )
            config = _load_kubeconfig(path, context)
            auth_source = f"kubeconfig {path} (context {context or 'current-context'})"
            if host:
                config.host = host
        if params.get("api_key"):
            config.api_key = {"authorization": f"Bearer {params['api_key']}"}
            config.api_key_prefix = {}
            if not (host and not kubeconfig):
                auth_source += " with the api_key option"
        # explicit files replace the kubeconfig's (file or inline data)
        if params.get("ca_cert"):
            config.ssl_ca_cert = params["ca_cert"]
            if isinstance(config, Direct):
                config.ca_data = None
        if params.get("client_cert"):
            config.cert_file = params["client_cert"]
            if isinstance(config, Direct):
                config.cert_data = None
        if params.get("client_key"):
            config.key_file = params["client_key"]
            if isinstance(config, Direct):
                config.key_data = None
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

            if not self.configuration.verify_ssl:
                urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
            # Fail fast on connection refused (one quick retry, never on a read); retry a
            # 429 (API priority and fairness) a few times, honouring Retry-After: the server
            # rejected the request before processing it, so even a write is safe to resend.
            self.configuration.retries = urllib3.Retry(
                total=5, connect=1, read=0, redirect=2, status=3, other=0, backoff_factor=0.2,
                status_forcelist=[429], allowed_methods=None, raise_on_status=False,
            )
            if isinstance(self.configuration, Direct):
                self._pool = self.configuration.pool_manager()
            else:
                from kubernetes.client.rest import RESTClientObject

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

    def send(self, method: str, path: str, *, body=None, query: dict | None = None,
             content_type: str | None = None, action: str = "calling", ref: str = ""):
        """One API call; returns the urllib3 response whatever its status (request() checks it).

        Only a connection failure raises (KubeError naming `ref` and `action`).
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
            return self.pool.request(
                method, url, body=data, headers=self._headers(content_type),
                timeout=urllib3.Timeout(total=self.timeout), preload_content=True,
            )
        except urllib3.exceptions.HTTPError as e:
            cause = getattr(e, "reason", None) or e
            raise unreachable(cause, action=action, ref=ref or path, server=self.server,
                              auth_source=self.auth_source) from e

    def request(self, method: str, path: str, *, body=None, query: dict | None = None,
                content_type: str | None = None, action: str = "calling", ref: str = "",
                allow: tuple[int, ...] = ()) -> dict | None:
        """One API call; returns the decoded JSON answer, or None for a status in `allow`.

        Errors raise KubeError naming `ref` (the object) and `action`.
        """
        response = self.send(method, path, body=body, query=query, content_type=content_type,
                             action=action, ref=ref)
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


class Direct:
    """The connection settings of a certificate/token kubeconfig, or of the host/api_key options.

    The subset of kubernetes.client.Configuration that KubeClient reads, and the pool
    built from it: an SSL context with the CA (file or PEM data) and the client
    certificate (file or data), a bearer token.
    """

    def __init__(self, host: str):
        self.host = host
        self.verify_ssl = True
        self.ssl_ca_cert: str | None = None  # CA file
        self.ca_data: str | None = None  # CA PEM (certificate-authority-data, decoded)
        self.cert_file: str | None = None
        self.key_file: str | None = None
        self.cert_data: bytes | None = None
        self.key_data: bytes | None = None
        self.api_key: dict = {}
        self.api_key_prefix: dict = {}
        self.retries = None

    def get_api_key_with_prefix(self, name: str) -> str | None:
        return self.api_key.get(name)

    def pool_manager(self):
        import ssl

        import urllib3

        if not self.host.startswith("https://"):
            return urllib3.PoolManager(retries=self.retries)
        if self.ssl_ca_cert or self.ca_data:
            context = ssl.create_default_context(cafile=self.ssl_ca_cert, cadata=self.ca_data)
        else:
            import certifi

            context = ssl.create_default_context(cafile=certifi.where())
        if not self.verify_ssl:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if self.cert_file or self.cert_data:
            _load_client_certificate(context, self)
        return urllib3.PoolManager(retries=self.retries, ssl_context=context,
                                   assert_hostname=None if self.verify_ssl else False)


def _load_client_certificate(context, config: Direct) -> None:
    """Certificate and key from files or data; data goes through a private file that is removed at once."""
    import tempfile

    written = []
    try:
        paths = []
        for path, data in ((config.cert_file, config.cert_data), (config.key_file, config.key_data)):
            if data is not None:
                fd, path = tempfile.mkstemp(prefix="mlops-kube-")
                written.append(path)
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
            paths.append(path)
        context.load_cert_chain(paths[0], paths[1])
    except (OSError, ValueError) as e:  # ssl.SSLError is an OSError
        raise KubeError(f"the client certificate or key cannot be loaded: {e}") from e
    finally:
        for path in written:
            os.unlink(path)


# What a kubeconfig may use to be read here; anything else goes to the kubernetes package.
_DIRECT_CLUSTER_KEYS = {
    "server", "certificate-authority", "certificate-authority-data", "insecure-skip-tls-verify",
}
_DIRECT_USER_KEYS = {
    "client-certificate", "client-certificate-data", "client-key", "client-key-data", "token",
}


def _named(entries, name: str, field: str) -> dict | None:
    for entry in entries or []:
        if isinstance(entry, dict) and entry.get("name") == name:
            value = entry.get(field)
            return value if isinstance(value, dict) else {}
    return None


def direct_settings(raw: dict, context: str, path: str) -> Direct | None:
    """A Direct for this context when its cluster and user use only certificates and a token, else None."""
    import base64

    ctx = _named(raw.get("contexts"), context, "context") or {}
    cluster = _named(raw.get("clusters"), ctx.get("cluster"), "cluster")
    user = _named(raw.get("users"), ctx.get("user"), "user")
    if not cluster or not cluster.get("server") or user is None:
        return None
    if set(cluster) - _DIRECT_CLUSTER_KEYS or set(user) - _DIRECT_USER_KEYS:
        return None
    if ("client-certificate" in user or "client-certificate-data" in user) != (
            "client-key" in user or "client-key-data" in user):
        return None  # the kubernetes loader names what is missing

    def relative(name):  # paths in a kubeconfig are relative to its directory
        return os.path.join(os.path.dirname(os.path.abspath(path)), os.path.expanduser(name))

    try:
        config = Direct(cluster["server"])
        if cluster.get("certificate-authority-data"):
            config.ca_data = base64.b64decode(cluster["certificate-authority-data"]).decode()
        elif cluster.get("certificate-authority"):
            config.ssl_ca_cert = relative(cluster["certificate-authority"])
        config.verify_ssl = not cluster.get("insecure-skip-tls-verify", False)
        if user.get("client-certificate-data"):
            config.cert_data = base64.b64decode(user["client-certificate-data"])
        elif user.get("client-certificate"):
            config.cert_file = relative(user["client-certificate"])
        if user.get("client-key-data"):
            config.key_data = base64.b64decode(user["client-key-data"])
        elif user.get("client-key"):
            config.key_file = relative(user["client-key"])
    except (ValueError, TypeError, AttributeError):
        return None  # not base64 / not text: the kubernetes loader words the error
    if user.get("token"):
        config.api_key = {"authorization": f"Bearer {user['token']}"}
    return config


def _load_kubeconfig(path: str, context: str | None):
    """The connection settings of a kubeconfig file, with clear errors for the usual mistakes."""
    import yaml

    if not os.path.isfile(path):
        raise KubeError(
            f"kubeconfig {path} does not exist: run the kubeconfig stage (or `make envtest-up` "
            "for the local target), or set mlops_kubeconfig / the kubeconfig option to the right file"
        )
    try:
        with open(path, encoding="utf-8") as f:
            raw = yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    except (OSError, yaml.YAMLError) as e:
        raise KubeError(f"kubeconfig {path} cannot be read as YAML: {e}") from e
    if not isinstance(raw, dict):
        raise KubeError(f"kubeconfig {path} is not a mapping: give a kubeconfig file")
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
    direct = direct_settings(raw, wanted, path)
    if direct is not None:
        return direct
    from kubernetes.client import Configuration
    from kubernetes.config.config_exception import ConfigException
    from kubernetes.config.kube_config import load_kube_config

    config = Configuration()
    try:
        load_kube_config(config_file=path, context=wanted, client_configuration=config, persist_config=False)
    except (ConfigException, OSError, ValueError) as e:
        raise KubeError(f"kubeconfig {path} context {wanted!r} is not usable: {e}") from e
    return config
