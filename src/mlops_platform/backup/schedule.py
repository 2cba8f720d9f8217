"""The backup schedule: a systemd user timer on the operator's machine, where the backup key lives.

The key that encrypts the credentials never goes into the cluster it protects, so the
scheduled backup runs where the key is: a `mlopsctl backup` service started by a timer
(`OnCalendar`, `Persistent=true` so a missed run happens at the next boot). The database
has its own schedule in the cluster (CloudNativePG's ScheduledBackup, WAL archived
continuously); this one adds the platform's objects and buckets.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from ..errors import EXIT_BAD_INPUT, MlopsError

UNIT = "mlopsctl-backup"
CALENDAR = re.compile(r"^[A-Za-z0-9*:,./~ -]{1,100}$")


def check_calendar(on_calendar: str) -> None:
    """Refuse what systemd's own parser (systemd-analyze calendar) refuses, before any unit is written.

    The characters are checked first (the expression goes into a unit file); where systemd-analyze
    is not installed the timer would not run either, so the check stops there.
    """
    problem = None
    if not CALENDAR.match(on_calendar):
        problem = "not a systemd calendar expression"
    elif shutil.which("systemd-analyze"):
        parsed = subprocess.run(
            ["systemd-analyze", "calendar", on_calendar],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if parsed.returncode != 0:
            problem = "systemd does not read it as a calendar expression"
    if problem:
        raise MlopsError(
            f"--on-calendar {on_calendar!r}: {problem} (e.g. daily, hourly, '*-*-* 02:30', 'Mon..Fri 22:00')",
            exit_code=EXIT_BAD_INPUT,
        )


def units(inventory: str, on_calendar: str, mlopsctl: str | None = None) -> dict[str, str]:
    """The .service and .timer files for a backup of `inventory` at `on_calendar` (systemd syntax)."""
    check_calendar(on_calendar)
    binary = mlopsctl or str(Path(sys.argv[0]).resolve())
    inv = str(Path(inventory).resolve())
    service = f"""[Unit]
Description=Back up the MLOps platform of {inv}
After=network-online.target

[Service]
Type=oneshot
WorkingDirectory={shlex.quote(str(Path(inv).parents[1]))}
ExecStart={shlex.quote(binary)} backup --inventory {shlex.quote(inv)}
"""
    timer = f"""[Unit]
Description=Scheduled backup of the MLOps platform ({on_calendar})

[Timer]
OnCalendar={on_calendar}
Persistent=true
RandomizedDelaySec=300

[Install]
WantedBy=timers.target
"""
    return {f"{UNIT}.service": service, f"{UNIT}.timer": timer}


def unit_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "systemd" / "user"


def install(files: dict[str, str], directory: Path) -> list[str]:
    """Write the units that differ; return their names (none on a re-run)."""
    directory.mkdir(parents=True, exist_ok=True)
    changed = []
    for name, text in files.items():
        path = directory / name
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            changed.append(name)
    return changed


def remove(directory: Path) -> list[str]:
    gone = []
    for name in (f"{UNIT}.service", f"{UNIT}.timer"):
        path = directory / name
        if path.exists():
            path.unlink()
            gone.append(name)
    return gone
