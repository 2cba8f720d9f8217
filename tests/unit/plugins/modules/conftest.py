"""The modules' documentation as ansible-doc renders it: doc fragments merged in."""

from __future__ import annotations

import importlib

import pytest
import yaml


def render_doc(name: str) -> dict:
    from ansible.plugins.loader import fragment_loader
    from ansible.utils.plugin_docs import add_fragments

    module = importlib.import_module(f"ansible_collections.mlops.platform.plugins.modules.{name}")
    doc = yaml.safe_load(module.DOCUMENTATION)
    doc["fragments"] = list(doc.get("extends_documentation_fragment", []))
    add_fragments(doc, module.__file__, fragment_loader=fragment_loader, is_module=True)
    return doc


@pytest.fixture
def rendered_doc():
    """render(module name) -> its DOCUMENTATION with the fragments merged; `fragments` lists them."""
    return render_doc
