"""mlopsctl: stand up, inspect and operate the MLOps platform from a terminal.

Only typer is imported at module level so that `mlopsctl --help` is instant; the
API (ansible-runner, kubernetes, rich tables) is imported inside the commands.
Exit codes: 0 ok, 1 the run failed, 2 bad input or configuration, 3 the cluster is
busy (another run holds its lock). `plan --detailed-exitcode` follows `terraform plan`:
0 nothing to change, 1 error, 2 changes pending (3 busy). Every error is one line on
stderr, never a traceback (MLOPS_DEBUG=1 shows one for an unexpected crash).
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from .cli_options import InventoryOpt, JsonOpt, KubeconfigOpt, fail

if TYPE_CHECKING:
    from .api import Platform
    from .results import RunResult

app = typer.Typer(
    name="mlopsctl",
    help="Stand up, inspect and operate the MLOps platform (Terraform, Kubespray, ArgoCD via Ansible).",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _show_version(value: bool) -> None:
    """--version: the package's, the collection's (galaxy.yml of the checkout it runs) and the pins'."""
    if not value:
        return
    from . import __version__
    from .config import find_root
    from .errors import MlopsError

    typer.echo(f"mlopsctl (mlops_platform) {__version__}")
    try:
        root = find_root()
    except MlopsError as e:
        typer.echo(f"collection: not found ({e})")
        raise typer.Exit() from None
    galaxy = (root / "galaxy.yml").read_text()
    collection = next(
        (line.split(":", 1)[1].strip() for line in galaxy.splitlines() if line.startswith("version:")), "?"
    )
    typer.echo(f"collection mlops.platform {collection} ({root})")
    for line in (root / "versions.env").read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            typer.echo(f"  {line.strip()}")
    raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Show the versions and pins, then exit."
        ),
    ] = False,
) -> None:
    """Stand up, inspect and operate the MLOps platform (Terraform, Kubespray, ArgoCD via Ansible)."""


StageOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--stage",
        "-s",
        help="Run only this stage (repeatable): infra, nodes, cluster, kubeconfig, "
        "gitops, platform, workflows, environments.",
    ),
]
ExtraVarOpt = Annotated[
    list[str] | None, typer.Option("--extra-var", "-e", help="Override a setting: NAME=VALUE (repeatable).")
]
VerboseOpt = Annotated[
    int, typer.Option("--verbose", "-v", count=True, help="Ansible verbosity (-v, -vv ...).")
]


# -- helpers -------------------------------------------------------------------


def _fail(message: str, code: int) -> typer.Exit:
    return fail(message, code)


def _pairs(items: list[str] | None, what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise typer.BadParameter(f"{item!r} is not NAME=VALUE", param_hint=what)
        out[name.strip()] = value
    return out


def _platform(inventory: str | None, kubeconfig: str | None) -> Platform:
    from .api import Platform

    return Platform(inventory=inventory, kubeconfig=kubeconfig)


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))


def _execute(action, *, as_json: bool, title: str) -> RunResult:
    """Run an API call with live progress (unless --json); MlopsError -> exit code."""
    from .errors import MlopsError

    try:
        if as_json:
            return action(None)
        from .progress import RunProgress

        with RunProgress(title) as progress:
            return action(progress.on_event)
    except MlopsError as e:
        raise _fail(str(e), e.exit_code) from None


def _finish(result: RunResult, *, as_json: bool, show_changes: bool = False, detailed: bool = False) -> None:
    if as_json:
        _print_json(result.to_dict())
    else:
        from .progress import print_run_summary

        print_run_summary(result, show_changes=show_changes)
    if detailed:  # terraform plan's convention
        raise typer.Exit(1 if not result.ok else (2 if result.changed else 0))
    if not result.ok:
        raise typer.Exit(result.exit_code)


def _guard(fn):
    """Turn MlopsError into its exit code outside _execute (reads, argument checks)."""
    from .errors import MlopsError

    try:
        return fn()
    except MlopsError as e:
        raise _fail(str(e), e.exit_code) from None


# -- commands ------------------------------------------------------------------


@app.command()
def up(
    stage: StageOpt = None,
    extra_var: ExtraVarOpt = None,
    check: Annotated[bool, typer.Option("--check", help="Dry run: report what would change.")] = False,
    diff: Annotated[bool, typer.Option("--diff", help="Show the changes made.")] = False,
    inventory: InventoryOpt = None,
    kubeconfig: KubeconfigOpt = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = 0,
) -> None:
    """Converge the platform: every stage of site.yml in order (or only --stage ones)."""
    from .stages import select_stages

    extra = _pairs(extra_var, "--extra-var")
    stage = _guard(lambda: select_stages(stage)) if stage else None
    platform = _guard(lambda: _platform(inventory, kubeconfig))
    result = _execute(
        lambda cb: platform.up(
            stage, extra_vars=extra, check=check, diff=diff, on_event=cb, verbosity=verbose
        ),
        as_json=as_json,
        title="up" + (" (check)" if check else ""),
    )
    _finish(result, as_json=as_json, show_changes=diff or check)


