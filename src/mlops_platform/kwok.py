"""Simulated nodes and pod states for the local control plane, by KWOK.

KWOK (sigs.k8s.io/kwok) plays the kubelets: it keeps the nodes Ready and moves the
pods the scheduler put on them through their states (Running and Ready; Succeeded for
a Job's pods) by KWOK's own Stage definitions, applied to the cluster as Stage
objects. No container runs. `fail_image` adds one Stage of ours: the pods of that
image start but never become ready, as a crash-looping container looks.

The nodes take the shape of the real target's: `nodes` maps a name to its roles
(control_plane, etcd, worker), its size and whether it carries the data volume.
Control planes get Kubespray's taint and role label; the data-volume node the
label below (on the real target the data volume is attached to that node).
"""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

MANAGED_ANNOTATION = {"kwok.x-k8s.io/node": "fake"}
CONTROL_PLANE_TAINT = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}
DATA_VOLUME_LABEL = "mlops.platform/data-volume"
STAGE_API = "/apis/kwok.x-k8s.io/v1alpha1/stages"
FAIL_STAGE_PREFIX = "mlops-fail-image-"
# KWOK picks among the stages that match a pod at random, by weight: the pod-ready
# stage weighs 1, so a failing image's pods go ready about once in a billion.
FAIL_STAGE_WEIGHT = 1_000_000_000

DEFAULT_NODES = {
    "cp1": {"roles": ["control_plane", "etcd"], "cpu": "4", "memory": "8Gi", "data_volume": True},
    "w1": {"roles": ["worker", "etcd"], "cpu": "8", "memory": "16Gi"},
    "w2": {"roles": ["worker", "etcd"], "cpu": "8", "memory": "16Gi"},
}


def node_objects(nodes: dict) -> list[dict]:
    """The Node objects KWOK manages, one per entry of `nodes`."""
    out = []
    for name, spec in sorted(nodes.items()):
        roles = spec.get("roles") or ["worker"]
        labels = {
            "kubernetes.io/hostname": name,
            "kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64",
            "type": "kwok",
        }
        taints = []
        if "control_plane" in roles:
            labels["node-role.kubernetes.io/control-plane"] = ""
            taints.append(dict(CONTROL_PLANE_TAINT))
        if spec.get("data_volume"):
            labels[DATA_VOLUME_LABEL] = "true"
        capacity = {
            "cpu": str(spec.get("cpu", "4")),
            "memory": str(spec.get("memory", "8Gi")),
            "pods": str(spec.get("pods", "110")),
            "ephemeral-storage": str(spec.get("disk", "100Gi")),
        }
        out.append(
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {"name": name, "labels": labels, "annotations": dict(MANAGED_ANNOTATION)},
                "spec": {"taints": taints},
                "status": {"capacity": capacity, "allocatable": capacity},
            }
        )
    return out


def stage_objects(stages_dir: Path) -> list[dict]:
    """KWOK's own node and pod stages, as the build copied them from its module."""
    out = []
    for path in sorted(Path(stages_dir).glob("*.yaml")):
        out.extend(doc for doc in yaml.safe_load_all(path.read_text()) if doc)
    if not out:
        raise FileNotFoundError(f"no KWOK stages in {stages_dir}: run scripts/build-go.sh envtest")
    return out


def fail_stage(image: str, ready_stage: dict) -> dict:
    """A Stage that leaves the pods of `image` running but never ready (restarting).

    It matches the pods at the point KWOK's pod-ready stage does, so one of the two
    applies; the weights make it this one.
    """
    safe = "".join(c if c.isalnum() else "-" for c in image.lower()).strip("-")[-40:]
    selector = copy.deepcopy(ready_stage["spec"]["selector"])
    selector["matchExpressions"].append(
        {"key": ".spec.containers.[].image", "operator": "In", "values": [image]}
    )
    return {
        "apiVersion": "kwok.x-k8s.io/v1alpha1",
        "kind": "Stage",
        "metadata": {
            "name": FAIL_STAGE_PREFIX + safe,
            "labels": {"mlops.platform/simulated-failure": "true"},
        },
        "spec": {
            "resourceRef": {"apiGroup": "v1", "kind": "Pod"},
            "selector": selector,
            "weight": FAIL_STAGE_WEIGHT,
            "delay": {"durationMilliseconds": 1000},
            "next": {
                "statusTemplate": FAILING_STATUS,
            },
        },
    }


# The status a crash-looping container shows: Running phase, not ready, waiting in back-off.
FAILING_STATUS = """\
{{ $now := Now }}
conditions:
- lastTransitionTime: {{ $now | Quote }}
  status: "False"
  reason: ContainersNotReady
  type: Ready
- lastTransitionTime: {{ $now | Quote }}
  status: "False"
  reason: ContainersNotReady
  type: ContainersReady
containerStatuses:
{{ range $index, $item := .spec.containers }}
- image: {{ $item.image | Quote }}
  name: {{ $item.name | Quote }}
  ready: false
  started: false
  restartCount: 5
  lastState:
    terminated:
      exitCode: 1
      reason: Error
      finishedAt: {{ $now | Quote }}
  state:
    waiting:
      reason: CrashLoopBackOff
      message: back-off restarting failed container (simulated by KWOK)
{{ end }}
phase: Running
startTime: {{ $now | Quote }}
"""
