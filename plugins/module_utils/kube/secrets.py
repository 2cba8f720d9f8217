# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""Hide Secret values in what modules return and diff: keys are shown, values never."""

from __future__ import annotations

import copy

HIDDEN = "<hidden>"
HIDDEN_CHANGED = "<hidden, changed>"


def _hide(data: dict | None, other: dict | None = None) -> dict | None:
    if data is None:
        return None
    other = other or {}
    return {k: (HIDDEN_CHANGED if k in other and other[k] != v else HIDDEN) for k, v in data.items()}


def secret_redactor():
    """A `redact(before, after)` for service.apply: Secret data/stringData values replaced.

    Values are compared (so the diff says which keys change) but never revealed.
    """
    def redact(before, after):
        b, a = copy.deepcopy(before), copy.deepcopy(after)
        for key in ("data", "stringData"):
            b_data = (before or {}).get(key) if isinstance(before, dict) else None
            a_data = (after or {}).get(key) if isinstance(after, dict) else None
            if isinstance(b, dict) and key in b:
                b[key] = _hide(b_data)
            if isinstance(a, dict) and key in a:
                a[key] = _hide(a_data, b_data)
        return b, a
    return redact
