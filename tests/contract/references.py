"""Checks of the references between rendered objects (and between them and our config).

Each check is a pure function of the rendered objects; it returns Problems, and each Problem
names the two objects that disagree. Where an operator creates objects the charts do not
render (CloudNativePG's Services and pods, the Prometheus operator's `prometheus-operated`
Service, cert-manager's TLS Secrets), `made_by_controllers` adds them as the operators' docs
describe, so a reference to them resolves.
"""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass, field

from .render import Obj, Rendered

SVC_HOST = re.compile(
    r"^(?:(?P<scheme>[a-z][a-z0-9+.-]*)://)?(?P<name>[a-z0-9]([-a-z0-9]*[a-z0-9])?)\."
    r"(?P<ns>[a-z0-9]([-a-z0-9]*[a-z0-9])?)\.svc(?:\.cluster\.local)?(?::(?P<port>\d+))?(?:[/?].*)?$"
)
DEFAULT_PORTS = {"http": 80, "https": 443, "postgresql": 5432, "postgres": 5432, "s3": 443}
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "ReplicaSet", "Pod")


@dataclass(frozen=True)
class Problem:
    """`a` refers to `b`, and they disagree: `why`."""

    a: str
    b: str
    why: str

    def __str__(self) -> str:
        return f"{self.a} -> {self.b}: {self.why}"


@dataclass
class Service:
    ref: str
    namespace: str
    name: str
    ports: dict[int, str]
    labels: dict = field(default_factory=dict)


@dataclass
class PodShape:
    """A pod a workload (or an operator, for a custom resource) runs."""

    ref: str
    app: str
    namespace: str
    labels: dict
    spec: dict


# -- objects derived from the rendered ones ------------------------------------------------


def pod_template(obj: Obj) -> dict | None:
    body = obj.body
    if obj.kind == "Pod":
        return body
    if obj.kind == "CronJob":
        return (((body.get("spec") or {}).get("jobTemplate") or {}).get("spec") or {}).get("template")
    if obj.kind in WORKLOAD_KINDS:
        return (body.get("spec") or {}).get("template")
    return None


def cnpg_pod(obj: Obj) -> PodShape:
    """The instance pod CloudNativePG runs for a Cluster: its affinity block as nodeSelector,
    tolerations and node affinity, the PVC of spec.storage, the metrics port 9187."""
    spec = obj.body.get("spec") or {}
    aff = spec.get("affinity") or {}
    pod = {
        "nodeSelector": aff.get("nodeSelector") or {},
        "tolerations": aff.get("tolerations") or [],
        "containers": [
            {
                "name": "postgres",
                "image": spec.get("imageName", ""),
                "ports": [
                    {"name": "postgresql", "containerPort": 5432},
                    {"name": "metrics", "containerPort": 9187},
                ],
            }
        ],
        "volumes": [{"name": "pgdata", "persistentVolumeClaim": {"claimName": obj.name + "-1"}}],
    }
    if aff.get("additionalPodAffinity") or aff.get("nodeAffinity"):
        pod["affinity"] = {"nodeAffinity": aff.get("nodeAffinity")} if aff.get("nodeAffinity") else {}
    labels = {"cnpg.io/cluster": obj.name, "cnpg.io/podRole": "instance"}
    return PodShape(f"{obj.ref} (its instance pod)", obj.app, obj.namespace, labels, pod)


def prometheus_pod(obj: Obj) -> PodShape:
    """The StatefulSet pod the Prometheus operator runs for a Prometheus (or Alertmanager)."""
    spec = obj.body.get("spec") or {}
    pod = {
        "nodeSelector": spec.get("nodeSelector") or {},
        "tolerations": spec.get("tolerations") or [],
        "containers": [{"name": obj.kind.lower(), "image": spec.get("image", "")}],
    }
    if spec.get("affinity"):
        pod["affinity"] = spec["affinity"]
    if (spec.get("storage") or spec.get("storageSpec") or {}).get("volumeClaimTemplate"):
        pod["volumes"] = [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}]
    name = "prometheus" if obj.kind == "Prometheus" else "alertmanager"
    labels = {"app.kubernetes.io/name": name, name: obj.name}
    return PodShape(f"{obj.ref} (its pod)", obj.app, obj.namespace, labels, pod)


