"""`mlopsctl backup`, `mlopsctl backups` and `mlopsctl restore`.

The commands read the target's `mlops_backup` settings from the inventory; flags override
them. Heavy imports (kubernetes, minio, cryptography) happen inside the commands.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated, Any

import typer

from ..cli_options import InventoryOpt, JsonOpt, KubeconfigOpt, fail

StoreOpt = Annotated[
    str | None,
    typer.Option("--store", help="Backup store: file:///path or s3://bucket/prefix (mlops_backup.store)."),
]
EndpointOpt = Annotated[str | None, typer.Option("--endpoint", help="S3 endpoint URL of an s3:// store.")]
KeyOpt = Annotated[str | None, typer.Option("--key", help="Backup key file (mlops_backup.key_file).")]


def _context(inventory, kubeconfig, overrides: dict[str, Any]):
    from ..api import Platform
    from .settings import parse

    platform = Platform(inventory=inventory, kubeconfig=kubeconfig)
    config = platform.vars(["mlops_backup"]).get("mlops_backup") or {}
    if not isinstance(config, dict):
        from ..errors import MlopsError

        raise MlopsError(f"mlops_backup: {config!r} is not a dict")
    return platform, parse(config, overrides, platform.root)


def _connected(inventory, kubeconfig, overrides: dict[str, Any]):
    """The target's backup settings and a `kubernetes` package client of its cluster (the
    backup package reads and writes through its API classes)."""
    from kubernetes import config

    from ..errors import EXIT_BAD_INPUT, MlopsError

    platform, s = _context(inventory, kubeconfig, overrides)
    path = platform.kubeconfig()
    try:
        return s, config.new_client_from_config(config_file=str(path))
    except Exception as e:  # the loader raises ConfigException and yaml/OS errors
        raise MlopsError(f"cannot load kubeconfig {path}: {e}", exit_code=EXIT_BAD_INPUT) from e


def _run(fn):
    from ..errors import MlopsError

    try:
        return fn()
    except MlopsError as e:
        raise fail(str(e), e.exit_code) from None


def _mib(n: int) -> str:
    return f"{n / 1048576:.2f} MiB"


def register(app: typer.Typer) -> None:
    @app.command()
    def backup(
        store: StoreOpt = None,
        endpoint: EndpointOpt = None,
        key: KeyOpt = None,
        keep: Annotated[
            int | None, typer.Option("--keep", help="Backups to keep (mlops_backup.keep).", min=1)
        ] = None,
        inventory: InventoryOpt = None,
        kubeconfig: KubeconfigOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Back up what Git cannot rebuild: credentials, history, Applications, buckets, database."""

        def go():
            from . import create, load_key, new_id
            from .database import cnpg_backup
            from .settings import backup_store, bucket_stores

            overrides = {"store": store, "endpoint": endpoint, "key_file": key, "keep": keep}
            s, api_client = _connected(inventory, kubeconfig, overrides)
            target = backup_store(s)
            database = None
            if s.database:
                db = s.database

                def database():
                    name = f"{db['cluster']}-{new_id().lower()}"
                    return cnpg_backup(api_client, db["namespace"], db["cluster"], name)

            return create(
                api_client,
                target,
                load_key(s.key_file, create=True),
                buckets=bucket_stores(s, api_client),
                database=database,
                keep=s.keep,
            )

        info = _run(go)
        if as_json:
            typer.echo(json.dumps(asdict(info), indent=2))
            return
        typer.echo(
            f"backup {info.id}: {info.objects} objects ({_mib(info.objects_bytes)} encrypted), "
            f"{info.artifacts} artifacts ({_mib(info.artifacts_bytes)}, {_mib(info.copied_bytes)} copied now)"
            + (f", database backup {info.database['backup_id']}" if info.database else "")
            + f" in {info.seconds:.1f} s"
        )

    @app.command()
    def backups(
        store: StoreOpt = None,
        endpoint: EndpointOpt = None,
        inventory: InventoryOpt = None,
        kubeconfig: KubeconfigOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """List the backups in the store, oldest first."""

        def go():
            from . import list_backups
            from .settings import backup_store

            _platform, s = _context(inventory, kubeconfig, {"store": store, "endpoint": endpoint})
            return list_backups(backup_store(s), damaged)

        damaged: list[str] = []
        items = _run(go)
        for line in damaged:  # the others are listed
            typer.echo(f"warning: {line}", err=True)
        if as_json:
            typer.echo(json.dumps([asdict(b) for b in items], indent=2))
            return
        for b in items:
            typer.echo(
                f"{b.id}  {b.objects:4d} objects  {b.artifacts:5d} artifacts  {_mib(b.artifacts_bytes):>12}"
            )
        if not items:
            typer.echo("no backups")

    @app.command()
    def restore(
        backup_id: Annotated[
            str, typer.Argument(metavar="ID", help="The backup to restore (see `mlopsctl backups`).")
        ],
        store: StoreOpt = None,
        endpoint: EndpointOpt = None,
        key: KeyOpt = None,
        overwrite: Annotated[
            bool,
            typer.Option("--overwrite", help="Replace Secrets and ConfigMaps that exist with other values."),
        ] = False,
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="Report what would be restored; change nothing.")
        ] = False,
        inventory: InventoryOpt = None,
        kubeconfig: KubeconfigOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Restore a backup's objects and buckets; what exists and is equal is left alone."""

        def go():
            from . import load_key
            from . import restore as do_restore
            from .settings import backup_store, bucket_stores

            s, api_client = _connected(
                inventory, kubeconfig, {"store": store, "endpoint": endpoint, "key_file": key}
            )
            return do_restore(
                api_client,
                backup_store(s),
                backup_id,
                load_key(s.key_file, create=False),
                buckets=lambda: bucket_stores(s, api_client),
                overwrite=overwrite,
                dry_run=dry_run,
            )

        result = _run(go)
        if as_json:
            typer.echo(json.dumps(asdict(result), indent=2))
            return
        r = result.objects
        typer.echo(
            f"{'would restore' if dry_run else 'restored'} {result.id}: {len(r.created)} created, "
            f"{len(r.updated)} updated, {len(r.unchanged)} unchanged, {len(r.conflicts)} conflicts; "
            f"{result.artifacts} artifacts ({_mib(result.artifacts_bytes)}) in {result.seconds:.1f} s"
        )
        for note in result.notes:
            typer.echo(f"note: {note}")

    @app.command("backup-schedule")
    def backup_schedule(
        on_calendar: Annotated[
            str, typer.Option("--on-calendar", help="When to back up, in systemd's calendar syntax.")
        ] = "daily",
        remove_it: Annotated[bool, typer.Option("--remove", help="Remove the schedule.")] = False,
        dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the units; write nothing.")] = False,
        inventory: InventoryOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Schedule `mlopsctl backup` with a systemd user timer on this machine (where the backup key is)."""
        from .schedule import install, remove, unit_dir, units

        directory = unit_dir()
        if remove_it:
            gone = [] if dry_run else _run(lambda: remove(directory))
            if as_json:
                typer.echo(json.dumps({"directory": str(directory), "removed": gone}, indent=2))
                return
            typer.echo(f"removed {', '.join(gone)}" if gone else "no schedule to remove")
            if gone:
                typer.echo("then: systemctl --user disable --now mlopsctl-backup.timer")
            return
        files = _run(lambda: units(inventory or "inventory/local", on_calendar))
        changed = [] if dry_run else _run(lambda: install(files, directory))
        if as_json:
            typer.echo(
                json.dumps({"directory": str(directory), "written": changed, "units": files}, indent=2)
            )
            return
        if dry_run:
            for name, text in files.items():
                typer.echo(f"# {directory / name}\n{text}")
            return
        typer.echo(
            f"wrote {', '.join(changed)} in {directory}" if changed else f"schedule unchanged ({directory})"
        )
        typer.echo(
            "enable it: systemctl --user daemon-reload && systemctl --user enable --now mlopsctl-backup.timer"
        )
