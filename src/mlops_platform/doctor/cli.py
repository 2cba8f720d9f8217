"""`mlopsctl doctor`: the report as a table or --json; exit 0 when nothing needs the operator, else 1."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from ..cli_options import fail


def register(app: typer.Typer) -> None:
    @app.command()
    def doctor(
        inventory: Annotated[
            str | None,
            typer.Option("--inventory", "-i", envvar="MLOPS_INVENTORY", help="Inventory of the target."),
        ] = None,
        kubeconfig: Annotated[
            str | None,
            typer.Option("--kubeconfig", envvar="MLOPS_KUBECONFIG", help="Admin kubeconfig of the target."),
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")] = False,
    ) -> None:
        """Report what drifted from the config and what needs the operator (read-only)."""
        from ..api import Platform
        from ..errors import MlopsError
        from .checks import run_doctor

        try:
            report = run_doctor(Platform(inventory=inventory, kubeconfig=kubeconfig))
        except MlopsError as e:
            raise fail(str(e), e.exit_code) from None
        if as_json:
            typer.echo(json.dumps(report.to_dict(), indent=2))
        else:
            from rich.console import Console
            from rich.markup import escape
            from rich.table import Table

            table = Table("check", "state", "detail", title="mlopsctl doctor")
            style = {"ok": "green", "attention": "bold red", "skipped": "dim"}
            for f in report.findings:
                table.add_row(f.check, f"[{style[f.state]}]{f.state}[/]", escape(f.detail))
            Console().print(table)
        raise typer.Exit(1 if report.needs_operator else 0)