def pods(rendered: Rendered, extra: bool = False) -> list[PodShape]:
    """The pods the rendered workloads run; with extra, also those of the installed release
    manifests (Argo Workflows' controller, which a platform PodMonitor scrapes)."""
    out = []
    for obj in rendered.objects + (rendered.extra if extra else []):
        tpl = pod_template(obj)
        if tpl is not None:
            meta = tpl.get("metadata") or {}
            out.append(
                PodShape(obj.ref, obj.app, obj.namespace, meta.get("labels") or {}, tpl.get("spec") or {})
            )
        elif obj.kind == "Cluster" and obj.body.get("apiVersion", "").startswith("postgresql.cnpg.io/"):
            out.append(cnpg_pod(obj))
        elif obj.kind in ("Prometheus", "Alertmanager"):
            out.append(prometheus_pod(obj))
    return out


def services(rendered: Rendered) -> dict[tuple[str, str], Service]:
    out = {}
    for obj in rendered.of_kind("Service", extra=True):
        ports = {int(p["port"]): p.get("name", "") for p in (obj.body.get("spec") or {}).get("ports") or []}
        out[(obj.namespace, obj.name)] = Service(
            obj.ref, obj.namespace, obj.name, ports, (obj.body.get("metadata") or {}).get("labels") or {}
        )
    return out


def _service(app: str, ns: str, name: str, ports: dict[str, int], labels: dict, maker: str) -> Obj:
    body = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "spec": {"ports": [{"name": n, "port": p} for n, p in ports.items()]},
    }
    return Obj(app, body, ns, maker)


def made_by_controllers(rendered: Rendered) -> list[Obj]:
    """The Services operators make from rendered objects, as their documentation gives them:
    CloudNativePG's <cluster>-rw/-ro/-r, the Prometheus operator's prometheus-operated,
    alertmanager-operated and the kubelet Service it maintains (--kubelet-service)."""
    out = []
    for obj in rendered.of_kind("Cluster"):
        if obj.body.get("apiVersion", "").startswith("postgresql.cnpg.io/"):
            for suffix in ("rw", "ro", "r"):
                out.append(
                    _service(
                        obj.app,
                        obj.namespace,
                        f"{obj.name}-{suffix}",
                        {"postgres": 5432},
                        {"cnpg.io/cluster": obj.name},
                        f"CloudNativePG for {obj.ref}",
                    )
                )
    for obj in rendered.of_kind("Prometheus"):
        out.append(
            _service(
                obj.app,
                obj.namespace,
                "prometheus-operated",
                {"web": 9090},
                {"operated-prometheus": "true"},
                f"the Prometheus operator for {obj.ref}",
            )
        )
    for obj in rendered.of_kind("Alertmanager"):
        out.append(
            _service(
                obj.app,
                obj.namespace,
                "alertmanager-operated",
                {"http-web": 9093},
                {"operated-alertmanager": "true"},
                f"the Prometheus operator for {obj.ref}",
            )
        )
    for shape in pods(rendered):
        for c in shape.spec.get("containers") or []:
            for arg in c.get("args") or []:
                if str(arg).startswith("--kubelet-service="):
                    ns, _, name = str(arg).split("=", 1)[1].partition("/")
                    out.append(
                        _service(
                            shape.app,
                            ns,
                            name,
                            {"https-metrics": 10250, "http-metrics": 10255, "cadvisor": 4194},
                            {
                                "app.kubernetes.io/name": "kubelet",
                                "k8s-app": "kubelet",
                                "app.kubernetes.io/managed-by": "prometheus-operator",
                            },
                            f"the Prometheus operator ({shape.ref})",
                        )
                    )
    return out


# -- 1. every URL or host:port our config gives an app resolves to a Service port ----------


