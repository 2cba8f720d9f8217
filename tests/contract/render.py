"""Render ArgoCD Applications of Helm charts as ArgoCD would: `helm template` of the pinned chart
with the Application's values, release name and destination namespace."""

from __future__ import annotations

import json
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml


class LOADER(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """Safe loading, with a plain `=` read as the string it is in some CRDs' schemas (YAML 1.1
    would make it the 'value' tag, which no loader constructs), and an unquoted timestamp read as
    a string, as Kubernetes' and ArgoCD's YAML decoding (go-yaml v2 into interface{}) reads it
    (the cluster chart renders a recovery target time unquoted)."""


LOADER.add_constructor("tag:yaml.org,2002:value", yaml.constructor.SafeConstructor.construct_yaml_str)
LOADER.add_constructor("tag:yaml.org,2002:timestamp", yaml.constructor.SafeConstructor.construct_yaml_str)


@dataclass
class Obj:
    """One rendered object and the Application it comes from."""

    app: str
    body: dict
    #: The Application's destination namespace, which ArgoCD gives namespaced objects without one.
    destination: str = ""
    #: For an object a controller makes (references.made_by_controllers): who makes it.
    maker: str = ""

    @property
    def kind(self) -> str:
        return self.body.get("kind", "")

    @property
    def name(self) -> str:
        return (self.body.get("metadata") or {}).get("name", "")

    @property
    def namespace(self) -> str:
        return (self.body.get("metadata") or {}).get("namespace", "")

    @property
    def ref(self) -> str:
        ns = f"{self.namespace}/" if self.namespace else ""
        origin = f"made by {self.maker}" if self.maker else f"Application {self.app}"
        return f"{self.kind} {ns}{self.name} ({origin})"


@dataclass
class Rendered:
    applications: list[dict]
    objects: list[Obj] = field(default_factory=list)
    #: (namespace, name) -> the data keys of the Secrets the roles made, read from the API.
    secrets: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    #: Objects controllers make from the rendered ones (and the cluster's own), for references.
    extra: list[Obj] = field(default_factory=list)

    def of_kind(self, *kinds: str, extra: bool = False) -> list[Obj]:
        """Rendered objects of these kinds; with extra, also those controllers make."""
        return [o for o in self.objects + (self.extra if extra else []) if o.kind in kinds]

    def app(self, name: str) -> dict:
        return next(a for a in self.applications if a["metadata"]["name"] == name)


def fixture_chart(charts: Path, chart: str, version: str) -> Path | None:
    """The packaged chart index.yaml lists for this name and version, or None."""
    index = yaml.load((charts / "index.yaml").read_text(), Loader=LOADER)
    for entry in index.get("entries", {}).get(chart, []):
        if str(entry.get("version")) == str(version):
            return charts / entry["urls"][0].rsplit("/", 1)[-1]
    return None


def helm_template(
    helm: str,
    chart: Path,
    release: str,
    namespace: str,
    values: dict,
    kube_version: str,
    api_versions: list[str],
) -> list[dict]:
    with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
        json.dump(values, f)
        f.flush()
        cmd = [
            helm,
            "template",
            release,
            str(chart),
            "--namespace",
            namespace,
            "--kube-version",
            kube_version,
            "--include-crds",
            "--skip-tests",
            "-f",
            f.name,
        ]
        for v in api_versions:
            cmd += ["--api-versions", v]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603
    if proc.returncode != 0:
        raise AssertionError(f"helm template {chart.name} (release {release}) failed: {proc.stderr.strip()}")
    docs = [d for d in yaml.load_all(proc.stdout, Loader=LOADER) if d]
    # A v1 List (kube-prometheus-stack renders additional monitors as one) is applied item by
    # item, as ArgoCD splits it.
    return [item for d in docs for item in (d.get("items") or [] if d.get("kind") == "List" else [d])]


def api_versions_of(crds: list[dict]) -> list[str]:
    """What the cluster reports once these CRDs are installed (as ArgoCD passes to helm)."""
    out = set()
    for crd in crds:
        spec = crd["spec"]
        for v in spec.get("versions", []):
            out.add(f"{spec['group']}/{v['name']}")
            out.add(f"{spec['group']}/{v['name']}/{spec['names']['kind']}")
    return sorted(out)


def render_applications(
    helm: str, charts: Path, applications: list[dict], kube_version: str, secrets: dict
) -> Rendered:
    """Render every Application; helm sees the API versions of all the charts' CRDs, as on the cluster."""
    sources = []
    for app in applications:
        src = app["spec"]["source"]
        chart = fixture_chart(charts, src["chart"], src["targetRevision"])
        if chart is None or not chart.exists():
            raise AssertionError(
                f"Application {app['metadata']['name']} pins chart {src['chart']} {src['targetRevision']}, "
                f"which {charts} does not hold (index.yaml)"
            )
        helm_src = src.get("helm") or {}
        sources.append(
            (
                app,
                chart,
                helm_src.get("releaseName") or app["metadata"]["name"],
                app["spec"]["destination"]["namespace"],
                helm_src.get("valuesObject") or {},
            )
        )

    def render_all(api_versions):
        out = []
        for app, chart, release, ns, values in sources:
            for body in helm_template(helm, chart, release, ns, values, kube_version, api_versions):
                body.setdefault("metadata", {})
                out.append(Obj(app["metadata"]["name"], body, ns))
        return out

    first = render_all([])
    crds = [o.body for o in first if o.kind == "CustomResourceDefinition"]
    objects = render_all(api_versions_of(crds))
    return Rendered(applications=applications, objects=objects, secrets=secrets)
