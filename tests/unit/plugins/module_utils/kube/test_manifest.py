"""release_manifest's loader: every object of a real install manifest, clear errors for bad files."""

from __future__ import annotations

import pytest
from ansible_collections.mlops.platform.plugins.module_utils.kube.manifest import ManifestError, load


def test_loads_every_object_of_argocds_install_manifest(shared_fixtures):
    objects = load([str(shared_fixtures / "manifests" / "argo-cd-v3.5.1-install.yaml")])
    kinds = {o["kind"] for o in objects}
    assert {"CustomResourceDefinition", "Deployment", "Secret", "ClusterRole"} <= kinds
    assert any(o["metadata"]["name"] == "argocd-server" and o["kind"] == "Deployment" for o in objects)


def test_a_list_document_is_expanded(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("kind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n")
    assert [o["metadata"]["name"] for o in load([str(path)])] == ["a"]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("a: [", "is not valid YAML"),
        ("apiVersion: v1\nkind: ConfigMap\n", "not a Kubernetes object"),
        ("---\n", "no objects"),
    ],
)
def test_bad_manifests_fail_with_one_clear_line(tmp_path, text, error):
    path = tmp_path / "m.yaml"
    path.write_text(text)
    with pytest.raises(ManifestError, match=error) as e:
        load([str(path)])
    assert str(path) in str(e.value) and len(str(e.value).splitlines()) == 1


def test_a_missing_file_names_it():
    with pytest.raises(ManifestError, match="/nonexistent.yaml.*cannot be read"):
        load(["/nonexistent.yaml"])


def test_a_manifest_parsed_once_comes_from_its_json_copy(tmp_path, monkeypatch):
    import yaml

    monkeypatch.setenv("MLOPS_MANIFEST_CACHE", str(tmp_path / "cache"))
    path = tmp_path / "m.yaml"
    path.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: '1'}\n")
    first = load([str(path)])
    assert len(list((tmp_path / "cache").glob("*.json"))) == 1

    def no_yaml(*args, **kwargs):
        raise AssertionError("parsed again")

    monkeypatch.setattr(yaml, "load_all", no_yaml)
    assert load([str(path)]) == first
    # an edited manifest is parsed again
    path.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n")
    with pytest.raises(AssertionError, match="parsed again"):
        load([str(path)])


def test_documents_json_cannot_hold_are_parsed_every_time(tmp_path, monkeypatch):
    monkeypatch.setenv("MLOPS_MANIFEST_CACHE", str(tmp_path / "cache"))
    path = tmp_path / "m.yaml"
    path.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {when: 2024-01-01}\n")
    assert str(load([str(path)])[0]["data"]["when"]) == "2024-01-01"
    assert not list((tmp_path / "cache").glob("*.json"))
