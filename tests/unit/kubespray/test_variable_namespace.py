# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""No platform variable that reaches Kubespray's plays shares a name with one of Kubespray's.

Kubespray's variables are read from its vendored tree: every role's defaults and vars,
its sample inventory's group_vars, the vars of its playbooks, the names its tasks set
(set_fact, register), and any other name its roles, playbooks and templates read.
The platform's variables that reach its plays: group_vars/all of both inventories,
what the inventory plugin sets on each host, the vars our wrappers pass to Kubespray's
playbooks, and what our roles that run on the nodes before it leave behind (set_fact
and register persist across plays). A shared name is allowed
only when it is meant for Kubespray and documented so (MEANT_FOR_KUBESPRAY).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
OURS_ON_THE_NODES = ("node_prep", "cluster_preflight")

# Names we set for Kubespray on purpose, with where that is documented.
MEANT_FOR_KUBESPRAY = {
    # plugins/module_utils/terraform/inventory.py: the node's address, for Kubespray.
    "ip": "the inventory plugin",
    "access_ip": "the inventory plugin",
    # playbooks/reset.yml: the typed cluster name is the confirmation Kubespray asks for.
    "reset_confirmation": "playbooks/reset.yml",
    "skip_confirmation": "playbooks/reset.yml",
}


def _tasks(node):
    """Every task in a task list, blocks included."""
    for task in node if isinstance(node, list) else []:
        if not isinstance(task, dict):
            continue
        yield task
        for key in ("block", "rescue", "always"):
            yield from _tasks(task.get(key))


def _set_names(tasks) -> set[str]:
    names = set()
    for task in _tasks(tasks):
        for key in ("set_fact", "ansible.builtin.set_fact"):
            if isinstance(task.get(key), dict):
                names |= set(task[key]) - {"cacheable"}
        if isinstance(task.get("register"), str):
            names.add(task["register"])
    return names


def kubespray_variables(docs: dict[str, object]) -> dict[str, str]:
    """Variable name -> the first file of Kubespray's tree that defines it."""
    found: dict[str, str] = {}
    for path, doc in sorted(docs.items()):
        parts = path.split("/")
        names: set[str] = set()
        role_vars = path.startswith("roles/") and ("defaults" in parts or "vars" in parts)
        sample_vars = path.startswith("inventory/sample/") and "group_vars" in parts
        if (role_vars or sample_vars) and isinstance(doc, dict):
            names = set(doc)
        elif path.startswith("playbooks/") and isinstance(doc, list):
            names = {k for play in doc if isinstance(play, dict) for k in play.get("vars") or {}}
            names |= _set_names(
                [t for play in doc if isinstance(play, dict) for t in play.get("tasks") or []]
            )
        elif path.startswith("roles/") and "tasks" in parts:
            names = _set_names(doc)
        for name in names:
            found.setdefault(name, path)
    return {k: v for k, v in found.items() if not k.startswith("ansible_")}


def _yaml_keys(path: Path) -> set[str]:
    return set(yaml.safe_load(path.read_text()) or {})


def platform_variables() -> dict[str, str]:
    """Variable name -> where the platform sets it, for every name that reaches Kubespray's plays."""
    found: dict[str, str] = {}

    def add(names, where):
        for name in names:
            found.setdefault(name, where)

    for path in sorted(ROOT.glob("inventory/*/group_vars/all/*.yml")):
        add(_yaml_keys(path), str(path.relative_to(ROOT)))
    outputs = json.loads((ROOT / "tests/fixtures/terraform/outputs_3.json").read_text())
    from ansible_collections.mlops.platform.plugins.module_utils.terraform.inventory import build

    inv = build(outputs)
    add(inv.all_vars, "the inventory plugin (all)")
    add({k for hv in inv.hosts.values() for k in hv}, "the inventory plugin (hosts)")
    for path in sorted(ROOT.glob("playbooks/*.yml")):
        for play in yaml.safe_load(path.read_text()) or []:
            if "kubernetes_sigs.kubespray" in str(play.get("ansible.builtin.import_playbook", "")):
                add(play.get("vars") or {}, f"{path.relative_to(ROOT)} (vars passed to Kubespray)")
    for role in OURS_ON_THE_NODES:
        for path in sorted((ROOT / "roles" / role / "tasks").glob("*.yml")):
            add(_set_names(yaml.safe_load(path.read_text())), f"{path.relative_to(ROOT)} (set_fact/register)")
        for kind in ("defaults", "vars"):
            for path in sorted((ROOT / "roles" / role / kind).glob("*.yml")):
                add(_yaml_keys(path), str(path.relative_to(ROOT)))
    return {k: v for k, v in found.items() if not k.startswith("ansible_")}


