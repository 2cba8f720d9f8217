"""statefile: a service's State read back as written, its private files owner-only."""

from __future__ import annotations

import stat
from dataclasses import dataclass, field

import pytest

from mlops_platform import statefile


@dataclass
class State:
    ports: dict
    pids: dict[str, int] = field(default_factory=dict)


def test_state_reads_back_as_saved(tmp_path):
    path = tmp_path / "state.json"
    statefile.save(path, State(ports={"api": 6443}, pids={"etcd": 42}))
    assert statefile.load(path, State, RuntimeError("none")) == State(ports={"api": 6443}, pids={"etcd": 42})


@pytest.mark.parametrize("text", [None, "not json", '{"unknown": 1}'])
def test_no_state_raises_the_given_error(tmp_path, text):
    path = tmp_path / "state.json"
    if text is not None:
        path.write_text(text)
    with pytest.raises(RuntimeError, match="nothing recorded"):
        statefile.load(path, State, RuntimeError("nothing recorded"))


def test_private_files_are_owner_only_also_when_they_existed(tmp_path):
    path = tmp_path / "token"
    path.write_text("old")
    path.chmod(0o644)
    statefile.write_private(path, "secret")
    assert path.read_text() == "secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    statefile.write_private(tmp_path / "key", b"\x00key")
    assert stat.S_IMODE((tmp_path / "key").stat().st_mode) == 0o600
