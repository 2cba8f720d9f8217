"""Logs: Loki and Fluent Bit as the platform renders them, and the references between them.

Fluent Bit's Loki output (in the rendered fluent-bit.conf) and Grafana's Loki data source (in
the rendered data source ConfigMap) must reach Loki's gateway Service on one of its ports; Loki's
chunks bucket must be one MinIO's bucket job makes; every environment, and the workflows'
namespace, has a log dashboard on that data source, querying a label Fluent Bit sets.
(The AppProject, Secret-key, image and volume-claim checks of test_platform.py cover both
Applications too.)
"""

from __future__ import annotations

import re

import pytest
import yaml

from . import references as refs
from .conftest import count

pytestmark = pytest.mark.controlplane

RUNS = ["shipped", "options"]


def objects(rendered, app: str, kind: str):
    return [o for o in rendered.of_kind(kind) if o.app == app]


def fluent_bit_outputs(rendered) -> list[dict]:
    """The [OUTPUT] sections of the rendered fluent-bit.conf, as {key lowercased: value}."""
    conf = next(
        o.body["data"]["fluent-bit.conf"]
        for o in objects(rendered, "fluent-bit", "ConfigMap")
        if "fluent-bit.conf" in (o.body.get("data") or {})
    )
    sections = re.split(r"^\s*\[(\w+)\]\s*$", conf, flags=re.M)
    out = []
    for name, body in zip(sections[1::2], sections[2::2], strict=True):
        if name.upper() == "OUTPUT":
            pairs = [line.strip().split(None, 1) for line in body.splitlines() if line.strip()]
            out.append({k.lower(): v for k, v in pairs})
    return out


def loki_gateway(rendered, host: str, port: int, where: str) -> refs.Service:
    m = refs.SVC_HOST.match(host)
    assert m, f"{where}: {host} is not an in-cluster Service address"
    svc = refs.services(rendered).get((m["ns"], m["name"]))
    assert svc is not None, f"{where}: {host} -> no such Service in the rendered manifests"
    assert port in svc.ports, f"{where}: port {port} -> {svc.ref} has ports {sorted(svc.ports)}"
    gateways = [o for o in objects(rendered, "loki", "Service") if o.name.endswith("-gateway")]
    assert [(o.namespace, o.name) for o in gateways] == [(svc.namespace, svc.name)], (
        f"{where}: {host} -> {svc.ref}, not Loki's gateway"
    )
    return svc


@pytest.mark.parametrize("run", RUNS)
def test_fluent_bit_pushes_to_lokis_gateway(platform, run):
    outputs = [o for o in fluent_bit_outputs(platform[run]) if o.get("name") == "loki"]
    assert outputs, "fluent-bit.conf has no loki [OUTPUT]"
    for out in outputs:
        loki_gateway(platform[run], out["host"], int(out["port"]), "fluent-bit.conf [OUTPUT] loki")
    count("Fluent Bit outputs checked", len(outputs))


def grafana_datasources(rendered) -> list[dict]:
    found = []
    for o in objects(rendered, "monitoring", "ConfigMap"):
        if (o.body["metadata"].get("labels") or {}).get("grafana_datasource"):
            for text in (o.body.get("data") or {}).values():
                found += (yaml.safe_load(text) or {}).get("datasources") or []
    return found


@pytest.mark.parametrize("run", RUNS)
def test_grafanas_loki_data_source_is_lokis_gateway(platform, run):
    lokis = [d for d in grafana_datasources(platform[run]) if d.get("type") == "loki"]
    assert len(lokis) == 1, f"Grafana has {len(lokis)} Loki data sources"
    url = lokis[0]["url"]
    m = re.match(r"^https?://([^:/]+)(?::(\d+))?", url)
    port = int(m[2] or (443 if url.startswith("https") else 80))
    loki_gateway(platform[run], m[1], port, f"Grafana data source {lokis[0]['name']}")
    count("Grafana data sources checked")


def test_lokis_bucket_is_one_minio_makes(platform):
    rendered = platform["shipped"]
    config = next(
        yaml.safe_load(o.body["data"]["config.yaml"])
        for o in objects(rendered, "loki", "ConfigMap")
        if "config.yaml" in (o.body.get("data") or {})
    )
    bucket = config["common"]["storage"]["s3"]["bucketnames"]
    minio = rendered.app("minio")["spec"]["source"]["helm"]["valuesObject"]
    made = [b["name"] for b in minio.get("buckets") or []]
    assert bucket in made, f"Loki stores in bucket {bucket}; MinIO's bucket job makes {made}"
    endpoint = config["common"]["storage"]["s3"]["endpoint"]
    m = refs.SVC_HOST.match(endpoint)
    assert m and (m["ns"], m["name"]) in refs.services(rendered), f"Loki's S3 endpoint {endpoint}"


def log_dashboards(rendered) -> list[dict]:
    return [board for where, board in refs.dashboards(rendered) if " dashboard logs/" in where]


@pytest.mark.parametrize("run", RUNS)
def test_every_environment_has_a_log_dashboard_on_loki(platform, stages, kube, run):
    rendered = platform[run]
    lokis = [d for d in grafana_datasources(rendered) if d.get("type") == "loki"]
    boards = log_dashboards(rendered)
    # The environments' namespaces as the environments stage made them (its label on each).
    items = kube.request("GET", "/api/v1/namespaces")["items"]
    env_ns = {
        n["metadata"]["name"]
        for n in items
        if "mlops.platform/environment" in (n["metadata"].get("labels") or {})
    }
    assert env_ns, "the environments stage made no namespace"
    labels = set()
    for out in fluent_bit_outputs(rendered):
        labels |= {kv.split("=", 1)[0].strip() for kv in out.get("labels", "").split(",") if "=" in kv}
    queried = set()
    for board in boards:
        for panel in board["panels"]:
            assert panel["datasource"]["uid"] == lokis[0]["uid"], (
                f"dashboard {board['title']} panel {panel['title']} -> data source {panel['datasource']}, "
                f"Grafana's Loki is uid {lokis[0]['uid']}"
            )
            for target in panel["targets"]:
                for label, value in re.findall(r'(\w+)="([^"]*)"', target["expr"].split("|")[0]):
                    assert label in labels, (
                        f"{board['title']}: queries label {label}; Fluent Bit sets {labels}"
                    )
                    queried.add(value)
    missing = env_ns - queried
    assert not missing, f"environments without a log dashboard: {sorted(missing)}"
    assert "argo" in queried, "no dashboard of the workflows' logs"
    count(f"log dashboards checked ({run})", len(boards))
