"""The one exception of the Python API: what went wrong and what the operator can do."""

from __future__ import annotations

#: Exit codes of `mlopsctl` (and the `exit_code` of every MlopsError).
EXIT_OK = 0
EXIT_RUN_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_BUSY = 3


class MlopsError(Exception):
    """An error to report to the operator, with the exit code the CLI turns it into.

    `exit_code` is 2 for bad input or configuration (nothing was changed) and 1 for
    a run or a read that failed on the platform side.
    """

    def __init__(self, message: str, *, exit_code: int = EXIT_BAD_INPUT):
        super().__init__(message)
        self.exit_code = exit_code
