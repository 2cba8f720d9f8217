"""The WSGI application of one OpenStack API, for gunicorn in the local cloud's venv.

Loaded by gunicorn (not by mlops_platform): MLOPS_OS_SERVICE names the service and
MLOPS_OS_CONFIG its config file, in the config directory the service looks in.
keystone, cinder, neutron and placement parse sys.argv as oslo.config options and
gunicorn's own arguments are not theirs: reset it before the service's WSGI module
is imported (nova and glance ignore it and read their directory).
"""

import importlib
import os
import sys

MODULES = {
    "keystone": ("keystone.server.wsgi", "initialize_public_application"),
    "glance": ("glance.wsgi.api", None),
    "placement": ("placement.wsgi.api", None),
    "nova": ("nova.wsgi.osapi_compute", None),
    "neutron": ("neutron.wsgi.api", None),
    "cinder": ("cinder.wsgi.api", None),
}

_service = os.environ["MLOPS_OS_SERVICE"]
_config = os.environ["MLOPS_OS_CONFIG"]
sys.argv = [f"{_service}-api", "--config-file", _config]
_module, _factory = MODULES[_service]
_loaded = importlib.import_module(_module)
application = getattr(_loaded, _factory)() if _factory else _loaded.application