def service_refs(tree, where: str):
    """(where, host, port-or-None, scheme) for every in-cluster address in a values tree."""
    if isinstance(tree, dict):
        host = tree.get("host")
        if isinstance(host, str) and SVC_HOST.match(host) and isinstance(tree.get("port"), int | str):
            m = SVC_HOST.match(host)
            yield (f"{where}.host/port", m["name"], m["ns"], int(tree["port"]), m["scheme"])
        for k, v in tree.items():
            if k == "host" and isinstance(tree.get("port"), int | str):
                continue
            yield from service_refs(v, f"{where}.{k}")
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            yield from service_refs(v, f"{where}[{i}]")
    elif isinstance(tree, str):
        m = SVC_HOST.match(tree.strip())
        if m:
            port = int(m["port"]) if m["port"] else DEFAULT_PORTS.get(m["scheme"] or "http")
            yield (where, m["name"], m["ns"], port, m["scheme"])


def check_service_refs(rendered: Rendered, config: dict, config_name: str) -> tuple[list[Problem], int]:
    svcs = services(rendered)
    refs = []
    for app in rendered.applications:
        values = ((app["spec"]["source"].get("helm") or {}).get("valuesObject")) or {}
        refs += [
            (f"Application {app['metadata']['name']} values {w}", *r) for w, *r in service_refs(values, "")
        ]
    refs += [(f"{config_name} {w.lstrip('.')}", *r) for w, *r in service_refs(config, "")]
    problems = []
    for where, name, ns, port, _scheme in refs:
        svc = svcs.get((ns, name))
        if svc is None:
            problems.append(
                Problem(where, f"Service {ns}/{name}", "no such Service in the rendered manifests")
            )
        elif port not in svc.ports:
            problems.append(
                Problem(where, svc.ref, f"port {port} is not one of its ports {sorted(svc.ports)}")
            )
    return problems, len(refs)


def check_ingresses(rendered: Rendered) -> tuple[list[Problem], int]:
    """Ingress -> its IngressClass, backend Service port, ClusterIssuer and Traefik middlewares."""
    svcs = services(rendered)
    classes = {o.name for o in rendered.of_kind("IngressClass")}
    issuers = {o.name for o in rendered.of_kind("ClusterIssuer")}
    middlewares = {(o.namespace, o.name) for o in rendered.of_kind("Middleware")}
    problems, n = [], 0
    for ing in rendered.of_kind("Ingress"):
        spec = ing.body.get("spec") or {}
        ann = (ing.body.get("metadata") or {}).get("annotations") or {}
        n += 1
        if spec.get("ingressClassName") not in classes:
            problems.append(
                Problem(
                    ing.ref,
                    f"IngressClass {spec.get('ingressClassName')}",
                    f"not rendered (IngressClasses: {sorted(classes)})",
                )
            )
        issuer = ann.get("cert-manager.io/cluster-issuer")
        if spec.get("tls") and issuer not in issuers:
            problems.append(
                Problem(
                    ing.ref, f"ClusterIssuer {issuer}", f"not rendered (ClusterIssuers: {sorted(issuers)})"
                )
            )
        for mw in filter(
            None, (ann.get("traefik.ingress.kubernetes.io/router.middlewares") or "").split(",")
        ):
            ref = mw.strip().removesuffix("@kubernetescrd")
            mw_ns, _, mw_name = ref.partition("-")
            found = any(ref == f"{ns}-{name}" for ns, name in middlewares)
            if not found:
                problems.append(Problem(ing.ref, f"Middleware {mw_ns}/{mw_name}", "not rendered"))
        for rule in spec.get("rules") or []:
            for path in ((rule.get("http") or {}).get("paths")) or []:
                backend = (path.get("backend") or {}).get("service") or {}
                n += 1
                svc = svcs.get((ing.namespace, backend.get("name")))
                port = backend.get("port") or {}
                if svc is None:
                    problems.append(
                        Problem(ing.ref, f"Service {ing.namespace}/{backend.get('name')}", "no such Service")
                    )
                elif port.get("number") not in svc.ports and port.get("name") not in svc.ports.values():
                    problems.append(Problem(ing.ref, svc.ref, f"port {port} is not one of {svc.ports}"))
    for route in rendered.of_kind("IngressRoute"):
        spec = route.body.get("spec") or {}
        transports = {o.name for o in rendered.of_kind("ServersTransport") if o.namespace == route.namespace}
        certs = {
            (o.body.get("spec") or {}).get("secretName")
            for o in rendered.of_kind("Certificate")
            if o.namespace == route.namespace
        }
        secret = (spec.get("tls") or {}).get("secretName")
        if secret and secret not in certs:
            problems.append(
                Problem(route.ref, f"Secret {route.namespace}/{secret}", "no rendered Certificate makes it")
            )
        for r in spec.get("routes") or []:
            for backend in r.get("services") or []:
                n += 1
                ns = backend.get("namespace") or route.namespace
                svc = svcs.get((ns, backend.get("name")))
                if svc is None:
                    problems.append(
                        Problem(route.ref, f"Service {ns}/{backend.get('name')}", "no such Service")
                    )
                elif backend.get("port") not in svc.ports and backend.get("port") not in svc.ports.values():
                    problems.append(
                        Problem(route.ref, svc.ref, f"port {backend.get('port')} is not one of {svc.ports}")
                    )
                if backend.get("serversTransport") and backend["serversTransport"] not in transports:
                    problems.append(
                        Problem(
                            route.ref,
                            f"ServersTransport {route.namespace}/{backend['serversTransport']}",
                            "not rendered",
                        )
                    )
    return problems, n


