# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""How the modules of the action group mlops.platform.kube wait (argspec kube.args.WAIT_ARGSPEC).

A module states what it waits for, and its defaults where they differ, in its own options.
"""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  poll_interval:
    description:
      - Seconds between two reads of the object while waiting.
    type: float
    default: 2.0
  wait:
    description:
      - Whether to wait for the object to reach the state the module describes. Not done in check mode.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait at most; on timeout the error names what is not ready.
    type: float
    default: 600.0
"""
