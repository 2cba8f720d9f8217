# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""The check_mode/diff_mode attributes of the collection's modules (both supported).

A module adds its `details`, and sets `diff_mode: {support: none}` when it has nothing to diff.
DRY_RUN (mlops.platform.attributes.dry_run) adds the details of a module that writes objects
by server-side apply; a module's own details replace them.
"""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description:
      Returns details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
"""

    DRY_RUN = r"""
options: {}
attributes:
  check_mode:
    details:
      - The API server validates the objects with a dry run; nothing is stored.
  diff_mode:
    details:
      - Shows the managed fields before and after.
"""