# -- 2. every namespace a rendered object uses is allowed by its Application's AppProject ---


def check_projects(rendered: Rendered, projects: dict, namespaced: dict) -> tuple[list[Problem], int]:
    problems, n = [], 0
    for obj in rendered.objects:
        app = rendered.app(obj.app)
        proj_name = app["spec"]["project"]
        proj = projects.get(proj_name)
        n += 1
        if proj is None:
            problems.append(
                Problem(f"Application {obj.app}", f"AppProject {proj_name}", "no such AppProject")
            )
            continue
        spec = proj["spec"]
        group = obj.body["apiVersion"].rpartition("/")[0] if "/" in obj.body["apiVersion"] else ""
        if namespaced[(obj.body["apiVersion"], obj.kind)]:
            ns = obj.namespace or obj.destination
            if not any(
                fnmatch.fnmatchcase(ns, d.get("namespace", "")) for d in spec.get("destinations") or []
            ):
                problems.append(
                    Problem(
                        obj.ref,
                        f"AppProject {proj_name}",
                        f"namespace {ns} is not among its destinations "
                        f"{[d.get('namespace') for d in spec.get('destinations') or []]}",
                    )
                )
        else:
            allowed = spec.get("clusterResourceWhitelist") or []
            if not any(
                fnmatch.fnmatchcase(group, a.get("group", ""))
                and fnmatch.fnmatchcase(obj.kind, a.get("kind", ""))
                for a in allowed
            ):
                problems.append(
                    Problem(
                        obj.ref,
                        f"AppProject {proj_name}",
                        f"cluster-scoped {group or 'core'}/{obj.kind} is not in its clusterResourceWhitelist",
                    )
                )
    return problems, n


# -- 3. monitors are selected by the rendered Prometheus and name ports that exist ----------


def label_selector_matches(selector: dict | None, labels: dict) -> bool:
    """metav1.LabelSelector semantics; None matches nothing, {} matches everything."""
    if selector is None:
        return False
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def ns_labels(ns: str) -> dict:
    return {"kubernetes.io/metadata.name": ns}


MONITOR_FIELDS = {
    "ServiceMonitor": ("serviceMonitorSelector", "serviceMonitorNamespaceSelector"),
    "PodMonitor": ("podMonitorSelector", "podMonitorNamespaceSelector"),
    "Probe": ("probeSelector", "probeNamespaceSelector"),
}


def _selected_by(prom: Obj, mon: Obj) -> bool:
    sel_field, ns_field = MONITOR_FIELDS[mon.kind]
    spec = prom.body.get("spec") or {}
    ns_sel = spec.get(ns_field)
    in_ns = (
        mon.namespace == prom.namespace
        if ns_sel is None
        else label_selector_matches(ns_sel, ns_labels(mon.namespace))
    )
    mon_labels = (mon.body.get("metadata") or {}).get("labels") or {}
    return in_ns and label_selector_matches(spec.get(sel_field), mon_labels)


