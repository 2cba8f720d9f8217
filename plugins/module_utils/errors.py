# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""The one exception root of the collection: every domain error derives from it.

`kind` says who can fix it: "input" (a bad option or configuration: nothing was
changed, the CLI exits 2) or "run" (the platform side failed, exit 1). Modules
report it as `error_kind` in their failure result (see module.fail_module).
"""

from __future__ import annotations


class PlatformError(Exception):
    """An error to report to the operator: what failed, on which object, what to check."""

    kind = "run"

    def __init__(self, message: str = "", *args, kind: str | None = None):
        super().__init__(message, *args)
        if kind is not None:
            self.kind = kind

    def report(self) -> dict:
        """Fields a module's failure result carries beside msg and error_kind (problems, ...)."""
        return {}


class InputError(PlatformError):
    """A bad option value or configuration, found before anything changed."""

    kind = "input"
