"""The options every mlopsctl command that reads a target shares (cli.py, backup/cli.py)."""

from __future__ import annotations

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