def _monitor_namespaces(mon: Obj) -> set[str] | None:
    sel = (mon.body.get("spec") or {}).get("namespaceSelector") or {}
    if sel.get("any"):
        return None
    return set(sel.get("matchNames") or [mon.namespace])


def check_monitors(rendered: Rendered) -> tuple[list[Problem], int]:
    proms = rendered.of_kind("Prometheus")
    svc_objs = rendered.of_kind("Service", extra=True)
    shapes = pods(rendered, extra=True)
    problems, n = [], 0
    for mon in rendered.of_kind(*MONITOR_FIELDS):
        n += 1
        if not any(_selected_by(p, mon) for p in proms):
            problems.append(
                Problem(
                    mon.ref,
                    ", ".join(p.ref for p in proms) or "Prometheus (none rendered)",
                    "no rendered Prometheus selects it (labels or namespace)",
                )
            )
        spec = mon.body.get("spec") or {}
        namespaces = _monitor_namespaces(mon)
        if mon.kind == "ServiceMonitor":
            matched = [
                s
                for s in svc_objs
                if (namespaces is None or s.namespace in namespaces)
                and label_selector_matches(
                    spec.get("selector") or {}, (s.body.get("metadata") or {}).get("labels") or {}
                )
            ]
            if not matched:
                problems.append(
                    Problem(
                        mon.ref, f"Service with labels {spec.get('selector')}", "no rendered Service matches"
                    )
                )
            for ep in spec.get("endpoints") or []:
                if ep.get("port") and not any(
                    ep["port"] == p.get("name")
                    for s in matched
                    for p in (s.body.get("spec") or {}).get("ports") or []
                ):
                    problems.append(
                        Problem(
                            mon.ref,
                            ", ".join(s.ref for s in matched) or "its Services",
                            f"no port named {ep['port']!r}",
                        )
                    )
        elif mon.kind == "PodMonitor":
            matched = [
                p
                for p in shapes
                if (namespaces is None or p.namespace in namespaces)
                and label_selector_matches(spec.get("selector") or {}, p.labels)
            ]
            if not matched:
                problems.append(
                    Problem(
                        mon.ref, f"pods with labels {spec.get('selector')}", "no rendered workload runs them"
                    )
                )
            for ep in spec.get("podMetricsEndpoints") or []:
                names = {
                    port.get("name")
                    for p in matched
                    for c in p.spec.get("containers") or []
                    for port in c.get("ports") or []
                }
                if ep.get("port") and ep["port"] not in names:
                    problems.append(
                        Problem(
                            mon.ref,
                            ", ".join(p.ref for p in matched) or "its pods",
                            f"no container port named {ep['port']!r}",
                        )
                    )
    return problems, n


# -- 4. dashboards query labels and namespaces that exist -----------------------------------

MATCHER = re.compile(r'(?P<label>[a-zA-Z_][a-zA-Z0-9_]*)\s*(?P<op>=~|!~|!=|=)\s*"(?P<value>[^"]*)"')


def dashboards(rendered: Rendered) -> list[tuple[str, dict]]:
    """(where, dashboard) from the Grafana values of each Application and rendered ConfigMaps."""
    out = []
    for app in rendered.applications:
        values = ((app["spec"]["source"].get("helm") or {}).get("valuesObject")) or {}
        for app_values in [values.get("grafana") or {}, values]:
            for folder, boards in (app_values.get("dashboards") or {}).items():
                for name, board in (boards or {}).items():
                    if isinstance(board, dict) and board.get("json"):
                        out.append(
                            (
                                f"Application {app['metadata']['name']} dashboard {folder}/{name}",
                                json.loads(board["json"]),
                            )
                        )
    return out


def expand(value: str, variables: dict[str, list[str]]) -> list[str]:
    for var, options in variables.items():
        if f"${var}" in value or f"${{{var}}}" in value:
            return [value.replace(f"${{{var}}}", o).replace(f"${var}", o) for o in options]
    return [value]


