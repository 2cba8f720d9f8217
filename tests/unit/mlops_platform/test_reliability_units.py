"""Runner and results pieces of issue 16: one-line errors, failure kinds, exit codes, credential redaction."""

from __future__ import annotations

import json

from mlops_platform.results import Failure, RunResult
from mlops_platform.runner import _message, failure_kind, redact_command_file

TRACEBACK = """Traceback (most recent call last):
  File "/tmp/x.py", line 3, in <module>
    raise urllib3.exceptions.MaxRetryError(pool, url)
urllib3.exceptions.MaxRetryError: HTTPSConnectionPool(host='127.0.0.1', port=9): Max retries exceeded
"""


def test_a_module_crash_is_reported_as_its_exception_line_not_a_traceback():
    msg = _message(
        {
            "msg": "MODULE FAILURE\nSee stdout/stderr for the exact error",
            "module_stderr": TRACEBACK,
            "exception": TRACEBACK,
            "module_stdout": "",
        }
    )
    assert msg.startswith("urllib3.exceptions.MaxRetryError: HTTPSConnectionPool")
    assert "Traceback" not in msg and "MODULE FAILURE" not in msg and len(msg.splitlines()) == 1


def test_failure_kinds():
    assert failure_kind({"error_kind": "input"}) == "input"
    assert failure_kind({"argument_errors": ["x"]}) == "input"
    assert failure_kind({"assertion": "a", "evaluated_to": False}) == "input"
    assert failure_kind({"msg": "API down"}) == "run"


def test_exit_codes():
    def result(status, *kinds):
        return RunResult(
            "p",
            status,
            0 if status == "successful" else 2,
            "a",
            failures=[Failure("s", "h", "t", "m", k) for k in kinds],
        )

    assert result("successful").exit_code == 0
    assert result("failed", "input", "input").exit_code == 2
    assert result("failed", "input", "run").exit_code == 1
    assert result("canceled").exit_code == 1


def test_credentials_from_the_environment_are_redacted_in_the_command_file(tmp_path):
    path = tmp_path / "command"
    env = {
        "OS_PASSWORD": "s3cret",
        "OS_APPLICATION_CREDENTIAL_SECRET": "x",
        "AWS_SECRET_ACCESS_KEY": "y",
        "GITHUB_TOKEN": "z",
        "PATH": "/usr/bin",
        "HOME": "/root",
    }
    path.write_text(json.dumps({"command": ["ansible-playbook"], "cwd": "/", "env": env}))
    redact_command_file(path)
    data = json.loads(path.read_text())
    assert data["env"]["PATH"] == "/usr/bin" and data["env"]["HOME"] == "/root"
    assert all(data["env"][k] == "<redacted>" for k in env if k not in ("PATH", "HOME"))
    assert "s3cret" not in path.read_text()
