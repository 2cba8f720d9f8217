# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""A missing data volume stops node_prep before it changes the node."""

import pytest


@pytest.mark.parametrize(
    "path",
    [
        "/etc/sysctl.d/99-kubernetes.conf",
        "/etc/modules-load.d/kubernetes.conf",
        "/srv/mlops-data",
    ],
)
def test_nothing_written(host, path):
    assert not host.file(path).exists


def test_fstab_untouched(host):
    assert "mlops" not in host.file("/etc/fstab").content_string