def check_dashboards(rendered: Rendered, namespaces: set[str]) -> tuple[list[Problem], int]:
    problems, n = [], 0
    for where, board in dashboards(rendered):
        variables = {
            v["name"]: [o.strip() for o in str(v.get("query", "")).split(",")]
            for v in (board.get("templating") or {}).get("list") or []
            if v.get("type") == "custom"
        }
        for panel in board.get("panels") or []:
            for target in panel.get("targets") or []:
                expr = target.get("expr") or ""
                for var in re.findall(r"\$\{?([a-zA-Z_]\w*)", expr):
                    n += 1
                    if var not in variables and var not in ("__interval", "__rate_interval", "__range"):
                        problems.append(
                            Problem(
                                f"{where} panel {panel.get('title')!r}",
                                f"dashboard variable ${var}",
                                "used but not defined",
                            )
                        )
                for m in MATCHER.finditer(expr):
                    if m["label"] != "namespace":
                        continue
                    for value in expand(m["value"], variables):
                        n += 1
                        regex = m["op"] in ("=~", "!~")
                        hit = (
                            any(re.fullmatch(value, ns) for ns in namespaces)
                            if regex
                            else value in namespaces
                        )
                        if not hit:
                            problems.append(
                                Problem(
                                    f"{where} panel {panel.get('title')!r}",
                                    f"Namespace {value}",
                                    "queried but no such namespace is declared",
                                )
                            )
    return problems, n


# -- 5. every Secret key an app reads exists -----------------------------------------------


def secret_reads(rendered: Rendered):
    """(reader ref, namespace, secret, key or None, optional) for every Secret a pod or CR reads."""
    for shape in pods(rendered):
        spec = shape.spec
        for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
            for env in c.get("env") or []:
                ref = (env.get("valueFrom") or {}).get("secretKeyRef")
                if ref:
                    yield shape.ref, shape.namespace, ref["name"], ref["key"], bool(ref.get("optional"))
            for src in c.get("envFrom") or []:
                if src.get("secretRef"):
                    yield (
                        shape.ref,
                        shape.namespace,
                        src["secretRef"]["name"],
                        None,
                        bool(src["secretRef"].get("optional")),
                    )
        for vol in spec.get("volumes") or []:
            sec = vol.get("secret")
            if sec:
                keys = [i["key"] for i in sec.get("items") or []] or [None]
                for key in keys:
                    yield shape.ref, shape.namespace, sec["secretName"], key, bool(sec.get("optional"))
            for proj in ((vol.get("projected") or {}).get("sources")) or []:
                sec = proj.get("secret")
                if sec:
                    for key in [i["key"] for i in sec.get("items") or []] or [None]:
                        yield shape.ref, shape.namespace, sec["name"], key, bool(sec.get("optional"))
    for obj in rendered.of_kind("Cluster"):
        spec = obj.body.get("spec") or {}
        initdb = ((spec.get("bootstrap") or {}).get("initdb")) or {}
        if (initdb.get("secret") or {}).get("name"):
            for key in ("username", "password"):
                yield obj.ref, obj.namespace, initdb["secret"]["name"], key, False
        for role in ((spec.get("managed") or {}).get("roles")) or []:
            if (role.get("passwordSecret") or {}).get("name"):
                for key in ("username", "password"):
                    yield obj.ref, obj.namespace, role["passwordSecret"]["name"], key, False
        for where, store in barman_object_stores(obj):
            for ref in (store.get("s3Credentials") or {}).values():
                if isinstance(ref, dict):  # not inheritFromIAMRole
                    yield f"{obj.ref} {where}", obj.namespace, ref["name"], ref["key"], False


def barman_object_stores(cluster: Obj) -> list[tuple[str, dict]]:
    """(where, barmanObjectStore) of a CloudNativePG Cluster: its backups' and each external cluster's."""
    spec = cluster.body.get("spec") or {}
    out = []
    if ((spec.get("backup") or {}).get("barmanObjectStore")) is not None:
        out.append(("spec.backup.barmanObjectStore", spec["backup"]["barmanObjectStore"]))
    for i, ext in enumerate(spec.get("externalClusters") or []):
        if ext.get("barmanObjectStore") is not None:
            out.append(
                (
                    f"spec.externalClusters[{i}] ({ext.get('name')}).barmanObjectStore",
                    ext["barmanObjectStore"],
                )
            )
    return out


