"""The image tests' services: a registry (TLS, htpasswd) and buildkitd, one of each per module."""

from __future__ import annotations

import os
import shutil

import pytest
from images_support import BIN, start_buildkitd, start_registry

from mlops_platform.procs import terminate


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "images: builds the application's images with BuildKit, pushes and runs them (root, runc)"
    )


@pytest.fixture(scope="module")
def image_tools():
    """The tools must be there: a missing one fails (`scripts/test-deps.sh images` makes them)."""
    missing = [name for name in ("buildkitd", "buildctl", "registry") if not (BIN / name).exists()]
    missing += [name for name in ("runc",) if shutil.which(name) is None]
    if missing:
        pytest.fail(f"missing {', '.join(missing)}: scripts/test-deps.sh images builds and installs them")
    if os.geteuid() != 0:
        pytest.fail("buildkitd's OCI worker and runc run as root here: run the image tests as root")


@pytest.fixture(scope="module")
def registry(image_tools, tmp_path_factory):
    running = start_registry(tmp_path_factory.mktemp("registry"))
    yield running
    terminate(running.pid)


@pytest.fixture(scope="module")
def buildkitd(registry, tmp_path_factory):
    running = start_buildkitd(tmp_path_factory.mktemp("buildkitd"), registry)
    yield running
    terminate(running.pid, grace=30)
