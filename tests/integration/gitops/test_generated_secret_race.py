"""Two generated_secret runs at once on a new Secret: the value one of them stored is never lost."""

from __future__ import annotations

import base64
import threading

import pytest

pytestmark = pytest.mark.controlplane


def item(namespace, name):
    return {
        "name": name,
        "namespace": namespace,
        "keys": [{"name": "password", "length": 32, "alphabet": "alphanumeric"}],
        "fixed_data": {},
        "labels": {},
        "annotations": {},
        "rotate": False,
        "regenerate": [],
        "return_values": True,
        "state": "present",
        "bcrypt_copy": None,
    }


@pytest.mark.parametrize("trial", range(8))
def test_concurrent_first_runs_agree_on_one_value(kubeconfig, kube, namespace, trial):
    from ansible_collections.mlops.platform.plugins.module_utils.kube import KubeClient, get
    from ansible_collections.mlops.platform.plugins.module_utils.secrets.generated import ensure

    name = f"race-{trial}"
    start = threading.Barrier(2)
    results = [None, None]

    def run(index):
        client = KubeClient.from_params({"kubeconfig": kubeconfig})
        start.wait()
        results[index] = ensure(client, item(namespace, name), check_mode=False)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stored = base64.b64decode(get(kube, "v1", "Secret", name, namespace)["data"]["password"]).decode()
    # Whatever each run believes it stored (or kept) is what the Secret holds.
    assert [r["values"]["password"] for r in results] == [stored, stored]
    assert sorted(r["action"] for r in results) == ["created", "unchanged"], results
    assert sum(bool(r["generated"]) for r in results) == 1
