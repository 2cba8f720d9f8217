# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""The one exception root of the collection: every domain error derives from it."""

from __future__ import annotations


class PlatformError(Exception):
    """An error to report to the operator: what failed, on which object, what to check."""
