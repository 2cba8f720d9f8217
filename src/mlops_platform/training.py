"""`mlopsctl train`: follow a submitted Workflow step by step, and stop it when asked.

train.yml submits train-model (workflow_submit, without waiting); this follows the Workflow
with the collection's client and its workflow rules (module_utils/workflows): each step's
phase as it changes, the outcome with its output parameters, a timeout. Ctrl-C, SIGTERM or
SIGHUP stops the Workflow as `argo stop` does (spec.shutdown: Stop, so its exit handler
still reports the failure) and waits a little for it to end.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .collection import module_utils
from .runner import stop_signals

submit = module_utils("workflows.submit")
API = "/apis/argoproj.io/v1alpha1"
#: How long a stopped Workflow may take to end (its exit handler runs).
STOP_GRACE = 60.0


@dataclass
class Followed:
    """How a followed Workflow ended: succeeded | failed | timeout | canceled, and its summary."""

    outcome: str
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def message(self) -> str:
        s = self.summary
        ref = f"Workflow {s.get('namespace')}/{s.get('name')}"
        if self.outcome == "timeout":
            running = [st["name"] for st in s.get("steps", []) if st["phase"] in ("Running", "Pending")]
            return (
                f"{ref} did not finish within the timeout (phase {s.get('phase') or 'not started'}; "
                f"running: {', '.join(running) or 'none'}); it keeps running"
            )
        if self.outcome == "canceled":
            return f"{ref} stopped on request ({s.get('phase') or 'not started'})"
        return submit.failure_message(s)


def follow(
    kube,
    namespace: str,
    name: str,
    *,
    timeout: float,
    report: Callable[[dict], None],
    cancel: threading.Event,
    poll: float = 2.0,
    clock: Callable[[], float] = time.monotonic,
) -> Followed:
    """Poll Workflow `namespace/name` until it ends, reporting every step whose phase changes."""
    path = f"{API}/namespaces/{namespace}/workflows/{name}"
    deadline, stop_deadline = clock() + timeout, None
    previous: dict | None = None

    def on_signal(signum: int, frame: Any) -> None:
        cancel.set()

    with stop_signals(on_signal):
        while True:
            summary = submit.summarize(kube.request("GET", path, action="reading", ref=f"Workflow {name}"))
            for step in submit.step_changes(previous, summary):
                report(step)
            previous = summary
            if summary["phase"] in submit.DONE:
                if stop_deadline is not None:
                    return Followed("canceled", summary)
                return Followed("succeeded" if summary["phase"] == "Succeeded" else "failed", summary)
            if cancel.is_set() and stop_deadline is None:
                kube.request(
                    "PATCH",
                    path,
                    body={"spec": {"shutdown": "Stop"}},
                    content_type="application/merge-patch+json",
                    action="stopping",
                    ref=f"Workflow {name}",
                )
                stop_deadline = clock() + STOP_GRACE
            if stop_deadline is not None and clock() > stop_deadline:
                return Followed("canceled", summary)
            if stop_deadline is None and clock() > deadline:
                return Followed("timeout", summary)
            if cancel.is_set():
                time.sleep(poll)  # stopping: the Workflow ends on its own
            else:
                cancel.wait(poll)
