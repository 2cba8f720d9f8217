"""Each GitOps module's DOCUMENTATION matches its argument spec (names, types, defaults, choices)."""

from __future__ import annotations

import importlib

import pytest
import yaml
from ansible_collections.mlops.platform.plugins.module_utils.kube.args import KUBE_ARGSPEC

MODULES = [
    "argocd_application",
    "argocd_project",
    "argocd_repository",
    "generated_secret",
    "release_manifest",
]


def spec_of(name):
    from ansible_collections.mlops.platform.plugins.module_utils.argocd.application import APPLICATION_SPEC
    from ansible_collections.mlops.platform.plugins.module_utils.argocd.project import PROJECT_SPEC
    from ansible_collections.mlops.platform.plugins.module_utils.argocd.repository import REPOSITORY_SPEC
    from ansible_collections.mlops.platform.plugins.module_utils.kube.items import top_level_spec
    from ansible_collections.mlops.platform.plugins.module_utils.kube.manifest import MANIFEST_SPEC
    from ansible_collections.mlops.platform.plugins.module_utils.secrets.generated import SECRET_SPEC

    return {
        "argocd_application": top_level_spec(APPLICATION_SPEC, "applications"),
        "argocd_project": top_level_spec(PROJECT_SPEC, "projects"),
        "argocd_repository": top_level_spec(REPOSITORY_SPEC, "repositories", with_suboptions=True),
        "generated_secret": top_level_spec(SECRET_SPEC, "secrets", with_suboptions=True),
        "release_manifest": MANIFEST_SPEC,
    }[name]


def compare(doc_opts: dict, spec: dict, where: str):
    assert sorted(doc_opts) == sorted(spec), where
    for name, opt in spec.items():
        doc = doc_opts[name]
        assert doc["type"] == opt["type"], f"{where}.{name} type"
        assert doc.get("default") == opt.get("default"), f"{where}.{name} default"
        assert doc.get("choices") == opt.get("choices"), f"{where}.{name} choices"
        assert bool(doc.get("required")) == bool(opt.get("required")), f"{where}.{name} required"
        assert doc.get("elements") == opt.get("elements"), f"{where}.{name} elements"
        if opt.get("options"):
            compare(doc["suboptions"], opt["options"], f"{where}.{name}")


@pytest.mark.parametrize("name", MODULES)
def test_documentation_matches_argspec(name, rendered_doc):
    module = importlib.import_module(f"ansible_collections.mlops.platform.plugins.modules.{name}")
    doc = rendered_doc(name)
    assert "mlops.platform.kube" in doc["fragments"]
    spec = {k: v for k, v in spec_of(name).items() if k not in KUBE_ARGSPEC}
    compare({k: v for k, v in doc["options"].items() if k not in KUBE_ARGSPEC}, spec, name)
    assert doc["attributes"]["check_mode"]["support"] == "full"
    assert doc["attributes"]["diff_mode"]["support"] == "full"
    yaml.safe_load(module.EXAMPLES)
    yaml.safe_load(module.RETURN)


@pytest.mark.parametrize(
    ("name", "secret_paths"),
    [
        (
            "argocd_repository",
            [
                ("password",),
                ("ssh_private_key",),
                ("repositories", "password"),
                ("repositories", "ssh_private_key"),
            ],
        ),
        ("generated_secret", []),
    ],
)
def test_secret_options_are_no_log(name, secret_paths):
    spec = spec_of(name)
    assert spec["api_key"]["no_log"] is True
    for path in secret_paths:
        opt = spec[path[0]] if len(path) == 1 else spec[path[0]]["options"][path[1]]
        assert opt.get("no_log") is True, path
