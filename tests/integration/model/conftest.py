"""The reference application's environment (scripts/test-deps.sh app)."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_support import APP_PYTHON


@pytest.fixture(scope="session")
def app_python() -> Path:
    if not APP_PYTHON.exists():
        pytest.fail(
            f"{APP_PYTHON} is missing: `scripts/test-deps.sh app` makes the application's environment"
        )
    return APP_PYTHON
