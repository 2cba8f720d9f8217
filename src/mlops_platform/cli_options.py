"""The options every mlopsctl command that reads a target shares (cli.py, backup/cli.py), and
how every command reports an error."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

InventoryOpt = Annotated[
    str | None,
    typer.Option(
        "--inventory",
        "-i",
        envvar="MLOPS_INVENTORY",
        help="Inventory of the target: inventory/local (default) or inventory/openstack.",
    ),
]
KubeconfigOpt = Annotated[
    str | None,
    typer.Option(
        "--kubeconfig",
        envvar="MLOPS_KUBECONFIG",
        help="Admin kubeconfig to use instead of the inventory's mlops_kubeconfig.",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout (for scripts).")]


def fail(message: str, code: int) -> typer.Exit:
    """Report an error as every command does: one line on stderr and, when the command line asked
    for --json, one JSON object on stdout too ({"error", "exit_code"}), so a script always gets
    JSON. Returns the Exit to raise."""
    typer.echo(f"error: {message}", err=True)
    if "--json" in sys.argv[1:]:
        typer.echo(json.dumps({"error": message, "exit_code": code}))
    return typer.Exit(code)
