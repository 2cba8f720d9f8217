"""Terminal rendering for mlopsctl: live per-stage progress and the summary tables.

Progress goes to stderr, tables to stdout, so `mlopsctl up > summary.txt` keeps
the summary and `--json` output stays clean.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from .results import RunResult, Status
from .runner import RunEvent

STATUS_STYLE = {
    "ok": "green",
    "changed": "yellow",
    "failed": "bold red",
    "skipped": "dim",
    "interrupted": "magenta",
    "successful": "green",
    "canceled": "magenta",
    "timeout": "red",
}


def _styled(text: str) -> str:
    style = STATUS_STYLE.get(text)
    return f"[{style}]{text}[/]" if style else text


class RunProgress:
    """One bar per stage: tasks done, changed/failed counts and the current task.

    On a terminal the bars are live; otherwise (CI logs, `make run | tee`) each stage
    prints one line when it starts and one when it ends.
    """

    def __init__(self, title: str, console: Console | None = None):
        self.console = console or Console(stderr=True)
        self.title = title
        self.live = self.console.is_terminal
        self.progress = Progress(
            SpinnerColumn(finished_text="✓"),
            TextColumn("[bold]{task.description:<13}"),
            BarColumn(bar_width=24),
            TextColumn(
                "{task.completed:>3.0f} tasks  changed {task.fields[changed]:<3} "
                "failed {task.fields[failed]:<2}"
            ),
            TimeElapsedColumn(),
            TextColumn("[dim]{task.fields[current]}"),
            console=self.console,
            transient=False,
            disable=not self.live,
        )
        self.tasks: dict[str, TaskID] = {}
        self.current: str | None = None

    def __enter__(self) -> RunProgress:
        self.console.print(f"[bold]mlopsctl {self.title}[/]")
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._close(self.current)
        self.progress.__exit__(*exc)

    def _close(self, stage: str | None) -> None:
        if stage is None or stage not in self.tasks:
            return
        task = self.progress.tasks[self.tasks[stage]]
        if task.finished:
            return
        done = max(task.completed, 1)
        self.progress.update(task.id, total=done, completed=done, current="")
        if not self.live:
            f = task.fields
            mark = "✗" if f["failed"] else "✓"
            self.console.print(
                f"{mark} {stage:<13} {task.completed:>3.0f} tasks  "
                f"changed {f['changed']:<3} failed {f['failed']:<2}"
                f" {task.finished_time or 0:.1f}s",
                highlight=False,
            )

    def on_event(self, event: RunEvent) -> None:
        stage = event.stage
        if stage != self.current:
            self._close(self.current)
        if stage not in self.tasks or self.progress.tasks[self.tasks[stage]].finished:
            if stage in self.tasks:  # a stage that comes back (plays of it later in the playbook)
                self.progress.update(self.tasks[stage], total=None)
            else:
                self.tasks[stage] = self.progress.add_task(stage, total=None, changed=0, failed=0, current="")
            if not self.live:
                self.console.print(f"  {stage} ...", highlight=False)
        self.current = stage
        task = self.tasks[stage]
        fields = self.progress.tasks[task].fields
        if event.event in ("playbook_on_task_start", "playbook_on_handler_task_start"):
            self.progress.update(task, advance=1, current=event.task[:60])
        elif event.changed:
            self.progress.update(task, changed=fields["changed"] + 1)
        elif event.failed:
            self.progress.update(task, failed=fields["failed"] + 1)


def print_run_summary(result: RunResult, console: Console | None = None, show_changes: bool = False) -> None:
    console = console or Console()
    table = Table(title=f"{result.playbook}{' (check mode)' if result.check else ''}", title_justify="left")
    for col in ("stage", "status", "tasks", "ok", "changed", "failed", "skipped", "time"):
        table.add_column(col, justify="left" if col in ("stage", "status") else "right")
    for s in result.stages:
        table.add_row(
            s.name,
            _styled(s.status),
            str(s.tasks),
            str(s.ok),
            str(s.changed),
            str(s.failed + s.unreachable),
            str(s.skipped),
            f"{s.duration:.1f}s",
        )
    console.print(table)
    if show_changes and result.changes:
        verb = "would change" if result.check else "changed"
        console.print(f"[bold]{len(result.changes)} task(s) {verb}:[/]")
        for change in result.changes:
            console.print(f"  [yellow]{change.stage}[/] {change.host}: {change.task}", highlight=False)
            if change.diff:
                console.print(change.diff.rstrip("\n"), markup=False, highlight=False)
    for failure in result.failures:
        console.print(
            f"[bold red]FAILED[/] {failure.stage} / {failure.task or '-'} on {failure.host}:", highlight=False
        )
        console.print("  " + failure.message.replace("\n", "\n  "), markup=False, highlight=False)
    if result.interrupted_stage:
        if result.interrupted_stage in ("promote", "rollback"):
            advice = (
                f"an interrupted {result.interrupted_stage} puts the environment back and records it "
                "(see `mlopsctl status`); run the same command again to complete it"
            )
        else:
            advice = "run `mlopsctl up` again to converge"
        console.print(f"[magenta]interrupted during stage {result.interrupted_stage}[/]: {advice}")
    console.print(
        f"{_styled(result.status)}: changed={result.changed} failed={result.failed} "
        f"in {result.duration:.1f}s; artifacts: {result.artifacts}",
        highlight=False,
        soft_wrap=True,
    )


def print_status(state: Status, console: Console | None = None) -> None:
    console = console or Console()
    c = state.cluster
    reach = (
        f"[green]reachable[/] {c.version} at {c.server}" if c.reachable else f"[red]unreachable[/] {c.error}"
    )
    console.print(
        f"[bold]target[/] {state.target or '?'} ({state.inventory})  [bold]cluster[/] {reach}",
        highlight=False,
    )
    infra = [
        (name, value if isinstance(value, str) else repr(value))
        for name, value in (state.infra or {}).items()
    ]
    _print_table(console, "Infrastructure (Terraform outputs)", ("output", "value"), infra)
    links = [(u.name, u.url or f"[dim]{u.note}[/]") for u in state.urls or ()]
    _print_table(console, "URLs", ("open", "at"), links)
    apps = [
        (a.name, a.project, a.destination, _sync(a.sync), _health(a.health)) for a in state.applications or ()
    ]
    _print_table(console, "Applications", ("name", "project", "destination", "sync", "health"), apps)
    envs = [
        (
            e.name,
            e.application or "[dim]not declared[/]",
            e.version or "-",
            e.image or "-",
            _sync(e.sync),
            _health(e.health),
            _last_promotion(e.last_promotion or {}),
        )
        for e in state.environments or ()
    ]
    columns = ("environment", "application", "version", "image", "sync", "health", "last promotion")
    _print_table(console, "Environments", columns, envs)
    templates = [(t.name, t.namespace) for t in state.workflow_templates or ()]
    _print_table(console, "WorkflowTemplates", ("name", "namespace"), templates)
    creds = [(cr.app, cr.secret, cr.namespace, ", ".join(cr.keys)) for cr in state.credentials or ()]
    title = "Generated credentials (values: mlopsctl credentials APP)"
    _print_table(console, title, ("app", "secret", "namespace", "keys"), creds)
    for note in state.notes:
        console.print(f"[dim]note: {note}[/]")


def _print_table(console: Console, title: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """One section of the status: a table with a title, printed only when it has rows."""
    if not rows:
        return
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    console.print(table)


def _last_promotion(last: dict) -> str:
    if not last:
        return "-"
    return (
        f"{last.get('operation', 'promote')} {last.get('from') or '-'} -> {last.get('to')} "
        f"v{last.get('version')} {last.get('result', '')} {last.get('time', '')}"
    )


def _sync(value: str) -> str:
    return {"Synced": "[green]Synced[/]", "OutOfSync": "[yellow]OutOfSync[/]"}.get(value, value or "-")


def _health(value: str) -> str:
    return {
        "Healthy": "[green]Healthy[/]",
        "Degraded": "[red]Degraded[/]",
        "Progressing": "[yellow]Progressing[/]",
        "Missing": "[yellow]Missing[/]",
    }.get(value, value or "-")