def kubespray_reads(texts: dict[str, str], names) -> dict[str, str]:
    """Name -> the first file of Kubespray's tree that mentions it (a default() it reads, a hostvars key)."""
    first: dict[str, str] = {}
    for path, text in sorted(texts.items()):
        for word in set(re.findall(r"[A-Za-z_]\w*", text)):
            first.setdefault(word, path)
    return {name: first[name] for name in names if name in first}


def kubespray_names(docs, texts, ours) -> dict[str, str]:
    return kubespray_reads(texts, ours) | kubespray_variables(docs)


def collisions(ours: dict[str, str], theirs: dict[str, str]) -> list[str]:
    return [
        f"{name} ({where}) is also Kubespray's {name} ({theirs[name]})"
        for name, where in sorted(ours.items())
        if name in theirs and name not in MEANT_FOR_KUBESPRAY
    ]


def test_kubespray_variables_are_read_from_its_tree(kubespray_yaml, kubespray_text):
    theirs = kubespray_variables(kubespray_yaml)
    assert len(theirs) > 1000
    assert {"argocd_version", "kube_version", "kube_network_plugin", "downloads"} <= set(theirs)
    # Read, never defined: the confirmation of its reset playbook.
    assert kubespray_reads(kubespray_text, ["reset_confirmation"]) == {
        "reset_confirmation": "playbooks/reset.yml"
    }


def test_no_platform_variable_collides_with_kubesprays(kubespray_yaml, kubespray_text):
    ours = platform_variables()
    found = collisions(ours, kubespray_names(kubespray_yaml, kubespray_text, ours))
    assert found == [], "rename ours (and refuse the old name):\n" + "\n".join(found)


@pytest.mark.parametrize("name", ["argocd_version", "helm_enabled", "etcd_version", "reset_confirmation"])
def test_a_collision_is_named_with_both_files(kubespray_yaml, kubespray_text, name):
    ours = {name: "inventory/openstack/group_vars/all/platform.yml"}
    found = collisions(ours, kubespray_names(kubespray_yaml, kubespray_text, ours))
    if name in MEANT_FOR_KUBESPRAY:
        assert found == []
        return
    assert len(found) == 1
    assert found[0].startswith(
        f"{name} (inventory/openstack/group_vars/all/platform.yml) is also Kubespray's {name} ("
    )


def test_variables_meant_for_kubespray_are_kubesprays(kubespray_yaml, kubespray_text):
    """Every name we hand Kubespray is one it reads: no typo, no variable it removed."""
    removed = set(kubespray_yaml["roles/validate_inventory/tasks/main.yml"][0]["vars"]["removed_vars"])
    ours = {name: "MEANT_FOR_KUBESPRAY" for name in MEANT_FOR_KUBESPRAY}
    for path in sorted(ROOT.glob("inventory/openstack/group_vars/k8s_cluster/*.yml")):
        ours |= {name: str(path.relative_to(ROOT)) for name in _yaml_keys(path)}
    theirs = kubespray_names(kubespray_yaml, kubespray_text, ours)
    unknown = sorted(
        f"{name} ({where})" for name, where in ours.items() if name not in theirs or name in removed
    )
    assert unknown == [], "not a Kubespray variable:\n" + "\n".join(unknown)
