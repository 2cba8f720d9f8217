#!/usr/bin/python
# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
# The documentation of the action plugin plugins/action/validate_settings.py (it runs on
# the controller, as ansible.builtin.assert does; there is no module code).

from __future__ import annotations

DOCUMENTATION = r"""
---
module: validate_settings
short_description: Check a role's settings against the ranges of its argument spec
version_added: "0.2.0"
description:
  - Reads the calling role's C(meta/argument_specs.yml) and checks each option (and sub-option)
    whose description ends with C((MIN to MAX)), C((at least MIN)) or C((non-empty)).
  - Fails, naming every field, its value and what is allowed, before anything changes.
author:
  - MLOps platform team (@mlops-platform)
extends_documentation_fragment:
  - mlops.platform.attributes
options:
  entry_point:
    description: The entry point of the role's argument spec.
    type: str
    default: main
notes:
  - Runs on the controller as an action plugin.
attributes:
  check_mode:
    details:
      - Reads only.
  diff_mode:
    support: none
    details:
      - Nothing to show.
"""

EXAMPLES = r"""
- name: Check the settings against the ranges of the role's argument spec
  mlops.platform.validate_settings:
"""

RETURN = r"""
problems:
  description: One message per setting out of range, naming the field, its value and what is allowed.
  returned: failure
  type: list
  elements: str
"""
