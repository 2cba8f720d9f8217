"""Stand-in for get-pip.py, which ansible-test downloads from a host unreachable here.

ansible-test runs it inside a fresh virtual environment with pip's install
arguments (for example `pip==24.2 --no-setuptools --no-wheel`). We bootstrap
pip from the interpreter's bundled wheel with ensurepip, then install what was
asked for from the package index.
"""

import os
import subprocess
import sys

saved_environ = dict(os.environ)
import ensurepip  # noqa: E402

ensurepip.bootstrap(upgrade=True)
# ensurepip points pip at an empty config file, which would hide the index and CA settings.
os.environ.clear()
os.environ.update(saved_environ)

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", *args]))
