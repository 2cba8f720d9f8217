"""A local OpenStack: Keystone, Glance, Placement, Nova, Neutron and Cinder on loopback.

The cloud's own services from PyPI (scripts/openstack-deps.sh installs them in a venv
cached by their versions), with MariaDB and RabbitMQ from Debian, each process started
here, bound to 127.0.0.1, and stopped by its pid. No data plane: Nova's fake driver
"boots" servers, an ML2 driver of ours binds every port, Cinder's fake driver keeps
volumes in its database. The cloud is set up like a small real project: an image,
m1.* flavors, an external network `public`, and quotas (`clouds.yaml`, cloud `mlops`;
`mlops-admin` is the cloud's admin, for tests that play the operator).

    python -m mlops_platform.localcloud up   [--state-dir S] [--venv V]
    python -m mlops_platform.localcloud down [--state-dir S]
"""

from __future__ import annotations

from mlops_platform.localcloud.launcher import LocalCloud, LocalCloudError

__all__ = ["LocalCloud", "LocalCloudError"]