def known_secrets(rendered: Rendered) -> dict[tuple[str, str], tuple[str, set[str] | None]]:
    """(ns, name) -> (who makes it, its keys or None when only its maker knows them)."""
    out: dict = {}
    for (ns, name), keys in rendered.secrets.items():
        out[(ns, name)] = (f"Secret {ns}/{name} (made by the platform role)", set(keys))
    for obj in rendered.of_kind("Secret"):
        keys = set((obj.body.get("data") or {}).keys()) | set((obj.body.get("stringData") or {}).keys())
        out.setdefault((obj.namespace, obj.name), (obj.ref, keys))
    # cert-manager writes each Ingress's TLS Secret (ingress-shim) and each Certificate's.
    for obj in rendered.of_kind("Ingress"):
        for tls in (obj.body.get("spec") or {}).get("tls") or []:
            out.setdefault(
                (obj.namespace, tls.get("secretName")),
                (
                    f"Secret {obj.namespace}/{tls.get('secretName')} (made by cert-manager for {obj.ref})",
                    {"tls.crt", "tls.key", "ca.crt"},
                ),
            )
    # kube-webhook-certgen's `create` (a chart's hook Job) writes a webhook certificate Secret.
    for shape in pods(rendered):
        for c in shape.spec.get("containers") or []:
            args = [str(a) for a in c.get("args") or []]
            if args[:1] == ["create"] and "kube-webhook-certgen" in c.get("image", ""):
                opts = dict(a[2:].split("=", 1) for a in args[1:] if a.startswith("--") and "=" in a)
                key = (opts.get("namespace", shape.namespace), opts.get("secret-name"))
                out.setdefault(
                    key, (f"Secret {key[0]}/{key[1]} (made by {shape.ref})", {"ca", "cert", "key"})
                )
    for obj in rendered.of_kind("Certificate"):
        name = (obj.body.get("spec") or {}).get("secretName")
        out.setdefault(
            (obj.namespace, name),
            (
                f"Secret {obj.namespace}/{name} (made by cert-manager for {obj.ref})",
                {"tls.crt", "tls.key", "ca.crt"},
            ),
        )
    return out


def check_secret_keys(rendered: Rendered, operator_secrets: dict[str, str]) -> tuple[list[Problem], int]:
    """operator_secrets: Secret name patterns other controllers make (e.g. a chart's own webhook
    certificate Secret) -> who makes them; those resolve without keys to check."""
    known = known_secrets(rendered)
    problems, n = [], 0
    for reader, ns, name, key, optional in secret_reads(rendered):
        n += 1
        maker = known.get((ns, name))
        if maker is None:
            if optional or any(fnmatch.fnmatchcase(f"{ns}/{name}", pat) for pat in operator_secrets):
                continue
            problems.append(Problem(reader, f"Secret {ns}/{name}", "nothing makes this Secret"))
        elif key is not None and maker[1] is not None and key not in maker[1] and not optional:
            problems.append(Problem(reader, maker[0], f"has no key {key!r} (keys: {sorted(maker[1])})"))
    return problems, n


# -- 6. every PersistentVolumeClaim gets the storage class and size from our config ---------