@app.command()
def plan(
    stage: StageOpt = None,
    extra_var: ExtraVarOpt = None,
    detailed_exitcode: Annotated[
        bool,
        typer.Option(
            "--detailed-exitcode",
            help="Exit 0 when nothing would change, 2 when something would, 1 on error (as terraform plan).",
        ),
    ] = False,
    inventory: InventoryOpt = None,
    kubeconfig: KubeconfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show what `up` would change (check mode with diffs, secret values hidden); applies nothing."""
    from .stages import select_stages

    extra = _pairs(extra_var, "--extra-var")
    stage = _guard(lambda: select_stages(stage)) if stage else None
    platform = _guard(lambda: _platform(inventory, kubeconfig))
    try:
        result = _execute(
            lambda cb: platform.plan(stage, extra_vars=extra, on_event=cb), as_json=as_json, title="plan"
        )
    except typer.Exit as e:
        if detailed_exitcode and e.exit_code == 2:
            raise typer.Exit(1) from None  # 2 means "changes pending" here
        raise
    _finish(result, as_json=as_json, show_changes=True, detailed=detailed_exitcode)


@app.command()
def destroy(
    delete_data: Annotated[bool, typer.Option("--delete-data", help="Also delete the data volume.")] = False,
    confirm: Annotated[
        str | None, typer.Option("--confirm", help="The data volume's name, to confirm --delete-data.")
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before destroying.")] = False,
    inventory: InventoryOpt = None,
    kubeconfig: KubeconfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Tear the platform down; the data volume is kept unless --delete-data."""
    platform = _guard(lambda: _platform(inventory, kubeconfig))
    interactive = sys.stdin.isatty() and not as_json
    if delete_data and confirm is None:
        if not interactive:
            raise _fail("--delete-data needs --confirm <data volume name> when not run interactively", 2)
        volume = _guard(platform.data_volume_name)
        confirm = typer.prompt(f"This deletes the data volume for good. Type its name ({volume}) to confirm")
    elif not yes and not delete_data:
        if not interactive:
            raise _fail("destroy needs --yes when not run interactively", 2)
        if not typer.confirm(f"Destroy the platform of {platform.inventory}? The data volume is kept."):
            raise _fail("nothing destroyed", 2)
    result = _execute(
        lambda cb: platform.destroy(keep_data=not delete_data, confirm=confirm, on_event=cb),
        as_json=as_json,
        title="destroy",
    )
    _finish(result, as_json=as_json)


@app.command()
def status(
    inventory: InventoryOpt = None, kubeconfig: KubeconfigOpt = None, as_json: JsonOpt = False
) -> None:
    """Show the live state: cluster, Applications, environments, WorkflowTemplates, credentials."""
    platform = _guard(lambda: _platform(inventory, kubeconfig))
    state = _guard(platform.status)
    if as_json:
        _print_json(state.to_dict())
    else:
        from .progress import print_status

        print_status(state)
    if not state.cluster.reachable:
        raise typer.Exit(1)


@app.command()
def promote(
    from_env: Annotated[
        str, typer.Argument(metavar="FROM", help="Source environment, e.g. staging; '-' for a new build.")
    ],
    to_env: Annotated[
        str, typer.Argument(metavar="TO", help="Target environment: the next one, e.g. canary.")
    ],
    version: Annotated[
        str | None, typer.Option("--version", help="Model version (default: the one FROM runs).")
    ] = None,
    image_tag: Annotated[
        str | None, typer.Option("--image-tag", help="Image tag (default: the one FROM runs).")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Promote even if FROM has not run the version healthy.")
    ] = False,
    inventory: InventoryOpt = None,
    kubeconfig: KubeconfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Promote a version from one environment to the next (staging -> canary -> production).

    A new build enters the first environment with FROM '-': promote - staging --version 4 --image-tag v4.
    """
    source = None if from_env == "-" else from_env
    platform = _guard(lambda: _platform(inventory, kubeconfig))
    result = _execute(
        lambda cb: platform.promote(source, to_env, version, image_tag=image_tag, force=force, on_event=cb),
        as_json=as_json,
        title=f"promote {from_env} -> {to_env}",
    )
    _finish(result, as_json=as_json)


@app.command()
def rollback(
    env: Annotated[str, typer.Argument(help="Environment to roll back to its previous version.")],
    inventory: InventoryOpt = None,
    kubeconfig: KubeconfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Return an environment to the version it ran before its last promotion."""
    platform = _guard(lambda: _platform(inventory, kubeconfig))
    result = _execute(
        lambda cb: platform.rollback(env, on_event=cb), as_json=as_json, title=f"rollback {env}"
    )
    _finish(result, as_json=as_json)


@app.command()
def train(
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="Workflow parameter NAME=VALUE (repeatable).")
    ] = None,
    timeout: Annotated[
        int | None, typer.Option("--timeout", help="Seconds to wait for the workflow.")
    ] = None,
    inventory: InventoryOpt = None,
    kubeconfig: KubeconfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run the train-model workflow and follow it step by step: train, evaluate, register in
    MLflow, then (its deploy-to) build the version's image and deploy it. Ctrl-C stops the workflow."""
    parameters = _pairs(param, "--param")
    platform = _guard(lambda: _platform(inventory, kubeconfig))

    def show(step: dict) -> None:
        message = f" ({step['message']})" if step.get("message") else ""
        typer.echo(f"  step {step['name']}: {step['phase']}{message}", err=True)

    result = _execute(
        lambda cb: platform.train(
            parameters, timeout=timeout, on_event=cb, on_step=None if as_json else show
        ),
        as_json=as_json,
        title="train",
    )
    if result.outputs and not as_json:
        typer.echo(", ".join(f"{k}: {v}" for k, v in sorted(result.outputs.items())))
    _finish(result, as_json=as_json)


@app.command()
def predict(
    env: Annotated[str, typer.Argument(help="Environment whose model service answers, e.g. staging.")],
    data: Annotated[
        str | None,
        typer.Option("--data", "-d", help="Request body: JSON, or @FILE (default: one sample digit)."),
    ] = None,
    path: Annotated[str, typer.Option("--path", help="Path of the request.")] = "/predict",
    inventory: InventoryOpt = None,
    kubeconfig: KubeconfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Send a prediction request to an environment's model service and print its answer."""
    body = None
    if data is not None:
        text = data
        if data.startswith("@"):
            text = _guard(lambda: _read_file(data[1:], "--data"))
        try:
            body = json.loads(text)
        except ValueError as e:
            raise _fail(f"--data is not JSON: {e}", 2) from None
    platform = _guard(lambda: _platform(inventory, kubeconfig))
    answer = _guard(lambda: platform.predict(env, body, path=path))
    if as_json:
        _print_json(answer.to_dict())
    else:
        typer.echo(f"{env} ({answer.namespace}/{answer.service}) answered {answer.status}:")
        text = answer.answer if isinstance(answer.answer, str) else json.dumps(answer.answer, indent=2)
        typer.echo(text)
    if not answer.ok:
        raise typer.Exit(1)


def _read_file(path: str, what: str) -> str:
    from pathlib import Path

    from .errors import EXIT_BAD_INPUT, MlopsError

    try:
        return Path(path).read_text()
    except OSError as e:
        raise MlopsError(f"{what}: cannot read {path}: {e.strerror}", exit_code=EXIT_BAD_INPUT) from None


@app.command()
def kubeconfig(
    export: Annotated[bool, typer.Option("--export", help="Print `export KUBECONFIG=...` for eval.")] = False,
    inventory: InventoryOpt = None,
    kubeconfig: KubeconfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Print the path of the target's admin kubeconfig (or an export line)."""
    import shlex

    platform = _guard(lambda: _platform(inventory, kubeconfig))
    path = _guard(platform.kubeconfig)
    if as_json:
        _print_json({"kubeconfig": str(path)})
    elif export:
        typer.echo(f"export KUBECONFIG={shlex.quote(str(path))}")
    else:
        typer.echo(str(path))


@app.command()
def credentials(
    app_name: Annotated[
        str,
        typer.Argument(
            metavar="APP",
            help="The app whose generated credential to print, e.g. minio, postgresql, grafana.",
        ),
    ],
    inventory: InventoryOpt = None,
    kubeconfig: KubeconfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Print the generated credential of one app (values are shown only by this command)."""
    platform = _guard(lambda: _platform(inventory, kubeconfig))
    values = _guard(lambda: platform.credentials(app_name))
    if as_json:
        _print_json({"app": app_name, "values": values})
    else:
        for key, value in values.items():
            typer.echo(f"{key}={value}")


def _register_subcommands() -> None:
    from .backup.cli import register as register_backup
    from .doctor.cli import register as register_doctor

    register_backup(app)
    register_doctor(app)


_register_subcommands()


def main() -> None:
    """Console-script entry point (pyproject: mlopsctl = "mlops_platform.cli:main").

    An exception nobody expected still ends in one line (and exit 1), not a traceback.
    """
    import os

    try:
        app(prog_name="mlopsctl", standalone_mode=True)
    except KeyboardInterrupt:
        fail("interrupted", 130)
        sys.exit(130)
    except Exception as e:  # noqa: BLE001 - the last line of defence against tracebacks
        if os.environ.get("MLOPS_DEBUG"):
            raise
        fail(f"{type(e).__name__}: {e} (an unexpected failure; MLOPS_DEBUG=1 shows the traceback)", 1)
        sys.exit(1)


if __name__ == "__main__":
    main()