def claims(rendered: Rendered):
    """(ref, app, storage class or None, size) for every volume claim an app asks for."""

    def claim(ref: str, app: str, spec: dict) -> tuple:  # a PersistentVolumeClaim's spec
        return (
            ref,
            app,
            spec.get("storageClassName"),
            ((spec.get("resources") or {}).get("requests") or {}).get("storage"),
        )

    for obj in rendered.objects:
        spec = obj.body.get("spec") or {}
        if obj.kind == "PersistentVolumeClaim":
            yield claim(obj.ref, obj.app, spec)
        elif obj.kind == "StatefulSet":
            for vct in spec.get("volumeClaimTemplates") or []:
                yield claim(
                    f"{obj.ref} volumeClaimTemplate {vct['metadata']['name']}", obj.app, vct.get("spec") or {}
                )
        elif obj.kind in ("Prometheus", "Alertmanager"):
            vct = (spec.get("storage") or {}).get("volumeClaimTemplate")
            if vct:
                yield claim(f"{obj.ref} storage", obj.app, vct.get("spec") or {})
        elif obj.kind == "Cluster" and obj.body.get("apiVersion", "").startswith("postgresql.cnpg.io/"):
            for key in ("storage", "walStorage"):
                if spec.get(key):
                    yield f"{obj.ref} {key}", obj.app, spec[key].get("storageClass"), spec[key].get("size")


def check_claims(rendered: Rendered, storage_class: str, sizes: dict[str, str]) -> tuple[list[Problem], int]:
    """sizes: Application name -> the size our config gives its volume."""
    problems, n = [], 0
    for ref, app, klass, size in claims(rendered):
        n += 1
        config = f"our config (storage class {storage_class!r}, {app} size {sizes.get(app)!r})"
        if (klass or "") != storage_class:
            problems.append(Problem(ref, config, f"storage class {klass!r}"))
        if app not in sizes:
            problems.append(Problem(ref, "our config", f"{app} has a volume of {size} but no size setting"))
        elif size != sizes[app]:
            problems.append(Problem(ref, config, f"size {size!r}"))
    return problems, n


# -- images ---------------------------------------------------------------------------------

IMAGE_ARG = re.compile(r"^--[a-z0-9-]*(?:image|reloader)[a-z0-9-]*=(?P<image>[^\s,]+)$")


def images(rendered: Rendered):
    """(ref, image) for every image a rendered object runs or makes a controller run."""
    for shape in pods(rendered):
        for c in (
            (shape.spec.get("containers") or [])
            + (shape.spec.get("initContainers") or [])
            + (shape.spec.get("ephemeralContainers") or [])
        ):
            if c.get("image"):
                yield shape.ref, c["image"]
            for arg in (c.get("args") or []) + (c.get("command") or []):
                m = IMAGE_ARG.match(str(arg))
                if m and "/" in m["image"]:
                    yield f"{shape.ref} arg", m["image"]
            for env in c.get("env") or []:
                if env.get("name", "").endswith("IMAGE_NAME") and env.get("value"):
                    yield f"{shape.ref} env {env['name']}", env["value"]


def normalise(image: str) -> tuple[str, str, str]:
    """(registry, repository, tag or digest) as a container runtime reads the reference."""
    name, sep, digest = image.partition("@")
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        registry, path = first, rest
    else:
        registry, path = "docker.io", name
    if registry == "docker.io" and "/" not in path:
        path = "library/" + path
    repo, _, tag = path.rpartition(":") if ":" in path.rsplit("/", 1)[-1] else (path, "", "")
    return registry, repo, digest if sep else tag


def check_images(rendered: Rendered, policy: dict) -> tuple[list[Problem], int]:
    return check_image_refs(images(rendered), policy)


def check_image_refs(refs, policy: dict) -> tuple[list[Problem], int]:
    """Each (ref, image) against the policy: allowed, not denied, pinned."""
    allowed = policy.get("allowed") or {}
    denied = policy.get("denied") or {}
    problems, n = [], 0
    for ref, image in refs:
        n += 1
        registry, repo, tag = normalise(image)
        reason = next(
            (why for pat, why in denied.items() if fnmatch.fnmatchcase(f"{registry}/{repo}", pat)), None
        )
        if reason:
            problems.append(Problem(ref, f"image policy: denied {registry}/{repo}", reason))
        elif not any(fnmatch.fnmatchcase(repo, pat) for pat in allowed.get(registry) or []):
            problems.append(
                Problem(ref, "image policy", f"{image} ({registry}/{repo}) is not an allowed repository")
            )
        elif not tag or tag == "latest":
            problems.append(Problem(ref, "image policy", f"{image} is not pinned to a tag or digest"))
    return problems, n
